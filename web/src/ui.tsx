import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { toFriendlyError, type FriendlyError } from "./errors.js";
import { navigate } from "./router.js";

/** An error a customer can act on: the sentence, a retry button when retrying can help, a sign-in link when the session ended. */
export function ErrorNotice({ error, onRetry }: { error: FriendlyError | undefined; onRetry?: () => void }) {
  const [wait, setWait] = useState(error?.retryAfterSeconds ?? 0);
  useEffect(() => {
    setWait(error?.retryAfterSeconds ?? 0);
    if (!error?.retryAfterSeconds) return;
    const timer = setInterval(() => setWait((seconds) => Math.max(0, seconds - 1)), 1_000);
    return () => clearInterval(timer);
  }, [error]);
  if (!error) return null;
  return (
    <div class={`notice notice-error notice-${error.kind}`} role="alert">
      <p>{error.message}</p>
      {error.retryable && onRetry && (
        <button type="button" onClick={onRetry} disabled={wait > 0}>
          {wait > 0 ? `Try again in ${wait}s` : "Try again"}
        </button>
      )}
      {error.kind === "session-expired" && (
        <button type="button" onClick={() => navigate("#/signin")}>
          Sign in
        </button>
      )}
    </div>
  );
}

export interface Async<T> {
  data: T | undefined;
  error: FriendlyError | undefined;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when `deps` change (aborting the previous run) and keeps the latest result or friendly error. */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data: T | undefined; error: FriendlyError | undefined; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    const controller = new AbortController();
    setState((current) => ({ ...current, loading: true, error: undefined }));
    load(controller.signal).then(
      (data) => !controller.signal.aborted && setState({ data, error: undefined, loading: false }),
      (err: unknown) => !controller.signal.aborted && setState((current) => ({ ...current, error: toFriendlyError(err), loading: false })),
    );
    return () => controller.abort();
  }, [...deps, attempt]);
  const reload = useCallback(() => setAttempt((n) => n + 1), []);
  return { ...state, reload };
}

/** The value, `delayMs` after it last changed. */
export function useDebounced<T>(value: T, delayMs: number): T {
  const [debounced, setDebounced] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return debounced;
}

/** A page: its heading takes focus on navigation so screen readers and keyboards start at the new content. */
export function Page({ title, children }: { title: string; children: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · shopmesh`;
    heading.current?.focus({ preventScroll: true });
  }, [title]);
  return (
    <section class="page" aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1} ref={heading}>
        {title}
      </h1>
      {children}
    </section>
  );
}

export function Field(props: {
  label: string;
  name: string;
  type?: string;
  value: string;
  onInput: (value: string) => void;
  required?: boolean;
  autoComplete?: string;
  hint?: string;
  inputMode?: "numeric" | "decimal" | "email" | "text";
  pattern?: string;
  minLength?: number;
  maxLength?: number;
}) {
  const id = `field-${props.name}`;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <input
        id={id}
        name={props.name}
        type={props.type ?? "text"}
        value={props.value}
        onInput={(event) => props.onInput((event.target as HTMLInputElement).value)}
        required={props.required}
        autoComplete={props.autoComplete}
        inputMode={props.inputMode}
        pattern={props.pattern}
        minLength={props.minLength}
        maxLength={props.maxLength}
        aria-describedby={props.hint ? `${id}-hint` : undefined}
      />
      {props.hint && (
        <small id={`${id}-hint`} class="hint">
          {props.hint}
        </small>
      )}
    </div>
  );
}
