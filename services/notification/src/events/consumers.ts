import { createHash } from "node:crypto";
import { SignInFailuresDetectedSchema, UserRegisteredSchema } from "@shopmesh/gen/shopmesh/events/v1/identity_events_pb.js";
import { StockLowSchema } from "@shopmesh/gen/shopmesh/events/v1/inventory_events_pb.js";
import { OrderCancelledSchema, OrderPlacedSchema } from "@shopmesh/gen/shopmesh/events/v1/order_events_pb.js";
import { PaymentFailedSchema, PaymentRefundedSchema, PaymentSucceededSchema } from "@shopmesh/gen/shopmesh/events/v1/payment_events_pb.js";
import { DeliveryAssignedSchema, DeliveryStatusChangedSchema } from "@shopmesh/gen/shopmesh/events/v1/delivery_events_pb.js";
import { on, type EventHandler, type EventMeta, type PoolConnection } from "@shopmesh/platform/data";
import { v7 as uuidv7 } from "uuid";
import { deliveryTemplateFor, describeOrderLines, greetingName, TEMPLATE } from "../domain/messages.js";
import { formatMoney } from "../domain/money.js";
import type { NotificationStore } from "../store/notifications.js";
import type { Recipient, RecipientStore } from "../store/recipients.js";

export interface EventHandlerDeps {
  notifications: NotificationStore;
  recipients: RecipientStore;
  /** Who hears about operational events such as StockLow. */
  adminEmails: readonly string[];
  /** Called after an event queued a notification and committed (wakes the email worker). */
  onQueued: () => void;
}

/**
 * The customer of a user- or order-scoped event is not known yet. Usually an ordering race
 * across topics (a payment event overtaking OrderPlaced), so it is retried by the consumer and,
 * if it persists, dead-lettered for an operator to replay.
 */
export class UnknownRecipientError extends Error {
  override name = "UnknownRecipientError";
}

/**
 * The event handlers of the `shopmesh.notification` consumer group. Each queues its email in
 * the transaction that records the event as processed, with the idempotency key
 * `<event id>:<template key>`: a redelivered event queues nothing twice.
 */
export function createEventHandlers(deps: EventHandlerDeps): EventHandler[] {
  const { notifications, recipients } = deps;
  const afterCommit = () => deps.onQueued();

  async function queueEmail(connection: PoolConnection, meta: EventMeta, templateKey: string, recipient: string, data: Record<string, string>, suffix = "") {
    await notifications.enqueue(connection, {
      id: uuidv7(),
      idempotencyKey: `${meta.id}:${templateKey}${suffix}`,
      channel: "email",
      recipient,
      templateKey,
      data,
    });
  }

  async function customerOf(connection: PoolConnection, ids: { userId?: string; orderId?: string }, meta: EventMeta): Promise<Recipient> {
    const byUser = ids.userId ? await recipients.findUser(connection, ids.userId) : undefined;
    if (byUser) return byUser;
    const byOrder = ids.orderId ? await recipients.findByOrder(connection, ids.orderId) : undefined;
    if (byOrder) return byOrder;
    throw new UnknownRecipientError(`no address known for ${meta.type} (user ${ids.userId ?? "-"}, order ${ids.orderId ?? "-"})`);
  }

  return [
    on(
      UserRegisteredSchema,
      async (event, meta, connection) => {
        await recipients.rememberUser(connection, { userId: event.userId, email: event.email, displayName: event.displayName });
        await queueEmail(connection, meta, TEMPLATE.welcome, event.email, { name: greetingName(event.displayName), email: event.email });
      },
      afterCommit,
    ),

    on(
      SignInFailuresDetectedSchema,
      async (event, meta, connection) => {
        const owner = await customerOf(connection, { userId: event.userId }, meta);
        await queueEmail(connection, meta, TEMPLATE.signInFailures, owner.email, {
          name: greetingName(owner.displayName),
          failures: String(event.failures),
          addresses: String(event.addresses),
          window_minutes: String(Math.max(1, Math.round(event.windowSeconds / 60))),
        });
      },
      afterCommit,
    ),

    on(
      OrderPlacedSchema,
      async (event, meta, connection) => {
        if (event.userEmail) await recipients.rememberUser(connection, { userId: event.userId, email: event.userEmail, displayName: "" });
        const customer = await customerOf(connection, { userId: event.userId }, meta);
        await recipients.rememberOrder(connection, { orderId: event.orderId, userId: event.userId, email: customer.email });
        await queueEmail(connection, meta, TEMPLATE.orderPlaced, customer.email, {
          name: greetingName(customer.displayName),
          order_id: event.orderId,
          lines: describeOrderLines(event.lines),
          subtotal: formatMoney(event.subtotal),
          shipping_fee: formatMoney(event.shippingFee),
          total: formatMoney(event.total),
        });
      },
      afterCommit,
    ),

    on(
      PaymentSucceededSchema,
      async (event, meta, connection) => {
        const customer = await customerOf(connection, { userId: event.userId, orderId: event.orderId }, meta);
        await queueEmail(connection, meta, TEMPLATE.paymentSucceeded, customer.email, {
          name: greetingName(customer.displayName),
          order_id: event.orderId,
          amount: formatMoney(event.amount),
        });
      },
      afterCommit,
    ),

    on(
      PaymentFailedSchema,
      async (event, meta, connection) => {
        const customer = await customerOf(connection, { userId: event.userId, orderId: event.orderId }, meta);
        await queueEmail(connection, meta, TEMPLATE.paymentFailed, customer.email, {
          name: greetingName(customer.displayName),
          order_id: event.orderId,
          amount: formatMoney(event.amount),
          reason: event.reason || "the payment was declined",
        });
      },
      afterCommit,
    ),

    on(
      PaymentRefundedSchema,
      async (event, meta, connection) => {
        const customer = await customerOf(connection, { userId: event.userId, orderId: event.orderId }, meta);
        await queueEmail(connection, meta, TEMPLATE.paymentRefunded, customer.email, {
          name: greetingName(customer.displayName),
          order_id: event.orderId,
          amount: formatMoney(event.amount),
          total_refunded: formatMoney(event.totalRefunded ?? event.amount),
          reason: event.reason || "refund",
        });
      },
      afterCommit,
    ),

    on(
      OrderCancelledSchema,
      async (event, meta, connection) => {
        const known = await recipients.findUser(connection, event.userId);
        const email = event.userEmail || (await customerOf(connection, { userId: event.userId, orderId: event.orderId }, meta)).email;
        await queueEmail(connection, meta, TEMPLATE.orderCancelled, email, {
          name: greetingName(known?.displayName),
          order_id: event.orderId,
          reason: event.reason || "cancelled",
        });
      },
      afterCommit,
    ),

    on(
      DeliveryAssignedSchema,
      async (event, meta, connection) => {
        const customer = await customerOf(connection, { orderId: event.orderId }, meta);
        await queueEmail(connection, meta, TEMPLATE.deliveryAssigned, customer.email, {
          name: greetingName(customer.displayName),
          order_id: event.orderId,
          partner_name: event.partnerName || "our delivery partner",
        });
      },
      afterCommit,
    ),

    on(
      DeliveryStatusChangedSchema,
      async (event, meta, connection) => {
        const templateKey = deliveryTemplateFor(event.oldStatus, event.newStatus);
        if (!templateKey) return;
        const customer = await customerOf(connection, { orderId: event.orderId }, meta);
        await queueEmail(connection, meta, templateKey, customer.email, { name: greetingName(customer.displayName), order_id: event.orderId });
      },
      afterCommit,
    ),

    on(
      StockLowSchema,
      async (event, meta, connection) => {
        const data = { product_id: event.productId, available: String(event.available), threshold: String(event.threshold) };
        for (const admin of deps.adminEmails) {
          // One notification per admin; the address is hashed to keep the key within 128 characters.
          await queueEmail(connection, meta, TEMPLATE.stockLow, admin, data, `:${createHash("sha256").update(admin).digest("hex").slice(0, 16)}`);
        }
      },
      afterCommit,
    ),
  ];
}
