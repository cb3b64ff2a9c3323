import { Code, ConnectError } from "@connectrpc/connect";

/** What a customer reads when a call fails, and whether trying again can help. */
export interface FriendlyError {
  kind: "out-of-stock" | "rate-limited" | "session-expired" | "network" | "invalid" | "forbidden" | "not-found" | "conflict" | "other";
  message: string;
  retryable: boolean;
  /** Seconds until a rate-limited call may pass, when the edge said so. */
  retryAfterSeconds?: number;
}

/** Connect codes to sentences; never the raw error body. `context` tunes a few messages (a failed sign-in is not an expired session). */
export function toFriendlyError(err: unknown, context: "default" | "sign-in" = "default"): FriendlyError {
  const error = ConnectError.from(err);
  switch (error.code) {
    case Code.FailedPrecondition:
      return {
        kind: "out-of-stock",
        message: /stock|available|reserv/i.test(error.rawMessage)
          ? "Sorry, we don't have enough of an item in stock. Lower the quantity or remove it, then try again."
          : `That can't be done right now: ${sentence(error.rawMessage)}`,
        retryable: false,
      };
    case Code.ResourceExhausted: {
      const retryAfterSeconds = retryAfter(error);
      return {
        kind: "rate-limited",
        message: `You're going a little fast. Please wait ${retryAfterSeconds ? `${retryAfterSeconds} second${retryAfterSeconds === 1 ? "" : "s"}` : "a moment"} and try again.`,
        retryable: true,
        ...(retryAfterSeconds ? { retryAfterSeconds } : {}),
      };
    }
    case Code.Unauthenticated:
      return context === "sign-in"
        ? { kind: "invalid", message: "That email and password don't match an account.", retryable: false }
        : { kind: "session-expired", message: "Your session has expired. Please sign in again.", retryable: false };
    case Code.PermissionDenied:
      return { kind: "forbidden", message: "Your account isn't allowed to do that.", retryable: false };
    case Code.InvalidArgument:
      return { kind: "invalid", message: `Please check what you entered: ${sentence(error.rawMessage)}`, retryable: false };
    case Code.NotFound:
      return { kind: "not-found", message: "We couldn't find that. It may have been removed.", retryable: false };
    case Code.AlreadyExists:
      return {
        kind: "conflict",
        message: context === "sign-in" ? "An account with that email already exists. Try signing in." : "That already exists.",
        retryable: false,
      };
    case Code.Canceled:
      return { kind: "other", message: "The request was cancelled.", retryable: true };
    case Code.Unavailable:
    case Code.Unknown:
    case Code.DeadlineExceeded:
    case Code.Unimplemented:
      return { kind: "network", message: "We can't reach the shop right now. Check your connection and try again.", retryable: true };
    default:
      return { kind: "other", message: "Something went wrong on our side. Please try again.", retryable: true };
  }
}

/** The edge's x-ratelimit-reset (seconds), exposed through CORS and carried on the error's metadata. */
function retryAfter(error: ConnectError): number | undefined {
  const reset = Number(error.metadata.get("x-ratelimit-reset") ?? error.metadata.get("retry-after") ?? NaN);
  return Number.isFinite(reset) && reset > 0 ? Math.ceil(reset) : undefined;
}

/** A server message as a short sentence; JSON-looking text is never shown. */
function sentence(message: string): string {
  const text = message.trim();
  if (!text || /^[{[]/.test(text)) return "some details are not valid.";
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
