// Inventory's StockChanged events, kept as the catalog's `product_stock` read model (what the
// "in stock" filter of the database search reads) and, with the search engine on, written to
// the product index too. Both writes keep the newest level, so redeliveries and late events
// change nothing.
import { StockChangedSchema, type StockChanged } from "@shopmesh/gen/shopmesh/events/v1/inventory_events_pb.js";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { PoisonEventError, type EventHandler } from "@shopmesh/platform/data";
import type { ProductIndex } from "../search/product-index.js";
import type { StockLevel, StockStore } from "../store/stock.js";

function toLevel(event: StockChanged): StockLevel {
  if (!event.productId || !event.occurredTime) throw new PoisonEventError("StockChanged without a product or a time");
  return { productId: event.productId, available: event.available, changedAt: timestampDate(event.occurredTime) };
}

/** The StockChanged handler; `index.ready` creates the index when missing (the engine may have been away at start). */
export function stockLevelHandlers(stock: StockStore, index?: { index: ProductIndex; ready: () => Promise<void> }): EventHandler[] {
  const handler: EventHandler<typeof StockChangedSchema> = {
    schema: StockChangedSchema,
    handle: (event, _meta, connection) => stock.record(connection, toLevel(event)),
    // The index write goes first, outside the transaction (see onExternal); the row follows with the processed mark.
    ...(index && {
      external: async (event) => {
        const level = toLevel(event);
        await index.ready();
        await index.index.setStock(level);
      },
    }),
  };
  return [handler as unknown as EventHandler];
}
