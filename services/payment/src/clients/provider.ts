import {
  BrokenCircuitError,
  ConsecutiveBreaker,
  ExponentialBackoff,
  TaskCancelledError,
  TimeoutStrategy,
  circuitBreaker,
  handleWhen,
  retry,
  timeout,
  wrap,
  type IPolicy,
} from "cockatiel";
import { ATTR_HTTP_REQUEST_METHOD } from "@opentelemetry/semantic-conventions";
import { ATTR_URL_TEMPLATE } from "@opentelemetry/semantic-conventions/incubating";
import { ATTR_SHOPMESH_PAYMENT_ID, inSpan, SPANS, UnavailableError, type Logger } from "@shopmesh/platform";
import { currentTraceHeaders } from "@shopmesh/platform/data";

/** The provider's view of an intent, as much as payment needs. */
export interface ProviderIntent {
  id: string;
  clientSecret: string;
  checkoutUrl: string;
  status: string;
}

/** The provider answered, and said no (4xx): retrying the same request will not help. */
export class ProviderRejectedError extends Error {
  override name = "ProviderRejectedError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Network failure, timeout, 429 or 5xx: worth another try. */
class TransientProviderError extends Error {
  override name = "TransientProviderError";
}

export interface ProviderClient {
  /** Idempotent by order id: the same order always gets the same intent. */
  createIntent(input: { orderId: string; paymentId: string; amountMinor: bigint; currency: string }): Promise<ProviderIntent>;
  getIntent(intentId: string): Promise<ProviderIntent>;
  /** Idempotent per intent and key; `refundId` comes back in the charge.refunded webhook. */
  refund(intentId: string, input: { amountMinor: bigint; idempotencyKey: string; refundId: string }): Promise<{ id: string }>;
  /** Cancels an unconfirmed intent; ProviderRejectedError(409) when it was confirmed already. */
  cancel(intentId: string): Promise<ProviderIntent>;
}

interface IntentBody {
  id: string;
  client_secret: string;
  checkout_url: string;
  status: string;
}

const toIntent = (body: IntentBody): ProviderIntent => ({ id: body.id, clientSecret: body.client_secret, checkoutUrl: body.checkout_url, status: body.status });

/**
 * The provider's HTTP API behind a per-attempt timeout, retries with exponential backoff for
 * transient faults (every write carries an idempotency key, so a retry cannot double-charge)
 * and a circuit breaker that fails fast while the provider is down.
 */
export function createProviderClient(options: { baseUrl: string; timeoutMs: number; logger: Logger; maxAttempts?: number }): ProviderClient {
  const transient = handleWhen((err) => err instanceof TransientProviderError || err instanceof TaskCancelledError);
  const policy: IPolicy = wrap(
    retry(transient, { maxAttempts: options.maxAttempts ?? 2, backoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 1_000 }) }),
    circuitBreaker(transient, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) }),
    timeout(options.timeoutMs, TimeoutStrategy.Aggressive),
  );

  async function call<T>(method: "GET" | "POST", path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    try {
      return await policy.execute(async ({ signal }) => {
        let response: Response;
        try {
          response = await fetch(`${options.baseUrl}${path}`, {
            method,
            headers: { "content-type": "application/json", ...currentTraceHeaders(), ...headers },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
            signal,
          });
        } catch (err) {
          throw new TransientProviderError(`provider unreachable: ${(err as Error).message}`);
        }
        const text = await response.text();
        if (response.ok) return JSON.parse(text) as T;
        if (response.status === 429 || response.status >= 500) throw new TransientProviderError(`provider answered ${response.status}`);
        let error = { code: "unknown", message: text.slice(0, 200) };
        try {
          error = (JSON.parse(text) as { error: typeof error }).error ?? error;
        } catch {
          // not JSON: keep the text
        }
        throw new ProviderRejectedError(response.status, error.code, error.message);
      });
    } catch (err) {
      if (err instanceof ProviderRejectedError) throw err;
      options.logger.warn({ err, path }, "payment provider call failed");
      if (err instanceof BrokenCircuitError) throw new UnavailableError("payment provider unavailable (circuit open)");
      throw new UnavailableError("payment provider unavailable");
    }
  }

  return {
    async createIntent(input) {
      const attributes = { [ATTR_HTTP_REQUEST_METHOD]: "POST", [ATTR_URL_TEMPLATE]: "/v1/payment_intents", [ATTR_SHOPMESH_PAYMENT_ID]: input.paymentId };
      return inSpan(SPANS.providerCall.name, { kind: "client", attributes }, async () => {
        // Providers echo an intent's metadata on its webhooks: carrying the trace context there
        // lets the webhook (a new HTTP request from the provider) continue the checkout's trace.
        const body = await call<IntentBody>(
          "POST",
          "/v1/payment_intents",
          {
            amount_minor: Number(input.amountMinor),
            currency: input.currency,
            order_id: input.orderId,
            metadata: { payment_id: input.paymentId, ...currentTraceHeaders() },
          },
          { "Idempotency-Key": input.orderId },
        );
        return toIntent(body);
      });
    },
    async getIntent(intentId) {
      return toIntent(await call<IntentBody>("GET", `/v1/payment_intents/${encodeURIComponent(intentId)}`));
    },
    async refund(intentId, input) {
      return call<{ id: string }>(
        "POST",
        `/v1/payment_intents/${encodeURIComponent(intentId)}/refund`,
        { amount_minor: Number(input.amountMinor), metadata: { refund_id: input.refundId } },
        { "Idempotency-Key": input.idempotencyKey },
      );
    },
    async cancel(intentId) {
      return toIntent(await call<IntentBody>("POST", `/v1/payment_intents/${encodeURIComponent(intentId)}/cancel`, {}));
    },
  };
}
