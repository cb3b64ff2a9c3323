import { createHmac } from "node:crypto";
import { signWebhook, verifyWebhookSignature } from "./webhook-signature.js";

const SECRET = "whsec_unit";
const NOW = 1_700_000_000;
const body = Buffer.from('{"id":"evt_1","type":"payment_intent.succeeded"}');
const check = (header: string | undefined, overrides: Partial<Parameters<typeof verifyWebhookSignature>[0]> = {}) =>
  verifyWebhookSignature({ header, rawBody: body, secret: SECRET, nowSeconds: NOW, toleranceSeconds: 300, ...overrides });

describe("webhook signature", () => {
  test("a signature made with the shared secret over t.body verifies", () => {
    const expected = createHmac("sha256", SECRET).update(`${NOW}.${body.toString()}`).digest("hex");
    expect(signWebhook(SECRET, body, NOW)).toBe(`t=${NOW},v1=${expected}`);
    expect(check(signWebhook(SECRET, body, NOW))).toEqual({ ok: true, timestampSeconds: NOW });
  });

  test("when signed with another secret, then mismatch", () => {
    expect(check(signWebhook("whsec_attacker", body, NOW))).toEqual({ ok: false, reason: "mismatch" });
  });

  test("when one byte of the body changed, then mismatch", () => {
    expect(check(signWebhook(SECRET, body, NOW), { rawBody: Buffer.from(body.toString().replace("evt_1", "evt_2")) })).toEqual({
      ok: false,
      reason: "mismatch",
    });
  });

  test("when the timestamp was changed after signing, then mismatch", () => {
    const header = signWebhook(SECRET, body, NOW - 1000).replace(`t=${NOW - 1000}`, `t=${NOW}`);
    expect(check(header)).toEqual({ ok: false, reason: "mismatch" });
  });

  test("a correct signature older than five minutes is stale; one just inside the window verifies", () => {
    expect(check(signWebhook(SECRET, body, NOW - 301))).toEqual({ ok: false, reason: "stale" });
    expect(check(signWebhook(SECRET, body, NOW + 301))).toEqual({ ok: false, reason: "stale" });
    expect(check(signWebhook(SECRET, body, NOW - 300)).ok).toBe(true);
  });

  test("any of several v1 signatures may match (secret rotation)", () => {
    const good = signWebhook(SECRET, body, NOW);
    const otherV1 = signWebhook("whsec_old", body, NOW).split(",")[1];
    expect(check(`${good},${otherV1}`).ok).toBe(true);
  });

  test("missing or malformed headers are refused", () => {
    expect(check(undefined)).toEqual({ ok: false, reason: "missing" });
    expect(check("garbage")).toEqual({ ok: false, reason: "malformed" });
    expect(check(`t=${NOW}`)).toEqual({ ok: false, reason: "malformed" });
    expect(check(`t=abc,v1=${"0".repeat(64)}`)).toEqual({ ok: false, reason: "malformed" });
    expect(check(`t=${NOW},v1=short`)).toEqual({ ok: false, reason: "malformed" });
  });
});
