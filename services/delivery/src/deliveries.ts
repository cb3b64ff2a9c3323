import { v7 as uuidv7 } from "uuid";
import { hasRole, NotFoundError, PermissionDeniedError, type Caller, type Logger } from "@shopmesh/platform";
import { withTransaction, type Pool, type PoolConnection } from "@shopmesh/platform/data";
import { chooseAssignment, servesArea } from "./domain/assignment.js";
import { awaitsOrderDetails, startOfUtcDay, type DeliveryRecord } from "./domain/delivery.js";
import { statusTransition, type ReportedStatus } from "./domain/delivery-status.js";
import { appendDeliveryAssigned, appendDeliveryStatusChanged, appendDeliveryUnassigned } from "./events/delivery-events.js";
import type { DeliveryStore } from "./store/deliveries.js";
import type { PartnerStore } from "./store/partners.js";

export interface DeliveriesDeps {
  pool: Pool;
  deliveries: DeliveryStore;
  partners: PartnerStore;
  logger: Logger;
  /** Called after a commit that wrote outbox rows, so the relay publishes without waiting. */
  onOutboxWrite: () => void;
  now?: () => Date;
}

/** What OrderPlaced tells delivery about an order. */
export interface PlacedOrder {
  orderId: string;
  userId: string;
  postalCode: string;
  itemCount: number;
}

/** Result of a state change made inside a caller's transaction. */
export interface Effect {
  wroteEvent: boolean;
}

/**
 * The delivery use cases. Assignment runs in the transaction that locks the delivery: it
 * locks the partners serving the area (in id order), counts their assignments today with a
 * locking read, lets the domain pick, and writes the delivery with its event. Two
 * assignments to the same partner therefore run one after the other and both see the
 * other's slot, so daily capacity holds across replicas.
 */
export function createDeliveries(deps: DeliveriesDeps) {
  const { pool, deliveries, partners, logger } = deps;
  const clock = deps.now ?? (() => new Date());

  /** Tries to assign a delivery the caller holds locked (paid, open, unassigned), and saves it either way. */
  async function assign(connection: PoolConnection, delivery: DeliveryRecord, now: Date): Promise<Effect & { delivery: DeliveryRecord }> {
    const everyone = await partners.listAll(connection);
    // Only partners serving the area can be chosen; the lock then re-reads their current rows.
    const locked = await partners.lockMany(
      connection,
      everyone.filter((partner) => servesArea(partner, delivery.postalCode)).map((partner) => partner.id),
    );
    const counts = await deliveries.countAssignedSince(
      connection,
      locked.map((partner) => partner.id),
      startOfUtcDay(now),
    );
    const decision = chooseAssignment(
      delivery,
      locked.map((partner) => ({ partner, assignedToday: counts.get(partner.id) ?? 0 })),
    );
    if (decision.kind === "assigned") {
      const partner = locked.find((candidate) => candidate.id === decision.partnerId)!;
      const assigned: DeliveryRecord = { ...delivery, status: "ASSIGNED", partnerId: partner.id, assignedAt: now, unassignedReason: null, updatedAt: now };
      await deliveries.save(connection, assigned);
      await appendDeliveryAssigned(connection, assigned, partner);
      logger.info({ delivery_id: assigned.id, order_id: assigned.orderId, partner_id: partner.id }, "delivery assigned");
      return { wroteEvent: true, delivery: assigned };
    }
    // Operators are alerted once per reason, not on every retry of the same dead end.
    if (delivery.unassignedReason === decision.reason) {
      await deliveries.save(connection, delivery);
      return { wroteEvent: false, delivery };
    }
    const unassigned: DeliveryRecord = { ...delivery, unassignedReason: decision.reason, updatedAt: now };
    await deliveries.save(connection, unassigned);
    await appendDeliveryUnassigned(connection, unassigned, decision.reason);
    logger.warn({ delivery_id: unassigned.id, order_id: unassigned.orderId, reason: decision.reason }, "no partner for delivery");
    return { wroteEvent: true, delivery: unassigned };
  }

  return {
    /**
     * OrderPlaced: a pending delivery, not yet assignable. A repeat for the same order changes
     * nothing. If PAID was seen first (see markPaid), this fills in the details and assigns.
     */
    async recordPlaced(connection: PoolConnection, order: PlacedOrder): Promise<Effect> {
      const now = clock();
      const inserted = await deliveries.insertIfAbsent(connection, {
        id: uuidv7(),
        ...order,
        status: "UNASSIGNED",
        partnerId: null,
        paidAt: null,
        closedAt: null,
        assignedAt: null,
        unassignedReason: null,
        lastNote: "",
        createdAt: now,
        updatedAt: now,
      });
      if (inserted) return { wroteEvent: false };
      const existing = await deliveries.lockByOrder(connection, order.orderId);
      if (!existing || !awaitsOrderDetails(existing)) return { wroteEvent: false };
      const detailed: DeliveryRecord = { ...existing, ...order, updatedAt: now };
      if (!detailed.paidAt || detailed.closedAt) {
        await deliveries.save(connection, detailed);
        return { wroteEvent: false };
      }
      return assign(connection, detailed, now);
    },

    /**
     * OrderStatusChanged(PAID): the delivery becomes assignable and is assigned at once when
     * a partner fits. OrderPlaced comes first on the same partition, so PAID without a
     * delivery means an out-of-order or replayed stream. Failing the event would not help
     * (its retries block the partition, so OrderPlaced cannot overtake it); instead a
     * placeholder remembers the payment, and OrderPlaced completes it later.
     */
    async markPaid(connection: PoolConnection, orderId: string, userId: string): Promise<Effect> {
      const now = clock();
      const delivery = await deliveries.lockByOrder(connection, orderId);
      if (!delivery) {
        await deliveries.insertIfAbsent(connection, {
          id: uuidv7(),
          orderId,
          userId,
          postalCode: "",
          itemCount: 0,
          status: "UNASSIGNED",
          partnerId: null,
          paidAt: now,
          closedAt: null,
          assignedAt: null,
          unassignedReason: null,
          lastNote: "",
          createdAt: now,
          updatedAt: now,
        });
        logger.warn({ order_id: orderId }, "order paid before its OrderPlaced was seen; waiting for it");
        return { wroteEvent: false };
      }
      if (delivery.paidAt || delivery.closedAt) return { wroteEvent: false };
      return assign(connection, { ...delivery, paidAt: now, updatedAt: now }, now);
    },

    /** The order was cancelled or its payment failed: an unassigned delivery is never assigned. */
    async closeForOrder(connection: PoolConnection, orderId: string, why: string): Promise<Effect> {
      const delivery = await deliveries.lockByOrder(connection, orderId);
      if (!delivery || delivery.closedAt) return { wroteEvent: false };
      if (delivery.status !== "UNASSIGNED") {
        // The partner keeps it: the contract has no cancelled delivery status, dispatch decides.
        logger.warn({ delivery_id: delivery.id, order_id: orderId, status: delivery.status, why }, "order closed after its delivery was assigned");
        return { wroteEvent: false };
      }
      const now = clock();
      await deliveries.save(connection, { ...delivery, closedAt: now, updatedAt: now });
      return { wroteEvent: false };
    },

    /**
     * One pass over deliveries still waiting for a partner, oldest first, each in its own
     * transaction; one another replica (or the consumer) holds is skipped. Resolves with how
     * many were assigned.
     */
    async retryUnassigned(batchSize: number): Promise<number> {
      let assigned = 0;
      let afterId = "";
      for (;;) {
        const ids = await deliveries.listAwaitingPartner(afterId, batchSize);
        for (const id of ids) {
          const result = await withTransaction(pool, async (connection) => {
            const delivery = await deliveries.claimAwaitingPartner(connection, id);
            return delivery ? assign(connection, delivery, clock()) : { wroteEvent: false, delivery: undefined };
          });
          if (result.wroteEvent) deps.onOutboxWrite();
          if (result.delivery?.status === "ASSIGNED") assigned++;
        }
        if (ids.length < batchSize) return assigned;
        afterId = ids.at(-1)!;
      }
    },

    /**
     * A partner (or an admin) reports progress. Only the assigned partner's login or an admin
     * may; reporting the current status again succeeds without a second event.
     */
    async updateStatus(caller: Caller, deliveryId: string, status: ReportedStatus, note: string): Promise<DeliveryRecord> {
      const actingFor = hasRole(caller, "admin") ? undefined : await partners.findByAccount(caller.userId);
      const result = await withTransaction(pool, async (connection) => {
        const delivery = await deliveries.lockById(connection, deliveryId);
        if (!delivery) throw new NotFoundError(`delivery ${deliveryId} not found`);
        if (!hasRole(caller, "admin") && (!actingFor || delivery.partnerId !== actingFor.id)) {
          throw new PermissionDeniedError("only the assigned partner or an admin may update this delivery");
        }
        if (statusTransition(delivery.status, status) === "unchanged") return { delivery, wroteEvent: false };
        const next: DeliveryRecord = { ...delivery, status, lastNote: note, updatedAt: clock() };
        await deliveries.save(connection, next);
        await appendDeliveryStatusChanged(connection, delivery, next);
        return { delivery: next, wroteEvent: true };
      });
      if (result.wroteEvent) deps.onOutboxWrite();
      return result.delivery;
    },
  };
}

export type Deliveries = ReturnType<typeof createDeliveries>;
