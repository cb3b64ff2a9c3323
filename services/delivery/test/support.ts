import { randomBytes, randomUUID } from "node:crypto";
import { create, type DescMessage, type MessageInitShape, type MessageShape } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { Partitioners, type Producer } from "kafkajs";
import mysql from "mysql2/promise";
import { DeliveryService, type PartnerSchema } from "@shopmesh/gen/shopmesh/delivery/v1/delivery_pb.js";
import { OrderPlacedSchema, OrderStatusChangedSchema } from "@shopmesh/gen/shopmesh/events/v1/order_events_pb.js";
import { OrderLineSchema, OrderStatus } from "@shopmesh/gen/shopmesh/order/v1/order_pb.js";
import { PostalAddressSchema } from "@shopmesh/gen/shopmesh/type/v1/address_pb.js";
import { TOPICS } from "@shopmesh/platform";
import { cloudEventHeaders, decodeEvent, encodeEvent, newEventId } from "@shopmesh/platform/data";
import { connectClient, createTestTokens, dropDatabase, eventProcessed, TEST_MYSQL, testDatabaseName, testKafka, testLogger } from "@shopmesh/platform/testing";
import { buildDelivery, type DeliveryApp } from "../src/app.js";
import { loadDeliveryConfig } from "../src/config.js";

export const newId = (): string => randomUUID();

/** A postal-code area no other test uses (partners are shared within a test file's database). */
export const uniqueArea = (): string => `Q${randomBytes(3).toString("hex").toUpperCase()}`;

/** Partner fields for CreatePartner, serving `area`. */
export function buildPartner(area: string, overrides: MessageInitShape<typeof PartnerSchema> = {}): MessageInitShape<typeof PartnerSchema> {
  return {
    name: `Courier ${area}`,
    contactEmail: `dispatch-${area.toLowerCase()}@couriers.example`,
    phone: "+4930123456",
    available: true,
    serviceAreaPrefixes: [area],
    dailyCapacity: 10,
    maxOrderItems: 0,
    ...overrides,
  };
}

/**
 * A real delivery server on port 0 in its own database, consuming the test file's own order
 * topic (its namespace): it sees only the events its tests produce.
 */
export async function startDelivery(env: Record<string, string> = {}, database = testDatabaseName("delivery")) {
  const tokens = await createTestTokens();
  const producer: Producer = testKafka("delivery-test").producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  await producer.connect();

  const config = loadDeliveryConfig({
    ...process.env,
    NODE_ENV: "test",
    DELIVERY_DATABASE: database,
    ...env,
  });
  const app: DeliveryApp = await buildDelivery(config, testLogger("delivery"), { verifier: tokens.verifier });
  const port = await app.server.listen(0, "127.0.0.1");
  const adminToken = await tokens.token(newId(), ["customer", "admin"]);
  const customerId = newId();
  const customerToken = await tokens.token(customerId, ["customer"]);

  /** Publishes an order event the way order's outbox relay does; returns the message so a test can send it again. */
  async function publish<D extends DescMessage>(schema: D, key: string, event: MessageShape<D>, eventId = newEventId()) {
    const payload = encodeEvent(schema, event);
    const message = {
      key,
      value: Buffer.from(payload),
      headers: cloudEventHeaders({ id: eventId, type: schema.typeName, source: "/shopmesh/order", time: new Date().toISOString(), key, payload }),
    };
    await producer.send({ topic: TOPICS.order, acks: -1, messages: [message] });
    return { resend: () => producer.send({ topic: TOPICS.order, acks: -1, messages: [message] }) };
  }

  return {
    app,
    port,
    database,
    customerId,
    tokens,
    admin: connectClient(DeliveryService, port, { token: adminToken }),
    customer: connectClient(DeliveryService, port, { token: customerToken }),
    anonymous: connectClient(DeliveryService, port),
    /** A client acting as `userId` with `roles`. */
    async as(userId: string, roles: string[]) {
      return connectClient(DeliveryService, port, { token: await tokens.token(userId, roles) });
    },
    /** OrderPlaced for a new order of the test's customer with `itemCount` units shipped to `postalCode`. */
    placeOrder(postalCode: string, itemCount = 2, orderId = newId(), userId = customerId) {
      const event = create(OrderPlacedSchema, {
        orderId,
        occurredTime: timestampNow(),
        userId,
        userEmail: "customer@example.com",
        lines: [
          create(OrderLineSchema, { productId: newId(), name: "Thing", quantity: itemCount - 1 }),
          create(OrderLineSchema, { productId: newId(), name: "Other thing", quantity: 1 }),
        ],
        shippingAddress: create(PostalAddressSchema, { recipientName: "Ada", line1: "Main St 1", city: "Berlin", postalCode, countryCode: "DE" }),
        paymentId: newId(),
      });
      return publish(OrderPlacedSchema, orderId, event);
    },
    /** OrderStatusChanged from PENDING to `status` (PAID by default). */
    changeOrderStatus(orderId: string, status: OrderStatus = OrderStatus.PAID, userId = customerId) {
      const event = create(OrderStatusChangedSchema, { orderId, occurredTime: timestampNow(), userId, oldStatus: OrderStatus.PENDING, newStatus: status });
      return publish(OrderStatusChangedSchema, orderId, event);
    },
    /**
     * Waits until everything published so far for `orderId` has been consumed, duplicates included:
     * a marker (an OrderStatusChanged delivery ignores) on the order's key, so behind them on its partition.
     */
    async consumedUpTo(orderId: string, userId = customerId) {
      const eventId = newEventId();
      const event = create(OrderStatusChangedSchema, {
        orderId,
        occurredTime: timestampNow(),
        userId,
        oldStatus: OrderStatus.PENDING,
        newStatus: OrderStatus.PENDING,
      });
      await publish(OrderStatusChangedSchema, orderId, event, eventId);
      await eventProcessed(database, eventId);
    },
    async stop({ drop = true }: { drop?: boolean } = {}) {
      await app.server.shutdown(1_000);
      for (const closer of app.closers) await closer.close();
      await producer.disconnect();
      if (drop) await dropDatabase(database);
    },
  };
}

export type RunningDelivery = Awaited<ReturnType<typeof startDelivery>>;

async function query<T extends mysql.RowDataPacket>(database: string, sql: string, params: unknown[]): Promise<T[]> {
  const connection = await mysql.createConnection({ ...TEST_MYSQL, database });
  try {
    const [rows] = await connection.query<T[]>(sql, params);
    return rows;
  } finally {
    await connection.end();
  }
}

/** Events of one type and key recorded in the outbox (published or not), oldest first. */
export async function outboxEvents<D extends DescMessage>(database: string, schema: D, key: string): Promise<Array<MessageShape<D>>> {
  const rows = await query<mysql.RowDataPacket>(database, "SELECT payload FROM outbox WHERE event_type = ? AND event_key = ? ORDER BY id", [
    schema.typeName,
    key,
  ]);
  return rows.map((row) => decodeEvent(schema, row["payload"] as Buffer));
}

/** Whether every outbox row of an order has been published to Kafka by the relay. */
export async function allPublished(database: string, key: string): Promise<boolean> {
  const rows = await query<mysql.RowDataPacket>(database, "SELECT COUNT(*) AS n FROM outbox WHERE event_key = ? AND published_at IS NULL", [key]);
  return Number(rows[0]!["n"]) === 0;
}
