import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { DeliverySchema, DeliveryStatus, PartnerSchema, type Delivery, type Partner } from "@shopmesh/gen/shopmesh/delivery/v1/delivery_pb.js";
import { InvalidArgumentError } from "@shopmesh/platform";
import type { DeliveryRecord } from "../domain/delivery.js";
import type { ReportedStatus } from "../domain/delivery-status.js";
import type { PartnerInput, PartnerRecord } from "../domain/partner.js";
import { toProtoStatus } from "../events/delivery-events.js";

export function toPartner(record: PartnerRecord): Partner {
  return create(PartnerSchema, {
    id: record.id,
    name: record.name,
    contactEmail: record.contactEmail,
    phone: record.phone,
    available: record.available,
    serviceAreaPrefixes: record.serviceAreaPrefixes,
    dailyCapacity: record.dailyCapacity,
    maxOrderItems: record.maxOrderItems,
    accountUserId: record.accountUserId ?? "",
    createTime: timestampFromDate(record.createdAt),
    updateTime: timestampFromDate(record.updatedAt),
  });
}

/** The client-settable fields of a Partner message; output-only fields are not read. */
export function toPartnerInput(partner: Partner): PartnerInput {
  return {
    name: partner.name,
    contactEmail: partner.contactEmail,
    phone: partner.phone,
    available: partner.available,
    serviceAreaPrefixes: [...partner.serviceAreaPrefixes],
    dailyCapacity: partner.dailyCapacity,
    maxOrderItems: partner.maxOrderItems,
    accountUserId: partner.accountUserId === "" ? null : partner.accountUserId.toLowerCase(),
  };
}

export function toDelivery(record: DeliveryRecord): Delivery {
  return create(DeliverySchema, {
    id: record.id,
    orderId: record.orderId,
    partnerId: record.partnerId ?? "",
    status: toProtoStatus(record.status),
    postalCode: record.postalCode,
    itemCount: record.itemCount,
    createTime: timestampFromDate(record.createdAt),
    updateTime: timestampFromDate(record.updatedAt),
    lastNote: record.lastNote,
  });
}

/** A status filter of ListDeliveries in stored form; empty for none. */
export function statusFilter(status: DeliveryStatus): string {
  return status === DeliveryStatus.UNSPECIFIED ? "" : DeliveryStatus[status];
}

/** The contract limits UpdateDeliveryStatus to these four; this re-check keeps the types honest. */
export function toReportedStatus(status: DeliveryStatus): ReportedStatus {
  switch (status) {
    case DeliveryStatus.PICKED_UP:
      return "PICKED_UP";
    case DeliveryStatus.IN_TRANSIT:
      return "IN_TRANSIT";
    case DeliveryStatus.DELIVERED:
      return "DELIVERED";
    case DeliveryStatus.FAILED:
      return "FAILED";
    default:
      throw new InvalidArgumentError("status must be PICKED_UP, IN_TRANSIT, DELIVERED or FAILED");
  }
}
