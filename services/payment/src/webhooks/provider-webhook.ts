import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { ATTR_HTTP_REQUEST_METHOD, ATTR_HTTP_ROUTE } from "@opentelemetry/semantic-conventions";
import { ATTR_SHOPMESH_WEBHOOK_EVENT_ID, ATTR_SHOPMESH_WEBHOOK_TYPE, inSpan, type HttpRoute, type Logger } from "@shopmesh/platform";
import { SIGNATURE_HEADER, verifyWebhookSignature } from "../domain/webhook-signature.js";
import type { Payments } from "../payments.js";

export const WEBHOOK_PATH = "/webhooks/provider";
const MAX_BODY_BYTES = 64 * 1024;

const eventShape = z.object({
  id: z.string().min(1).max(100),
  type: z.string().min(1).max(100),
  created: z.number().int().nonnegative(),
  data: z.object({
    intent_id: z.string().min(1).max(100),
    order_id: z.string().max(64),
    amount_minor: z.number().int().nonnegative(),
    currency: z.string().regex(/^[A-Z]{3}$/),
    failure_reason: z.string().max(200).nullable().default(null),
    metadata: z.record(z.string(), z.string()).default({}),
    refund_id: z.string().max(100).optional(),
  }),
});

class BodyTooLarge extends Error {}

async function readRawBody(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new BodyTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

const reply = (res: ServerResponse, status: number, body: Record<string, string>) =>
  void res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));

/**
 * The provider's webhook: verifies the signature over the raw bytes (5-minute tolerance),
 * then applies the event once. Forged, stale or malformed requests get 400 and change
 * nothing; duplicates and stale events get 200 so the provider stops retrying them.
 */
export function providerWebhookRoute(deps: { payments: Payments; secret: string; toleranceSeconds: number; logger: Logger }): HttpRoute {
  return {
    method: "POST",
    path: WEBHOOK_PATH,
    async handler(req, res) {
      let rawBody: Buffer;
      try {
        rawBody = await readRawBody(req);
      } catch (err) {
        if (err instanceof BodyTooLarge) return reply(res, 413, { error: "body over 64 KiB" });
        throw err;
      }
      const header = req.headers[SIGNATURE_HEADER];
      const check = verifyWebhookSignature({
        header: Array.isArray(header) ? header[0] : header,
        rawBody,
        secret: deps.secret,
        nowSeconds: Math.floor(Date.now() / 1000),
        toleranceSeconds: deps.toleranceSeconds,
      });
      if (!check.ok) {
        deps.logger.warn({ reason: check.reason }, "webhook signature refused");
        return reply(res, 400, { error: `signature ${check.reason}` });
      }
      let parsed: z.infer<typeof eventShape>;
      try {
        const result = eventShape.safeParse(JSON.parse(rawBody.toString("utf8")));
        if (!result.success) return reply(res, 400, { error: "unexpected event shape" });
        parsed = result.data;
      } catch {
        return reply(res, 400, { error: "body is not JSON" });
      }
      // The intent's metadata carries the trace context of the checkout that created it.
      const { traceparent, tracestate } = parsed.data.metadata;
      const attributes = {
        [ATTR_HTTP_REQUEST_METHOD]: "POST",
        [ATTR_HTTP_ROUTE]: WEBHOOK_PATH,
        [ATTR_SHOPMESH_WEBHOOK_TYPE]: parsed.type,
        [ATTR_SHOPMESH_WEBHOOK_EVENT_ID]: parsed.id,
      };
      const outcome = await inSpan(`POST ${WEBHOOK_PATH}`, { kind: "server", attributes, parent: { traceparent, tracestate } }, () =>
        deps.payments.applyWebhook(parsed),
      );
      reply(res, 200, { received: parsed.id, outcome });
    },
  };
}
