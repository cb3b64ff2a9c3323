import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  StockChangedSchema,
  StockCommittedSchema,
  StockLowSchema,
  StockReservationReleasedSchema,
  StockReservedSchema,
  StockReturnedSchema,
} from "@shopmesh/gen/shopmesh/events/v1/inventory_events_pb.js";
import { ReservationItemSchema } from "@shopmesh/gen/shopmesh/inventory/v1/inventory_pb.js";
import { TOPICS } from "@shopmesh/platform";
import { appendToOutbox, type PoolConnection } from "@shopmesh/platform/data";
import type { ReservationLine, ReservationRecord } from "../domain/reservation.js";
import { available, crossedIntoLow, type StockRecord } from "../domain/stock.js";

/*
 * What inventory publishes, all through the outbox inside the state change's transaction.
 * Stock events are keyed by product id and reservation events by order id, so each
 * aggregate's events stay in order on the topic.
 */

const items = (lines: readonly ReservationLine[]) => lines.map((line) => create(ReservationItemSchema, line));

/** StockChanged for every change, and StockLow when this change took the product into low stock. */
export async function appendStockChange(connection: PoolConnection, before: StockRecord, after: StockRecord, reason: string): Promise<void> {
  const occurredTime = timestampFromDate(after.updatedAt);
  await appendToOutbox(connection, {
    topic: TOPICS.inventory,
    key: after.productId,
    schema: StockChangedSchema,
    event: create(StockChangedSchema, {
      productId: after.productId,
      occurredTime,
      onHand: after.onHand,
      reserved: after.reserved,
      available: available(after),
      reason,
    }),
  });
  if (crossedIntoLow(before, after)) {
    await appendToOutbox(connection, {
      topic: TOPICS.inventory,
      key: after.productId,
      schema: StockLowSchema,
      event: create(StockLowSchema, { productId: after.productId, occurredTime, available: available(after), threshold: after.lowStockThreshold }),
    });
  }
}

export async function appendStockReserved(connection: PoolConnection, reservation: ReservationRecord): Promise<void> {
  await appendToOutbox(connection, {
    topic: TOPICS.inventory,
    key: reservation.orderId,
    schema: StockReservedSchema,
    event: create(StockReservedSchema, {
      orderId: reservation.orderId,
      occurredTime: timestampFromDate(reservation.createdAt),
      items: items(reservation.lines),
      expireTime: timestampFromDate(reservation.expiresAt),
    }),
  });
}

/** Released on request, or expired by the sweeper (then `expired` is set and reason is "expired"). */
export async function appendReservationReleased(connection: PoolConnection, reservation: ReservationRecord): Promise<void> {
  await appendToOutbox(connection, {
    topic: TOPICS.inventory,
    key: reservation.orderId,
    schema: StockReservationReleasedSchema,
    event: create(StockReservationReleasedSchema, {
      orderId: reservation.orderId,
      occurredTime: timestampFromDate(reservation.updatedAt),
      reason: reservation.releaseReason ?? "",
      items: items(reservation.lines),
      expired: reservation.state === "EXPIRED",
    }),
  });
}

export async function appendStockCommitted(connection: PoolConnection, reservation: ReservationRecord): Promise<void> {
  await appendToOutbox(connection, {
    topic: TOPICS.inventory,
    key: reservation.orderId,
    schema: StockCommittedSchema,
    event: create(StockCommittedSchema, {
      orderId: reservation.orderId,
      occurredTime: timestampFromDate(reservation.updatedAt),
      items: items(reservation.lines),
    }),
  });
}

/** A cancelled order's committed stock went back on_hand (reason: why the order was cancelled). */
export async function appendStockReturned(connection: PoolConnection, reservation: ReservationRecord): Promise<void> {
  await appendToOutbox(connection, {
    topic: TOPICS.inventory,
    key: reservation.orderId,
    schema: StockReturnedSchema,
    event: create(StockReturnedSchema, {
      orderId: reservation.orderId,
      occurredTime: timestampFromDate(reservation.updatedAt),
      items: items(reservation.lines),
      reason: reservation.releaseReason ?? "",
    }),
  });
}
