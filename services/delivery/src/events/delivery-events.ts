import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { DeliveryStatus } from "@shopmesh/gen/shopmesh/delivery/v1/delivery_pb.js";
import { DeliveryAssignedSchema, DeliveryStatusChangedSchema, DeliveryUnassignedSchema } from "@shopmesh/gen/shopmesh/events/v1/delivery_events_pb.js";
import { TOPICS } from "@shopmesh/platform";
import { appendToOutbox, type PoolConnection } from "@shopmesh/platform/data";
import type { DeliveryRecord } from "../domain/delivery.js";
import type { DeliveryStatusName } from "../domain/delivery-status.js";
import type { PartnerRecord } from "../domain/partner.js";

/*
 * What delivery publishes, through the outbox inside the state change's transaction, keyed
 * by order id so order's consumer sees one order's delivery events in order.
 */

export const toProtoStatus = (status: DeliveryStatusName): DeliveryStatus => DeliveryStatus[status];

export async function appendDeliveryAssigned(connection: PoolConnection, delivery: DeliveryRecord, partner: PartnerRecord): Promise<void> {
  await appendToOutbox(connection, {
    topic: TOPICS.delivery,
    key: delivery.orderId,
    schema: DeliveryAssignedSchema,
    event: create(DeliveryAssignedSchema, {
      deliveryId: delivery.id,
      occurredTime: timestampFromDate(delivery.updatedAt),
      orderId: delivery.orderId,
      partnerId: partner.id,
      partnerName: partner.name,
    }),
  });
}

export async function appendDeliveryUnassigned(connection: PoolConnection, delivery: DeliveryRecord, reason: string): Promise<void> {
  await appendToOutbox(connection, {
    topic: TOPICS.delivery,
    key: delivery.orderId,
    schema: DeliveryUnassignedSchema,
    event: create(DeliveryUnassignedSchema, {
      deliveryId: delivery.id,
      occurredTime: timestampFromDate(delivery.updatedAt),
      orderId: delivery.orderId,
      reason,
    }),
  });
}

export async function appendDeliveryStatusChanged(connection: PoolConnection, before: DeliveryRecord, after: DeliveryRecord): Promise<void> {
  await appendToOutbox(connection, {
    topic: TOPICS.delivery,
    key: after.orderId,
    schema: DeliveryStatusChangedSchema,
    event: create(DeliveryStatusChangedSchema, {
      deliveryId: after.id,
      occurredTime: timestampFromDate(after.updatedAt),
      orderId: after.orderId,
      oldStatus: toProtoStatus(before.status),
      newStatus: toProtoStatus(after.status),
      partnerId: after.partnerId ?? "",
      note: after.lastNote,
    }),
  });
}
