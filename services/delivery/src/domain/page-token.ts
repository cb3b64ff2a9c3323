import { InvalidArgumentError } from "@shopmesh/platform";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const invalidToken = () => new InvalidArgumentError("page_token is invalid");
const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

function decode(token: string): Record<string, unknown> {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw invalidToken();
  try {
    const value: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalidToken();
    return value as Record<string, unknown>;
  } catch {
    throw invalidToken();
  }
}

/** Where the previous ListPartners page ended (partners are ordered by name, then id). */
export interface PartnerCursor {
  name: string;
  id: string;
}

export function encodePartnerCursor(cursor: PartnerCursor): string {
  return encode({ v: 1, t: "partner", n: cursor.name, id: cursor.id });
}

export function decodePartnerCursor(token: string): PartnerCursor {
  const { v, t, n, id } = decode(token);
  if (v !== 1 || t !== "partner" || typeof n !== "string" || n.length > 200 || typeof id !== "string" || !UUID.test(id)) throw invalidToken();
  return { name: n, id };
}

/** The filters of a ListDeliveries request; a token only continues a request with the same ones. */
export interface DeliveryFilter {
  /** Empty for every partner. */
  partnerId: string;
  /** Empty for every status. */
  status: string;
}

/** Where the previous ListDeliveries page ended (newest first: ids are UUIDv7, so by id descending). */
export interface DeliveryCursor extends DeliveryFilter {
  id: string;
}

export function encodeDeliveryCursor(cursor: DeliveryCursor): string {
  return encode({ v: 1, t: "delivery", p: cursor.partnerId, s: cursor.status, id: cursor.id });
}

export function decodeDeliveryCursor(token: string, filter: DeliveryFilter): DeliveryCursor {
  const { v, t, p, s, id } = decode(token);
  if (v !== 1 || t !== "delivery" || typeof p !== "string" || typeof s !== "string" || typeof id !== "string" || !UUID.test(id)) throw invalidToken();
  if (p !== filter.partnerId || s !== filter.status) throw new InvalidArgumentError("page_token belongs to a request with other filters");
  return { partnerId: p, status: s, id };
}
