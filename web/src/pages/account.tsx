import { useState } from "preact/hooks";
import { register, session, signIn } from "../api.js";
import { toFriendlyError, type FriendlyError } from "../errors.js";
import { navigate, type Route } from "../router.js";
import { useStore } from "../store.js";
import { ErrorNotice, Field, Page } from "../ui.js";

/** Where to go after signing in: the page that sent the customer here, if it is one of ours. */
const nextOf = (route: Route) => {
  const next = route.query.get("next") ?? "";
  return next.startsWith("#/") ? next : "#/";
};

export function SignInPage({ route }: { route: Route }) {
  const { notice } = useStore(session);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<FriendlyError>();
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await signIn(email, password);
      navigate(nextOf(route));
    } catch (err) {
      setError(toFriendlyError(err, "sign-in"));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Page title="Sign in">
      {notice && (
        <p class="notice" role="status">
          {notice}
        </p>
      )}
      <form class="form" onSubmit={submit}>
        <Field label="Email" name="email" type="email" value={email} onInput={setEmail} required autoComplete="email" />
        <Field label="Password" name="password" type="password" value={password} onInput={setPassword} required autoComplete="current-password" />
        <ErrorNotice error={error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
      <p>
        New here? <a href={`#/register?next=${encodeURIComponent(nextOf(route))}`}>Create an account</a>
      </p>
    </Page>
  );
}

export function RegisterPage({ route }: { route: Route }) {
  const [displayName, setDisplayName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<FriendlyError>();
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await register(email, password, displayName);
      navigate(nextOf(route));
    } catch (err) {
      setError(toFriendlyError(err, "sign-in"));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Page title="Create an account">
      <form class="form" onSubmit={submit}>
        <Field label="Your name" name="displayName" value={displayName} onInput={setDisplayName} required autoComplete="name" maxLength={100} />
        <Field label="Email" name="email" type="email" value={email} onInput={setEmail} required autoComplete="email" />
        <Field
          label="Password"
          name="password"
          type="password"
          value={password}
          onInput={setPassword}
          required
          autoComplete="new-password"
          minLength={8}
          hint="At least 8 characters."
        />
        <ErrorNotice error={error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Creating…" : "Create account"}
        </button>
      </form>
      <p>
        Have an account? <a href={`#/signin?next=${encodeURIComponent(nextOf(route))}`}>Sign in</a>
      </p>
    </Page>
  );
}
