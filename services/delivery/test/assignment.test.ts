import { DeliveryStatus } from "@shopmesh/gen/shopmesh/delivery/v1/delivery_pb.js";
import { DeliveryAssignedSchema, DeliveryUnassignedSchema } from "@shopmesh/gen/shopmesh/events/v1/delivery_events_pb.js";
import { OrderStatus } from "@shopmesh/gen/shopmesh/order/v1/order_pb.js";
import { eventually } from "@shopmesh/platform/testing";
import { allPublished, buildPartner, newId, outboxEvents, startDelivery, uniqueArea, type RunningDelivery } from "./support.js";

let delivery: RunningDelivery;

beforeAll(async () => {
  // A long retry interval: in these tests only partner changes (and explicit passes) retry.
  delivery = await startDelivery({ DELIVERY_ASSIGN_RETRY_INTERVAL_MS: "600000" });
});

afterAll(async () => {
  await delivery.stop();
});

/** The order's delivery once it satisfies `done`, as an admin sees it. */
function deliveryOf(orderId: string, done: (status: DeliveryStatus) => boolean, what: string) {
  return eventually(
    async () => {
      const { delivery: found } = await delivery.admin.getDeliveryByOrder({ orderId });
      return found && done(found.status) ? found : undefined;
    },
    { what },
  );
}

const assignedDelivery = (orderId: string) => deliveryOf(orderId, (status) => status === DeliveryStatus.ASSIGNED, `delivery of ${orderId} assigned`);

describe("assignment from order events", () => {
  test("when an order is placed and then paid, then its delivery is assigned to the partner serving the area and DeliveryAssigned is published", async () => {
    const area = uniqueArea();
    const { partner } = await delivery.admin.createPartner({ partner: buildPartner(area, { name: "Area Express" }) });
    const orderId = newId();

    await delivery.placeOrder(`${area}15`, 3, orderId);
    const pending = await deliveryOf(orderId, () => true, "pending delivery recorded");
    expect(pending.status).toBe(DeliveryStatus.UNASSIGNED);
    expect(pending.itemCount).toBe(3);
    await delivery.changeOrderStatus(orderId, OrderStatus.PAID);

    const assigned = await assignedDelivery(orderId);
    expect(assigned.partnerId).toBe(partner!.id);
    expect(assigned.postalCode).toBe(`${area}15`);
    const events = await outboxEvents(delivery.database, DeliveryAssignedSchema, orderId);
    expect(events).toEqual([expect.objectContaining({ deliveryId: assigned.id, orderId, partnerId: partner!.id, partnerName: "Area Express" })]);
    await eventually(async () => ((await allPublished(delivery.database, orderId)) ? true : undefined), { what: "DeliveryAssigned published" });
  });

  test("when an order is not paid or its payment failed, then its delivery stays unassigned even though a partner fits", async () => {
    const area = uniqueArea();
    await delivery.admin.createPartner({ partner: buildPartner(area) });
    const unpaidId = newId();
    const failedId = newId();
    await delivery.placeOrder(`${area}1`, 2, unpaidId);
    await delivery.placeOrder(`${area}1`, 2, failedId);
    await delivery.changeOrderStatus(failedId, OrderStatus.PAYMENT_FAILED);
    await delivery.consumedUpTo(unpaidId);
    await delivery.consumedUpTo(failedId);

    await delivery.app.retrier.retryOnce();

    for (const orderId of [unpaidId, failedId]) {
      const { delivery: found } = await delivery.admin.getDeliveryByOrder({ orderId });
      expect(found!.status).toBe(DeliveryStatus.UNASSIGNED);
      expect(await outboxEvents(delivery.database, DeliveryUnassignedSchema, orderId)).toEqual([]);
      expect(await outboxEvents(delivery.database, DeliveryAssignedSchema, orderId)).toEqual([]);
    }
  });

  test("when both order events are delivered twice, then there is one delivery and one assignment", async () => {
    const area = uniqueArea();
    await delivery.admin.createPartner({ partner: buildPartner(area) });
    const orderId = newId();

    const placed = await delivery.placeOrder(`${area}9`, 2, orderId);
    const paid = await delivery.changeOrderStatus(orderId);
    await placed.resend();
    await paid.resend();
    await delivery.consumedUpTo(orderId);

    await assignedDelivery(orderId);
    expect(await outboxEvents(delivery.database, DeliveryAssignedSchema, orderId)).toHaveLength(1);
    const { deliveries } = await delivery.admin.listDeliveries({ pageSize: 100 });
    expect(deliveries.filter((found) => found.orderId === orderId)).toHaveLength(1);
  });

  test("when PAID arrives before OrderPlaced, then the delivery is assigned once OrderPlaced is processed", async () => {
    const area = uniqueArea();
    const { partner } = await delivery.admin.createPartner({ partner: buildPartner(area) });
    const orderId = newId();

    await delivery.changeOrderStatus(orderId);
    await delivery.placeOrder(`${area}3`, 1, orderId);

    const assigned = await assignedDelivery(orderId);
    expect(assigned.partnerId).toBe(partner!.id);
    expect(assigned.postalCode).toBe(`${area}3`);
    expect(assigned.itemCount).toBe(1);
  });
});

describe("no partner fits, then a retry", () => {
  test("when no partner serves the area, then DeliveryUnassigned names the postal code, and once an admin creates a matching partner the retry assigns it", async () => {
    const area = uniqueArea();
    const orderId = newId();
    await delivery.placeOrder(`${area}77`, 2, orderId);
    await delivery.changeOrderStatus(orderId);

    const [unassigned] = await eventually(
      async () => {
        const events = await outboxEvents(delivery.database, DeliveryUnassignedSchema, orderId);
        return events.length > 0 ? events : undefined;
      },
      { what: "DeliveryUnassigned" },
    );
    expect(unassigned!.reason).toBe(`no partner serves postal code ${area}77`);
    expect((await delivery.admin.getDeliveryByOrder({ orderId })).delivery!.status).toBe(DeliveryStatus.UNASSIGNED);

    const { partner } = await delivery.admin.createPartner({ partner: buildPartner(area) });

    expect((await assignedDelivery(orderId)).partnerId).toBe(partner!.id);
    expect(await outboxEvents(delivery.database, DeliveryUnassignedSchema, orderId)).toHaveLength(1);
  });

  test("when retries keep failing for the same reason, then DeliveryUnassigned is emitted once", async () => {
    const area = uniqueArea();
    const orderId = newId();
    await delivery.placeOrder(`${area}1`, 2, orderId);
    await delivery.changeOrderStatus(orderId);
    await eventually(async () => ((await outboxEvents(delivery.database, DeliveryUnassignedSchema, orderId)).length > 0 ? true : undefined));

    await delivery.app.retrier.retryOnce();
    await delivery.app.retrier.retryOnce();

    expect(await outboxEvents(delivery.database, DeliveryUnassignedSchema, orderId)).toHaveLength(1);
  });

  test("when the only partner is full and an admin raises its capacity, then the waiting delivery is assigned", async () => {
    const area = uniqueArea();
    const { partner } = await delivery.admin.createPartner({ partner: buildPartner(area, { dailyCapacity: 1 }) });
    const first = newId();
    const second = newId();
    await delivery.placeOrder(`${area}1`, 2, first);
    await delivery.changeOrderStatus(first);
    await assignedDelivery(first);
    await delivery.placeOrder(`${area}1`, 2, second);
    await delivery.changeOrderStatus(second);
    const [unassigned] = await eventually(async () => {
      const events = await outboxEvents(delivery.database, DeliveryUnassignedSchema, second);
      return events.length > 0 ? events : undefined;
    });
    expect(unassigned!.reason).toContain("daily capacity");

    await delivery.admin.updatePartner({ partner: { id: partner!.id, dailyCapacity: 2 }, updateMask: { paths: ["daily_capacity"] } });

    expect((await assignedDelivery(second)).partnerId).toBe(partner!.id);
  });
});

describe("capacity under concurrency", () => {
  test("when several paid orders race for a partner's last slot, then exactly one gets it and the rest wait unassigned", async () => {
    const area = uniqueArea();
    const { partner } = await delivery.admin.createPartner({ partner: buildPartner(area, { dailyCapacity: 1, available: false }) });
    const orderIds = Array.from({ length: 6 }, () => newId());
    for (const orderId of orderIds) {
      await delivery.placeOrder(`${area}5`, 1, orderId);
      await delivery.changeOrderStatus(orderId);
    }
    // All six wait (the partner is unavailable); then the consumer, the nudged retrier and
    // explicit passes all try to assign them at once.
    await eventually(
      async () => {
        const counts = await Promise.all(orderIds.map((orderId) => outboxEvents(delivery.database, DeliveryUnassignedSchema, orderId)));
        return counts.every((events) => events.length === 1) ? true : undefined;
      },
      { what: "all six unassigned" },
    );

    await delivery.admin.updatePartner({ partner: { id: partner!.id, available: true }, updateMask: { paths: ["available"] } });
    await Promise.all(Array.from({ length: 4 }, () => delivery.app.retrier.retryOnce()));
    await eventually(async () => ((await delivery.admin.listDeliveries({ partnerId: partner!.id })).deliveries.length > 0 ? true : undefined));
    await delivery.app.retrier.retryOnce();

    const statuses = await Promise.all(orderIds.map(async (orderId) => (await delivery.admin.getDeliveryByOrder({ orderId })).delivery!));
    expect(statuses.filter((found) => found.status === DeliveryStatus.ASSIGNED)).toHaveLength(1);
    expect(statuses.filter((found) => found.status === DeliveryStatus.UNASSIGNED)).toHaveLength(5);
    const assignedEvents = await Promise.all(orderIds.map((orderId) => outboxEvents(delivery.database, DeliveryAssignedSchema, orderId)));
    expect(assignedEvents.flat()).toHaveLength(1);
  });
});
