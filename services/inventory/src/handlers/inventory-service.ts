import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  type InventoryService,
  ReservationSchema,
  ReservationState,
  StockLevelSchema,
  type Reservation,
  type StockLevel,
} from "@shopmesh/gen/shopmesh/inventory/v1/inventory_pb.js";
import type { ReservationRecord, ReservationState as State } from "../domain/reservation.js";
import { available, type StockRecord } from "../domain/stock.js";
import type { Inventory } from "../inventory.js";

export interface InventoryServiceDeps {
  inventory: Inventory;
}

const STATES: Record<State, ReservationState> = {
  ACTIVE: ReservationState.ACTIVE,
  COMMITTED: ReservationState.COMMITTED,
  RELEASED: ReservationState.RELEASED,
  EXPIRED: ReservationState.EXPIRED,
  RETURNED: ReservationState.RETURNED,
};

function toStockLevel(level: StockRecord): StockLevel {
  return create(StockLevelSchema, {
    productId: level.productId,
    onHand: level.onHand,
    reserved: level.reserved,
    available: available(level),
    lowStockThreshold: level.lowStockThreshold,
    updateTime: timestampFromDate(level.updatedAt),
  });
}

function toReservation(record: ReservationRecord): Reservation {
  return create(ReservationSchema, {
    orderId: record.orderId,
    items: record.lines,
    state: STATES[record.state],
    expireTime: timestampFromDate(record.expiresAt),
    createTime: timestampFromDate(record.createdAt),
    updateTime: timestampFromDate(record.updatedAt),
  });
}

/** Translates the contract to the inventory use cases; auth and validation ran before. */
export function createInventoryService(deps: InventoryServiceDeps): ServiceImpl<typeof InventoryService> {
  const { inventory } = deps;
  return {
    async getStock(request) {
      const level = await inventory.getStock(request.productId);
      // As the contract says: a product never stocked reads as all zeros (no update time).
      return { stockLevel: level ? toStockLevel(level) : create(StockLevelSchema, { productId: request.productId }) };
    },

    async batchGetStock(request) {
      const found = await inventory.batchGetStock(request.productIds);
      // A product never stocked reads as all zeros, with no update time.
      return { stockLevels: found.map(({ productId, level }) => (level ? toStockLevel(level) : create(StockLevelSchema, { productId }))) };
    },

    async setStock(request) {
      return { stockLevel: toStockLevel(await inventory.setStock(request.productId, request.onHand, request.lowStockThreshold)) };
    },

    async adjustStock(request) {
      return { stockLevel: toStockLevel(await inventory.adjustStock(request.productId, request.delta, request.reason)) };
    },

    async reserveStock(request) {
      const reservation = await inventory.reserve(
        request.orderId,
        request.items.map((item) => ({ productId: item.productId, quantity: item.quantity })),
        request.ttlSeconds,
      );
      return { reservation: toReservation(reservation) };
    },

    async releaseReservation(request) {
      return { reservation: toReservation(await inventory.release(request.orderId, request.reason)) };
    },

    async commitReservation(request) {
      return { reservation: toReservation(await inventory.commit(request.orderId)) };
    },
  };
}
