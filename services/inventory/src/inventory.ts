import { AlreadyExistsError, NotFoundError } from "@shopmesh/platform";
import { withTransaction, type Pool, type PoolConnection } from "@shopmesh/platform/data";
import {
  cancellationTransition,
  commitTransition,
  normalizeId,
  normalizeLines,
  releaseTransition,
  sameLines,
  type ReservationLine,
  type ReservationRecord,
} from "./domain/reservation.js";
import {
  adjustOnHand,
  commitUnits,
  findShortages,
  insufficientStock,
  releaseUnits,
  reserveUnits,
  returnUnits,
  setOnHand,
  stockChanged,
  type StockRecord,
} from "./domain/stock.js";
import { appendReservationReleased, appendStockChange, appendStockCommitted, appendStockReserved, appendStockReturned } from "./events/inventory-events.js";
import type { ReservationStore } from "./store/reservations.js";
import type { StockLevelStore } from "./store/stock-levels.js";

export interface InventoryDeps {
  pool: Pool;
  stock: StockLevelStore;
  reservations: ReservationStore;
  /** TTL of a reservation whose request names none. */
  defaultReservationTtlSeconds: number;
  /** Called after a commit that wrote outbox rows, so the relay publishes without waiting. */
  onOutboxWrite: () => void;
  now?: () => Date;
}

/**
 * The inventory use cases. Each state change is one transaction that locks the stock rows it
 * touches (in product-id order), applies the domain rules to what it read under the lock, and
 * writes the new levels together with their outbox events. Nothing is decided on a value read
 * without a lock, so concurrent reservations cannot oversell.
 */
export function createInventory(deps: InventoryDeps) {
  const { pool, stock, reservations } = deps;
  const clock = deps.now ?? (() => new Date());

  /** Applies `change` to every line's (already locked) level, saving each with its StockChanged. */
  async function changeLines(
    connection: PoolConnection,
    levels: Map<string, StockRecord>,
    lines: readonly ReservationLine[],
    change: (level: StockRecord, quantity: number) => StockRecord,
    reason: string,
  ): Promise<void> {
    for (const line of lines) {
      const before = levels.get(line.productId);
      if (!before) throw new Error(`reservation line for product ${line.productId} has no stock row`);
      const after = change(before, line.quantity);
      levels.set(line.productId, after);
      await stock.save(connection, after);
      await appendStockChange(connection, before, after, reason);
    }
  }

  /**
   * Runs a reservation change in `connection` (an event consumer's transaction, whose owner
   * nudges the relay after its commit) or, without one, in a transaction of its own.
   */
  async function inOwnOrGiven<T>(
    connection: PoolConnection | undefined,
    work: (connection: PoolConnection) => Promise<{ reservation: T; wrote: boolean }>,
  ): Promise<T> {
    if (connection) return (await work(connection)).reservation;
    const result = await withTransaction(pool, work);
    if (result.wrote) deps.onOutboxWrite();
    return result.reservation;
  }

  /** Locks the order's reservation; NOT_FOUND when the order never reserved anything. */
  async function lockReservation(connection: PoolConnection, orderId: string): Promise<ReservationRecord> {
    const reservation = await reservations.lock(connection, orderId);
    if (!reservation) throw new NotFoundError(`no reservation for order ${orderId}`);
    return reservation;
  }

  /** Moves a locked reservation to `next` and applies `change` to its lines' stock, with the events. */
  async function settle(
    connection: PoolConnection,
    next: ReservationRecord,
    change: (level: StockRecord, quantity: number) => StockRecord,
    reason: string,
    append: (connection: PoolConnection, reservation: ReservationRecord) => Promise<void>,
  ): Promise<{ reservation: ReservationRecord; wrote: boolean }> {
    const levels = await stock.lockMany(
      connection,
      next.lines.map((line) => line.productId),
    );
    await changeLines(connection, levels, next.lines, change, reason);
    await reservations.updateState(connection, next);
    await append(connection, next);
    return { reservation: next, wrote: true };
  }

  const released = (reservation: ReservationRecord, reason: string, now: Date): ReservationRecord => ({
    ...reservation,
    state: "RELEASED",
    releaseReason: reason,
    updatedAt: now,
  });

  /** Locks the stock rows of one product for an admin change and applies it. */
  async function changeOne(productId: string, change: (level: StockRecord, now: Date) => StockRecord, reason: string): Promise<StockRecord> {
    const id = normalizeId(productId);
    const now = clock();
    const result = await withTransaction(pool, async (connection) => {
      await stock.ensureExists(connection, id, now);
      const before = (await stock.lockMany(connection, [id])).get(id)!;
      const after = change(before, now);
      // A repeated SetStock with the same values writes nothing and emits nothing.
      if (!stockChanged(before, after)) return { level: before, wrote: false };
      await stock.save(connection, after);
      await appendStockChange(connection, before, after, reason);
      return { level: after, wrote: true };
    });
    if (result.wrote) deps.onOutboxWrite();
    return result.level;
  }

  return {
    /** The level of a product, or undefined when it was never stocked. */
    async getStock(productId: string): Promise<StockRecord | undefined> {
      const id = normalizeId(productId);
      return (await stock.findMany([id])).get(id);
    },

    /** Levels in request order; `level` is undefined for a product never stocked. */
    async batchGetStock(productIds: readonly string[]): Promise<Array<{ productId: string; level: StockRecord | undefined }>> {
      const ids = productIds.map(normalizeId);
      const found = await stock.findMany(ids);
      return ids.map((productId) => ({ productId, level: found.get(productId) }));
    },

    /** Sets on_hand (and the threshold when given); creates the product's row on first use. */
    setStock(productId: string, onHand: number, lowStockThreshold: number | undefined): Promise<StockRecord> {
      return changeOne(productId, (level, now) => setOnHand(level, onHand, lowStockThreshold, now), "set");
    },

    adjustStock(productId: string, delta: number, reason: string): Promise<StockRecord> {
      return changeOne(productId, (level, now) => adjustOnHand(level, delta, now), `adjust: ${reason}`);
    },

    /**
     * Holds every line or none. Idempotent by order id: a repeat (also a concurrent one) gets
     * the existing reservation, whatever its state, as long as it asks for the same lines.
     */
    async reserve(orderId: string, requestedLines: readonly ReservationLine[], ttlSeconds: number | undefined): Promise<ReservationRecord> {
      const lines = normalizeLines(requestedLines);
      const now = clock();
      const candidate: ReservationRecord = {
        orderId: normalizeId(orderId),
        state: "ACTIVE",
        lines,
        expiresAt: new Date(now.getTime() + (ttlSeconds ?? deps.defaultReservationTtlSeconds) * 1000),
        releaseReason: null,
        createdAt: now,
        updatedAt: now,
      };
      const created = await withTransaction(pool, async (connection) => {
        if (!(await reservations.insert(connection, candidate))) return false;
        const levels = await stock.lockMany(
          connection,
          lines.map((line) => line.productId),
        );
        const shortages = findShortages(levels, lines);
        // Throwing rolls back the reservation row too: nothing is held.
        if (shortages.length > 0) throw insufficientStock(shortages);
        await changeLines(connection, levels, lines, (level, quantity) => reserveUnits(level, quantity, now), "reserved");
        await appendStockReserved(connection, candidate);
        return true;
      });
      if (created) {
        deps.onOutboxWrite();
        return candidate;
      }
      const existing = await reservations.find(candidate.orderId);
      if (!existing) throw new Error(`reservation of order ${candidate.orderId} vanished after a duplicate insert`);
      if (!sameLines(existing.lines, lines)) {
        throw new AlreadyExistsError(`order ${candidate.orderId} already has a reservation with different items`);
      }
      return existing;
    },

    /**
     * Returns an active reservation's stock. Repeating it, or releasing an expired or returned
     * one, changes nothing. Runs in `connection` when given (the caller commits and nudges).
     */
    release(orderId: string, reason: string, connection?: PoolConnection): Promise<ReservationRecord> {
      const id = normalizeId(orderId);
      const now = clock();
      return inOwnOrGiven(connection, async (tx) => {
        const reservation = await lockReservation(tx, id);
        if (releaseTransition(reservation) === "unchanged") return { reservation, wrote: false };
        return settle(tx, released(reservation, reason, now), (level, quantity) => releaseUnits(level, quantity, now), "released", appendReservationReleased);
      });
    },

    /**
     * Takes an active reservation's units out of on_hand. Repeating it changes nothing. A
     * reservation past its expiry that the sweeper has not reached yet still commits: its
     * stock is still held, and the customer has paid.
     */
    commit(orderId: string, connection?: PoolConnection): Promise<ReservationRecord> {
      const id = normalizeId(orderId);
      const now = clock();
      return inOwnOrGiven(connection, async (tx) => {
        const reservation = await lockReservation(tx, id);
        if (commitTransition(reservation) === "unchanged") return { reservation, wrote: false };
        const committed: ReservationRecord = { ...reservation, state: "COMMITTED", updatedAt: now };
        return settle(tx, committed, (level, quantity) => commitUnits(level, quantity, now), "committed", appendStockCommitted);
      });
    },

    /**
     * The order was cancelled: an active reservation is released, committed stock is returned
     * to on_hand (state RETURNED, one StockReturned), and anything else is left as it is, so a
     * cancellation delivered twice returns the stock once. Idempotent by order id.
     */
    onOrderCancelled(orderId: string, reason: string, connection?: PoolConnection): Promise<ReservationRecord> {
      const id = normalizeId(orderId);
      const now = clock();
      return inOwnOrGiven(connection, async (tx) => {
        const reservation = await lockReservation(tx, id);
        switch (cancellationTransition(reservation)) {
          case "unchanged":
            return { reservation, wrote: false };
          case "release":
            return settle(
              tx,
              released(reservation, reason, now),
              (level, quantity) => releaseUnits(level, quantity, now),
              "released",
              appendReservationReleased,
            );
          case "return": {
            const returned: ReservationRecord = { ...reservation, state: "RETURNED", releaseReason: reason, updatedAt: now };
            return settle(tx, returned, (level, quantity) => returnUnits(level, quantity, now), "returned", appendStockReturned);
          }
        }
      });
    },

    /** Expires up to `limit` active reservations past their expiry; returns how many. */
    async expireDue(limit: number): Promise<number> {
      const now = clock();
      const expired = await withTransaction(pool, async (connection) => {
        const due = await reservations.lockDue(connection, now, limit);
        if (due.length === 0) return 0;
        const levels = await stock.lockMany(connection, [...new Set(due.flatMap((reservation) => reservation.lines.map((line) => line.productId)))]);
        for (const reservation of due) {
          const released: ReservationRecord = { ...reservation, state: "EXPIRED", releaseReason: "expired", updatedAt: now };
          await changeLines(connection, levels, released.lines, (level, quantity) => releaseUnits(level, quantity, now), "expired");
          await reservations.updateState(connection, released);
          await appendReservationReleased(connection, released);
        }
        return due.length;
      });
      if (expired > 0) deps.onOutboxWrite();
      return expired;
    },
  };
}

export type Inventory = ReturnType<typeof createInventory>;
