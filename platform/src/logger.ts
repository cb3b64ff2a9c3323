import { trace } from "@opentelemetry/api";
import { pino, type Logger, type DestinationStream } from "pino";

export type { Logger } from "pino";

/**
 * Keys whose values never reach a log line, wherever they sit in a logged object.
 * Redaction happens here, at the source, so no sink has to be trusted with them.
 */
export const REDACTED_KEYS = [
  "password",
  "newPassword",
  "accessToken",
  "refreshToken",
  "access_token",
  "refresh_token",
  "token",
  "authorization",
  "cardNumber",
  "card_number",
  "cvc",
  "clientSecret",
  "client_secret",
  "email",
  "secret",
];

function redactPaths(): string[] {
  const paths: string[] = [];
  for (const key of REDACTED_KEYS) {
    paths.push(key, `*.${key}`, `*.*.${key}`);
  }
  return paths;
}

/**
 * JSON logger for one service. Every line written while a span is active carries
 * `trace_id` and `span_id`, so a log line leads straight to its trace in Jaeger.
 */
export function createLogger(options: { service: string; level?: string; destination?: DestinationStream }): Logger {
  return pino(
    {
      level: options.level ?? "info",
      base: { service: options.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: redactPaths(), censor: "[redacted]" },
      mixin() {
        const span = trace.getActiveSpan();
        if (!span) return {};
        const { traceId, spanId } = span.spanContext();
        return { trace_id: traceId, span_id: spanId };
      },
    },
    options.destination,
  );
}

/** Masks an email for logs: "jane.doe@example.com" -> "j***@example.com". */
export function maskEmail(email: string): string {
  const at = email.indexOf("@");
  if (at <= 0) return "***";
  return `${email[0]}***${email.slice(at)}`;
}
