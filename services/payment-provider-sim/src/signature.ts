import { createHmac } from "node:crypto";

/** Name of the header carrying the webhook signature. */
export const SIGNATURE_HEADER = "Shopmesh-Signature";

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`: the timestamp is signed
 * with the body so a captured request cannot be replayed later with a fresh timestamp.
 */
export function signatureHeader(secret: string, rawBody: string, timestampSeconds: number): string {
  const digest = createHmac("sha256", secret).update(`${timestampSeconds}.${rawBody}`).digest("hex");
  return `t=${timestampSeconds},v1=${digest}`;
}
