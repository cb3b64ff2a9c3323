import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { z } from "zod";
import type { Logger } from "@shopmesh/platform";
import { checkoutPage } from "./checkout-page.js";
import { createProvider, ProviderError, type Provider } from "./provider.js";
import { createWebhookSender, NORMAL_BEHAVIOUR, type DeliveryBehaviour, type WebhookSender } from "./webhooks.js";

export interface SimulatorOptions {
  webhookUrl: string;
  webhookSecret: string;
  webhookMaxAttempts: number;
  webhookInitialBackoffMs: number;
  slowCardDelayMs: number;
  /** Base URL for checkout links; the listening address when absent. */
  publicUrl?: string | undefined;
  logger: Logger;
}

export interface Simulator {
  provider: Provider;
  sender: WebhookSender;
  /** Resolves with the bound port (0 picks a free one). */
  listen(port: number, host: string): Promise<number>;
  /** Stops accepting, stops webhook retries and waits for deliveries in flight. */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;

const metadataShape = z.record(z.string().max(64), z.string().max(500)).default({});
const createIntentBody = z.object({
  amount_minor: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  currency: z.string().regex(/^[A-Z]{3}$/),
  order_id: z.string().min(1).max(64),
  metadata: metadataShape,
});
const confirmBody = z.object({ card_number: z.string().regex(/^[0-9 -]{12,23}$/, "card_number must be 12 to 19 digits") });
const refundBody = z.object({ amount_minor: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(), metadata: metadataShape });
const behaviourBody = z.object({
  duplicate_webhooks: z.number().int().min(1).max(10).default(1),
  out_of_order: z.boolean().default(false),
  delay_ms: z.number().int().min(0).max(60_000).default(0),
});
const idempotencyKey = z.string().min(1).max(255);

class BadRequest extends ProviderError {
  constructor(message: string) {
    super(400, "invalid_request", message);
  }
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new ProviderError(413, "body_too_large", "request body over 64 KiB");
    chunks.push(chunk);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    throw new BadRequest("body is not JSON");
  }
}

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new BadRequest(parsed.error.issues.map((issue) => `${issue.path.join(".") || "body"}: ${issue.message}`).join("; "));
  return parsed.data;
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

/**
 * The simulator's HTTP API (JSON), shaped like a card provider's:
 *   POST /v1/payment_intents (Idempotency-Key), GET /v1/payment_intents/:id,
 *   POST /v1/payment_intents/:id/confirm, /refund (Idempotency-Key), /cancel,
 *   GET /checkout/:id (hosted page), GET /healthz, /readyz,
 *   test controls: POST /v1/test/behaviour, GET /v1/test/webhooks.
 */
export function createSimulator(options: SimulatorOptions): Simulator {
  const { logger } = options;
  let behaviour: DeliveryBehaviour = NORMAL_BEHAVIOUR;
  let boundUrl = "http://127.0.0.1";
  const sender = createWebhookSender({
    url: options.webhookUrl,
    secret: options.webhookSecret,
    maxAttempts: options.webhookMaxAttempts,
    initialBackoffMs: options.webhookInitialBackoffMs,
    logger,
    behaviour: () => behaviour,
  });
  const provider = createProvider({ sender, logger, slowCardDelayMs: options.slowCardDelayMs, publicUrl: () => options.publicUrl ?? boundUrl });

  async function route(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? "GET";
    const path = (req.url ?? "/").split("?")[0]!;
    if (method === "GET" && (path === "/healthz" || path === "/readyz")) {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
      return;
    }
    if (method === "POST" && path === "/v1/payment_intents") {
      const key = parse(idempotencyKey, req.headers["idempotency-key"]);
      const body = parse(createIntentBody, await readJson(req));
      const intent = provider.createIntent({
        amountMinor: body.amount_minor,
        currency: body.currency,
        orderId: body.order_id,
        metadata: body.metadata,
        idempotencyKey: key,
      });
      return sendJson(res, 200, intent);
    }
    if (method === "POST" && path === "/v1/test/behaviour") {
      const body = parse(behaviourBody, await readJson(req));
      behaviour = { duplicateWebhooks: body.duplicate_webhooks, outOfOrder: body.out_of_order, delayMs: body.delay_ms };
      logger.info({ behaviour }, "webhook behaviour changed");
      return sendJson(res, 200, body);
    }
    if (method === "GET" && path === "/v1/test/webhooks") {
      return sendJson(res, 200, { deliveries: sender.deliveries() });
    }
    const checkout = /^\/checkout\/([A-Za-z0-9_]+)$/.exec(path);
    if (method === "GET" && checkout) {
      const intent = provider.getIntent(checkout[1]!);
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" }).end(checkoutPage(intent));
      return;
    }
    const match = /^\/v1\/payment_intents\/([A-Za-z0-9_]+)(?:\/(confirm|refund|cancel))?$/.exec(path);
    if (match) {
      const [, id, action] = match as unknown as [string, string, string | undefined];
      if (method === "GET" && !action) return sendJson(res, 200, provider.getIntent(id));
      if (method === "POST" && action === "confirm") {
        const body = parse(confirmBody, await readJson(req));
        return sendJson(res, 200, provider.confirm(id, body.card_number));
      }
      if (method === "POST" && action === "refund") {
        const key = parse(idempotencyKey, req.headers["idempotency-key"]);
        const body = parse(refundBody, await readJson(req));
        return sendJson(res, 200, provider.refund(id, { amountMinor: body.amount_minor, idempotencyKey: key, metadata: body.metadata }));
      }
      if (method === "POST" && action === "cancel") return sendJson(res, 200, provider.cancel(id));
    }
    sendJson(res, 404, { error: { code: "not_found", message: `no route ${method} ${path}` } });
  }

  const server = http.createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (err instanceof ProviderError) return sendJson(res, err.status, { error: { code: err.code, message: err.message } });
      logger.error({ err }, "request failed");
      if (!res.headersSent) sendJson(res, 500, { error: { code: "internal", message: "internal error" } });
      else res.end();
    });
  });

  return {
    provider,
    sender,
    async listen(port, host) {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          resolve();
        });
      });
      const bound = (server.address() as AddressInfo).port;
      boundUrl = `http://${host}:${bound}`;
      return bound;
    },
    async close() {
      provider.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await sender.stop();
      await closed;
    },
  };
}
