import { createPageTokenCodec } from "@shopmesh/platform";
import { z } from "zod";

/** Where the previous ListPartners page ended (partners are ordered by name, then id). */
export const partnerPageTokens = createPageTokenCodec("delivery.partners", z.object({ name: z.string().max(200), id: z.guid() }));
export type PartnerCursor = NonNullable<ReturnType<typeof partnerPageTokens.decode>>;

/** The filters of a ListDeliveries request; a token only continues a request with the same ones. */
export interface DeliveryFilter {
  /** Empty for every partner. */
  partnerId: string;
  /** Empty for every status. */
  status: string;
}

/** Where the previous ListDeliveries page ended (newest first: ids are UUIDv7, so by id descending). */
export const deliveryPageTokens = createPageTokenCodec("delivery.deliveries", z.object({ id: z.guid() }));
export type DeliveryCursor = NonNullable<ReturnType<typeof deliveryPageTokens.decode>>;

/** The fields a ListDeliveries token is bound to, in a fixed order. */
export const deliveryScope = (filter: DeliveryFilter) => [filter.partnerId, filter.status] as const;
