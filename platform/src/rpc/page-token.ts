import { createHash } from "node:crypto";
import { z } from "zod";
import { InvalidArgumentError } from "../errors.js";

/** The request fields a page token is only valid with (filters, order, query), in a fixed order. */
export type PageTokenScope = readonly (string | number | boolean | bigint)[];

/** Encodes and decodes the page tokens of one list method. */
export interface PageTokenCodec<Position, EncodedPosition = Position> {
  /** The opaque token that continues after `position`, bound to the request's `scope`. */
  encode(position: EncodedPosition, scope?: PageTokenScope): string;
  /**
   * The position in `token`, or undefined for the empty token (the first page). A token that is
   * malformed, issued by another method or for another scope is an InvalidArgumentError.
   */
  decode(token: string, scope?: PageTokenScope): Position | undefined;
  /**
   * One page of `rows`, read with a limit of `limit + 1` (the extra row says whether another page
   * exists without a COUNT): the first `limit` rows and the token after the last, "" when none.
   */
  page<Row>(rows: readonly Row[], limit: number, positionOf: (last: Row) => EncodedPosition, scope?: PageTokenScope): { items: Row[]; nextPageToken: string };
}

/** Far above any token we issue; bounds the work a forged token can cause. */
const MAX_TOKEN_LENGTH = 2_048;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

const Envelope = z.object({ v: z.literal(1), k: z.string(), s: z.string().optional(), p: z.unknown() });

/** Messages never echo the token: what a client sent stays out of errors and logs. */
const invalidToken = () => new InvalidArgumentError("page_token is invalid");

function fingerprint(scope: PageTokenScope | undefined): string | undefined {
  if (!scope || scope.length === 0) return undefined;
  const canonical = JSON.stringify(scope.map((value) => (typeof value === "bigint" ? value.toString() : value)));
  return createHash("sha256").update(canonical).digest("base64url").slice(0, 16);
}

/**
 * Page tokens for the list method `kind` (e.g. "catalog.products"): base64url JSON of the
 * position, the kind and a digest of the scope. Tokens are opaque to clients and not signed:
 * the position is validated by `position` on the way back in, so a forged one is just
 * another valid position; the kind and scope stop a token from continuing a different list.
 */
export function createPageTokenCodec<Schema extends z.ZodType>(kind: string, position: Schema): PageTokenCodec<z.output<Schema>, z.input<Schema>> {
  const encode = (value: z.input<Schema>, scope?: PageTokenScope) => {
    const envelope: z.input<typeof Envelope> = { v: 1, k: kind, s: fingerprint(scope), p: value };
    return Buffer.from(JSON.stringify(envelope)).toString("base64url");
  };
  return {
    encode,
    page(rows, limit, positionOf, scope) {
      const items = rows.slice(0, limit);
      const last = items.at(-1);
      return { items, nextPageToken: rows.length > limit && last !== undefined ? encode(positionOf(last), scope) : "" };
    },
    decode(token, scope) {
      if (token === "") return undefined;
      if (token.length > MAX_TOKEN_LENGTH || !BASE64URL.test(token)) throw invalidToken();
      let json: unknown;
      try {
        json = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
      } catch {
        throw invalidToken();
      }
      const envelope = Envelope.safeParse(json);
      if (!envelope.success || envelope.data.k !== kind) throw invalidToken();
      if (envelope.data.s !== fingerprint(scope)) throw new InvalidArgumentError("page_token belongs to a request with other filters or order");
      const parsed = position.safeParse(envelope.data.p);
      if (!parsed.success) throw invalidToken();
      return parsed.data;
    },
  };
}
