import { Code } from "@connectrpc/connect";
import { DeliveryStatus } from "@shopmesh/gen/shopmesh/delivery/v1/delivery_pb.js";
import { DeliveryStatusChangedSchema } from "@shopmesh/gen/shopmesh/events/v1/delivery_events_pb.js";
import { eventually, expectCode } from "@shopmesh/platform/testing";
import { buildPartner, newId, outboxEvents, startDelivery, uniqueArea, type RunningDelivery } from "./support.js";

let delivery: RunningDelivery;

beforeAll(async () => {
  delivery = await startDelivery({ DELIVERY_ASSIGN_RETRY_INTERVAL_MS: "600000" });
});

afterAll(async () => {
  await delivery.stop();
});

/** A partner with its own login, and a paid order of the test customer assigned to it. */
async function assignedToNewPartner() {
  const area = uniqueArea();
  const accountUserId = newId();
  const { partner } = await delivery.admin.createPartner({ partner: buildPartner(area, { accountUserId }) });
  const orderId = newId();
  await delivery.placeOrder(`${area}1`, 2, orderId);
  await delivery.changeOrderStatus(orderId);
  const assigned = await eventually(
    async () => {
      const found = (await delivery.admin.getDeliveryByOrder({ orderId })).delivery;
      return found?.status === DeliveryStatus.ASSIGNED ? found : undefined;
    },
    { what: "assignment" },
  );
  return { partner: partner!, orderId, assigned, partnerClient: await delivery.as(accountUserId, ["partner"]) };
}

describe("partner administration", () => {
  test("when a customer or an anonymous caller manages partners, then PERMISSION_DENIED or UNAUTHENTICATED", async () => {
    await expectCode(delivery.customer.createPartner({ partner: buildPartner(uniqueArea()) }), Code.PermissionDenied);
    await expectCode(delivery.customer.listPartners({}), Code.PermissionDenied);
    await expectCode(delivery.anonymous.listPartners({}), Code.Unauthenticated);
    const { partner } = await delivery.admin.createPartner({ partner: buildPartner(uniqueArea()) });
    await expectCode(delivery.customer.getPartner({ partnerId: partner!.id }), Code.PermissionDenied);
    await expectCode(delivery.customer.deletePartner({ partnerId: partner!.id }), Code.PermissionDenied);
  });

  test("when an admin creates a partner, then it is returned with an id and prefixes normalized, and GetPartner reads it back", async () => {
    const { partner } = await delivery.admin.createPartner({ partner: buildPartner("x", { name: "  Night Owls ", serviceAreaPrefixes: ["sw1 a", "10-1"] }) });

    expect(partner!.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(partner!.name).toBe("Night Owls");
    expect(partner!.serviceAreaPrefixes).toEqual(["101", "SW1A"]);
    expect((await delivery.admin.getPartner({ partnerId: partner!.id })).partner).toEqual(partner);
  });

  test("when a partner lacks a name or has a malformed phone, then INVALID_ARGUMENT", async () => {
    await expectCode(delivery.admin.createPartner({ partner: buildPartner(uniqueArea(), { name: "" }) }), Code.InvalidArgument);
    await expectCode(delivery.admin.createPartner({ partner: buildPartner(uniqueArea(), { phone: "12345" }) }), Code.InvalidArgument);
  });

  test("when two partners claim the same login, then ALREADY_EXISTS", async () => {
    const accountUserId = newId();
    await delivery.admin.createPartner({ partner: buildPartner(uniqueArea(), { accountUserId }) });
    await expectCode(delivery.admin.createPartner({ partner: buildPartner(uniqueArea(), { accountUserId }) }), Code.AlreadyExists);
  });

  test("when partners are listed two at a time, then the pages hold every partner once, in name order", async () => {
    const tag = uniqueArea();
    for (const name of ["Charlie", "Alpha", "Echo", "Bravo", "Delta"]) {
      await delivery.admin.createPartner({ partner: buildPartner(uniqueArea(), { name: `${tag} ${name}` }) });
    }
    const names: string[] = [];
    let pageToken = "";
    do {
      const page = await delivery.admin.listPartners({ pageSize: 2, pageToken });
      expect(page.partners.length).toBeLessThanOrEqual(2);
      names.push(...page.partners.map((partner) => partner.name));
      pageToken = page.nextPageToken;
    } while (pageToken);

    expect(names.filter((name) => name.startsWith(tag))).toEqual(["Alpha", "Bravo", "Charlie", "Delta", "Echo"].map((name) => `${tag} ${name}`));
    expect(new Set(names).size).toBe(names.length);
    await expectCode(delivery.admin.listPartners({ pageToken: "not-a-token" }), Code.InvalidArgument);
  });

  test("when an update's mask names only phone, then only phone changes although the request carries other values", async () => {
    const { partner } = await delivery.admin.createPartner({ partner: buildPartner(uniqueArea(), { dailyCapacity: 7 }) });

    const { partner: updated } = await delivery.admin.updatePartner({
      partner: { id: partner!.id, phone: "+4915112345678", name: "Renamed", dailyCapacity: 99, available: false },
      updateMask: { paths: ["phone"] },
    });

    expect(updated).toEqual({ ...partner, phone: "+4915112345678", updateTime: updated!.updateTime });
    expect((await delivery.admin.getPartner({ partnerId: partner!.id })).partner).toEqual(updated);
  });

  test("when an update names an unknown partner or an output-only field, then NOT_FOUND or INVALID_ARGUMENT", async () => {
    await expectCode(delivery.admin.updatePartner({ partner: { id: newId(), phone: "" }, updateMask: { paths: ["phone"] } }), Code.NotFound);
    const { partner } = await delivery.admin.createPartner({ partner: buildPartner(uniqueArea()) });
    await expectCode(delivery.admin.updatePartner({ partner: { id: partner!.id }, updateMask: { paths: ["create_time"] } }), Code.InvalidArgument);
  });

  test("when a partner has a delivery in progress, then deleting it fails with FAILED_PRECONDITION; once delivered, it can be deleted", async () => {
    const { partner, assigned, partnerClient } = await assignedToNewPartner();

    await expectCode(delivery.admin.deletePartner({ partnerId: partner.id }), Code.FailedPrecondition);

    for (const status of [DeliveryStatus.PICKED_UP, DeliveryStatus.IN_TRANSIT, DeliveryStatus.DELIVERED]) {
      await partnerClient.updateDeliveryStatus({ deliveryId: assigned.id, status });
    }
    await delivery.admin.deletePartner({ partnerId: partner.id });
    await expectCode(delivery.admin.getPartner({ partnerId: partner.id }), Code.NotFound);
    await expectCode(delivery.admin.deletePartner({ partnerId: partner.id }), Code.NotFound);
  });
});

describe("delivery status updates", () => {
  test("when the assigned partner reports pick-up, transit and delivery, then each is stored with its note and emits DeliveryStatusChanged", async () => {
    const { partner, orderId, assigned, partnerClient } = await assignedToNewPartner();

    await partnerClient.updateDeliveryStatus({ deliveryId: assigned.id, status: DeliveryStatus.PICKED_UP });
    await partnerClient.updateDeliveryStatus({ deliveryId: assigned.id, status: DeliveryStatus.IN_TRANSIT });
    const { delivery: delivered } = await partnerClient.updateDeliveryStatus({
      deliveryId: assigned.id,
      status: DeliveryStatus.DELIVERED,
      note: "left with neighbour",
    });

    expect(delivered!.status).toBe(DeliveryStatus.DELIVERED);
    expect(delivered!.lastNote).toBe("left with neighbour");
    const events = await outboxEvents(delivery.database, DeliveryStatusChangedSchema, orderId);
    expect(events.map((event) => [event.oldStatus, event.newStatus])).toEqual([
      [DeliveryStatus.ASSIGNED, DeliveryStatus.PICKED_UP],
      [DeliveryStatus.PICKED_UP, DeliveryStatus.IN_TRANSIT],
      [DeliveryStatus.IN_TRANSIT, DeliveryStatus.DELIVERED],
    ]);
    expect(events.every((event) => event.partnerId === partner.id && event.deliveryId === assigned.id)).toBe(true);
    expect(events[2]!.note).toBe("left with neighbour");
  });

  test("when the same status is reported twice, then the second call succeeds without a second event", async () => {
    const { orderId, assigned, partnerClient } = await assignedToNewPartner();

    await partnerClient.updateDeliveryStatus({ deliveryId: assigned.id, status: DeliveryStatus.PICKED_UP });
    const { delivery: again } = await partnerClient.updateDeliveryStatus({ deliveryId: assigned.id, status: DeliveryStatus.PICKED_UP });

    expect(again!.status).toBe(DeliveryStatus.PICKED_UP);
    expect(await outboxEvents(delivery.database, DeliveryStatusChangedSchema, orderId)).toHaveLength(1);
  });

  test("when a status would go backwards or skip a step, then FAILED_PRECONDITION and the status stays", async () => {
    const { assigned, partnerClient } = await assignedToNewPartner();

    await expectCode(partnerClient.updateDeliveryStatus({ deliveryId: assigned.id, status: DeliveryStatus.DELIVERED }), Code.FailedPrecondition);
    await partnerClient.updateDeliveryStatus({ deliveryId: assigned.id, status: DeliveryStatus.PICKED_UP });
    await partnerClient.updateDeliveryStatus({ deliveryId: assigned.id, status: DeliveryStatus.IN_TRANSIT });
    await expectCode(partnerClient.updateDeliveryStatus({ deliveryId: assigned.id, status: DeliveryStatus.PICKED_UP }), Code.FailedPrecondition);

    expect((await delivery.admin.getDelivery({ deliveryId: assigned.id })).delivery!.status).toBe(DeliveryStatus.IN_TRANSIT);
  });

  test("when a different partner or a customer updates the delivery, then PERMISSION_DENIED; an admin may", async () => {
    const { assigned } = await assignedToNewPartner();
    const other = await assignedToNewPartner();

    await expectCode(other.partnerClient.updateDeliveryStatus({ deliveryId: assigned.id, status: DeliveryStatus.PICKED_UP }), Code.PermissionDenied);
    await expectCode(delivery.customer.updateDeliveryStatus({ deliveryId: assigned.id, status: DeliveryStatus.PICKED_UP }), Code.PermissionDenied);
    const unlinked = await delivery.as(newId(), ["partner"]);
    await expectCode(unlinked.updateDeliveryStatus({ deliveryId: assigned.id, status: DeliveryStatus.PICKED_UP }), Code.PermissionDenied);

    const { delivery: updated } = await delivery.admin.updateDeliveryStatus({ deliveryId: assigned.id, status: DeliveryStatus.PICKED_UP, note: "by dispatch" });
    expect(updated!.status).toBe(DeliveryStatus.PICKED_UP);
  });

  test("when the delivery does not exist, then NOT_FOUND", async () => {
    await expectCode(delivery.admin.updateDeliveryStatus({ deliveryId: newId(), status: DeliveryStatus.PICKED_UP }), Code.NotFound);
  });
});

describe("who sees a delivery", () => {
  test("when the ordering customer, the assigned partner or an admin asks, then they see it; another customer or partner gets NOT_FOUND", async () => {
    const { orderId, assigned, partnerClient } = await assignedToNewPartner();
    const other = await assignedToNewPartner();
    const stranger = await delivery.as(newId(), ["customer"]);

    for (const client of [delivery.customer, partnerClient, delivery.admin]) {
      expect((await client.getDelivery({ deliveryId: assigned.id })).delivery!.orderId).toBe(orderId);
      expect((await client.getDeliveryByOrder({ orderId })).delivery!.id).toBe(assigned.id);
    }
    for (const client of [stranger, other.partnerClient]) {
      await expectCode(client.getDelivery({ deliveryId: assigned.id }), Code.NotFound);
      await expectCode(client.getDeliveryByOrder({ orderId }), Code.NotFound);
    }
  });

  test("when a partner lists deliveries, then it sees only its own even if it asks for another partner's", async () => {
    const mine = await assignedToNewPartner();
    const theirs = await assignedToNewPartner();

    const { deliveries } = await mine.partnerClient.listDeliveries({ partnerId: theirs.partner.id });

    expect(deliveries.map((found) => found.id)).toEqual([mine.assigned.id]);
    await expectCode(delivery.customer.listDeliveries({}), Code.PermissionDenied);
  });

  test("when an admin pages through deliveries filtered by status, then the pages hold each once, newest first, and a token cannot be reused with another filter", async () => {
    const created = [await assignedToNewPartner(), await assignedToNewPartner(), await assignedToNewPartner()];
    const ids: string[] = [];
    let pageToken = "";
    do {
      const page = await delivery.admin.listDeliveries({ pageSize: 1, pageToken, status: DeliveryStatus.ASSIGNED });
      ids.push(...page.deliveries.map((found) => found.id));
      expect(page.deliveries.every((found) => found.status === DeliveryStatus.ASSIGNED)).toBe(true);
      pageToken = page.nextPageToken;
    } while (pageToken);

    const ours = ids.filter((id) => created.some((entry) => entry.assigned.id === id));
    expect(ours).toEqual(created.map((entry) => entry.assigned.id).reverse());
    expect(new Set(ids).size).toBe(ids.length);
    const { nextPageToken } = await delivery.admin.listDeliveries({ pageSize: 1, status: DeliveryStatus.ASSIGNED });
    await expectCode(delivery.admin.listDeliveries({ pageToken: nextPageToken, status: DeliveryStatus.DELIVERED }), Code.InvalidArgument);
  });
});
