import { createHmac, timingSafeEqual } from "node:crypto";

/** Header with the provider's signature: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. */
export const SIGNATURE_HEADER = "shopmesh-signature";

export type SignatureCheck = { ok: true; timestampSeconds: number } | { ok: false; reason: "missing" | "malformed" | "mismatch" | "stale" };

function digest(secret: string, timestamp: string, rawBody: Buffer): Buffer {
  return createHmac("sha256", secret).update(`${timestamp}.`).update(rawBody).digest();
}

/** Signs a payload the way the provider does (tests and local tools). */
export function signWebhook(secret: string, rawBody: string | Buffer, timestampSeconds: number): string {
  return `t=${timestampSeconds},v1=${digest(secret, String(timestampSeconds), Buffer.from(rawBody)).toString("hex")}`;
}

/**
 * Checks a webhook signature over the exact bytes received. Constant-time comparison; any
 * `v1` may match (the provider sends several while it rotates secrets). A correctly signed
 * timestamp further than `toleranceSeconds` from now is refused, so a captured request
 * cannot be replayed later.
 */
export function verifyWebhookSignature(input: {
  header: string | undefined;
  rawBody: Buffer;
  secret: string;
  nowSeconds: number;
  toleranceSeconds: number;
}): SignatureCheck {
  if (!input.header) return { ok: false, reason: "missing" };
  let timestamp: string | undefined;
  const candidates: Buffer[] = [];
  for (const part of input.header.split(",")) {
    const [key, value, ...rest] = part.trim().split("=");
    if (value === undefined || rest.length > 0) return { ok: false, reason: "malformed" };
    if (key === "t") timestamp = value;
    else if (key === "v1" && /^[0-9a-f]{64}$/i.test(value)) candidates.push(Buffer.from(value, "hex"));
  }
  if (timestamp === undefined || !/^\d{1,12}$/.test(timestamp) || candidates.length === 0) return { ok: false, reason: "malformed" };
  const expected = digest(input.secret, timestamp, input.rawBody);
  if (!candidates.some((candidate) => timingSafeEqual(candidate, expected))) return { ok: false, reason: "mismatch" };
  const timestampSeconds = Number(timestamp);
  if (Math.abs(input.nowSeconds - timestampSeconds) > input.toleranceSeconds) return { ok: false, reason: "stale" };
  return { ok: true, timestampSeconds };
}
