import { randomBytes } from "node:crypto";
import mysql from "mysql2/promise";
import { CartService } from "@shopmesh/gen/shopmesh/cart/v1/cart_pb.js";
import { CatalogService } from "@shopmesh/gen/shopmesh/catalog/v1/catalog_pb.js";
import { IdentityService } from "@shopmesh/gen/shopmesh/identity/v1/identity_pb.js";
import { InventoryService } from "@shopmesh/gen/shopmesh/inventory/v1/inventory_pb.js";
import { OrderService, OrderStatus, type Order } from "@shopmesh/gen/shopmesh/order/v1/order_pb.js";
import { PaymentService, PaymentStatus } from "@shopmesh/gen/shopmesh/payment/v1/payment_pb.js";
import { connectClient, eventually, TEST_MYSQL } from "@shopmesh/platform/testing";
import type { Mesh } from "./mesh.js";

export const CARD_OK = "4242424242424242";
export const CARD_DECLINED = "4000000000000002";
const MAILPIT = `http://127.0.0.1:${process.env["MAILPIT_UI_PORT"] ?? 8025}`;
export const address = { recipientName: "Jane Shopper", line1: "1 Invalidenstr.", city: "Berlin", postalCode: "10115", countryCode: "DE" };

/** A Connect client of one of the mesh's services, as the storefront (with a token) or anyone. */
const meshClient = <S extends Parameters<typeof connectClient>[0]>(mesh: Mesh, service: S, name: string, token?: string) =>
  connectClient(service, mesh.ports[name]!, token ? { token } : {});

/** A new customer, registered at identity, with clients that carry their token. */
async function registerCustomer(mesh: Mesh) {
  const email = `shopper-${randomBytes(5).toString("hex")}@example.com`;
  const { tokens, user } = await meshClient(mesh, IdentityService, "identity").register({
    email,
    password: "correct horse battery",
    displayName: "Jane Shopper",
  });
  const token = tokens!.accessToken;
  return {
    email,
    userId: user!.id,
    token,
    cart: meshClient(mesh, CartService, "cart", token),
    orders: meshClient(mesh, OrderService, "order", token),
    payments: meshClient(mesh, PaymentService, "payment", token),
  };
}

export type Customer = Awaited<ReturnType<typeof registerCustomer>>;

/**
 * What an end-to-end test does in a running mesh, the way a storefront and an operator would:
 * customers who register, fill a cart and check out; products an admin creates and stocks;
 * payments confirmed at the provider simulator; and reads of a service's own database.
 */
export async function openShop(mesh: Mesh) {
  const client = <S extends Parameters<typeof connectClient>[0]>(service: S, name: string, token?: string) => meshClient(mesh, service, name, token);
  const signInAsAdmin = async () =>
    (await client(IdentityService, "identity").login({ email: "admin@shopmesh.local", password: "admin-password" })).tokens!.accessToken;
  const adminToken = await signInAsAdmin();
  // Access tokens live 15 minutes; a long run (the chaos matrix) signs in again well before.
  let admin = { token: adminToken, at: Date.now() };
  const currentAdminToken = async () => {
    if (Date.now() - admin.at > 5 * 60_000) admin = { token: await signInAsAdmin(), at: Date.now() };
    return admin.token;
  };
  const { category } = await client(CatalogService, "catalog", adminToken).createCategory({
    category: { slug: `kitchen-${randomBytes(3).toString("hex")}`, name: "Kitchen" },
  });
  const categoryId = category!.id;

  /** Waits until the order passes `accept` (30 s), and returns it. */
  async function orderWhere(customer: Customer, orderId: string, what: string, accept: (order: Order) => boolean): Promise<Order> {
    return eventually(
      async () => {
        const { order } = await customer.orders.getOrder({ orderId });
        return order && accept(order) ? order : undefined;
      },
      { timeoutMs: 30_000, what: `order ${orderId} ${what}` },
    );
  }

  /** Rows from a service's own database (what it wrote, not what it answers). */
  async function query<T>(service: string, sql: string, params: unknown[]): Promise<T[]> {
    const connection = await mysql.createConnection({ ...TEST_MYSQL, database: mesh.databases[service]! });
    try {
      const [rows] = await connection.query(sql, params);
      return rows as T[];
    } finally {
      await connection.end();
    }
  }

  return {
    client,
    adminToken,
    newCustomer: () => registerCustomer(mesh),

    /** A product in the catalog with `units` on hand; returns its id. */
    async newProduct(priceMinor: bigint, units: number) {
      const sku = `E2E-${randomBytes(5).toString("hex").toUpperCase()}`;
      const token = await currentAdminToken();
      const { product } = await client(CatalogService, "catalog", token).createProduct({
        product: { sku, name: `Test kettle ${sku}`, description: "Boils water.", categoryId, price: { currency: "EUR", amountMinor: priceMinor } },
      });
      await client(InventoryService, "inventory", token).setStock({ productId: product!.id, onHand: units });
      return product!.id;
    },

    async stockOf(productId: string) {
      const { stockLevel } = await client(InventoryService, "inventory").getStock({ productId });
      return { onHand: stockLevel!.onHand, reserved: stockLevel!.reserved, available: stockLevel!.available };
    },

    orderWhere,

    /** Waits until the order reaches `status` (30 s), and returns it. */
    orderIn: (customer: Customer, orderId: string, status: OrderStatus) =>
      orderWhere(customer, orderId, OrderStatus[status], (order) => order.status === status),

    /** Puts `quantity` of the product in the cart and places the order; it is PENDING with a provider intent. */
    async checkout(customer: Customer, productId: string, quantity: number) {
      await customer.cart.addItem({ productId, quantity });
      const { order, payment } = await customer.orders.placeOrder({ idempotencyKey: `e2e-${randomBytes(6).toString("hex")}`, shippingAddress: address });
      expect(order?.status).toBe(OrderStatus.PENDING);
      expect(payment?.providerIntentId).toBeTruthy();
      return { order: order!, payment: payment! };
    },

    /** The customer pays at the provider simulator, as the hosted checkout page does. */
    async confirmAtProvider(intentId: string, cardNumber: string): Promise<void> {
      const response = await fetch(`http://127.0.0.1:${mesh.ports["payment-provider-sim"]}/v1/payment_intents/${intentId}/confirm`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ card_number: cardNumber }),
      });
      expect(response.status).toBeLessThan(300);
    },

    /** Tells the provider simulator how to misbehave (duplicate or reorder webhooks…); `{}` resets it. */
    async setProviderBehaviour(behaviour: Record<string, unknown>): Promise<void> {
      const response = await fetch(`http://127.0.0.1:${mesh.ports["payment-provider-sim"]}/v1/test/behaviour`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(behaviour),
      });
      expect(response.status).toBeLessThan(300);
    },

    /** Subjects of the emails Mailpit holds for `to` (a recipient the test made up, so only its own). */
    async emailsTo(to: string): Promise<string[]> {
      const response = await fetch(`${MAILPIT}/api/v1/search?query=${encodeURIComponent(`to:"${to}"`)}&limit=100`);
      const body = (await response.json()) as { messages: Array<{ Subject: string }> };
      return body.messages.map((message) => message.Subject);
    },

    query,

    /**
     * Waits until the order shows its payment REFUNDED, then returns what the customer reads on
     * the order and on the payment, and the payment's ledger as [movement, sum] per entry group
     * (every group of a balanced ledger sums to 0).
     */
    async refundOutcome(customer: Customer, orderId: string, paymentId: string) {
      const order = await orderWhere(customer, orderId, "refunded", (current) => current.paymentStatus === PaymentStatus.REFUNDED);
      const { payment } = await customer.payments.getPayment({ paymentId });
      const groups = await query<{ movement: string; total: string }>(
        "payment",
        "SELECT movement, SUM(amount_minor) AS total FROM ledger_entries WHERE payment_id = ? GROUP BY entry_group_id, movement ORDER BY MIN(id)",
        [paymentId],
      );
      return {
        order: { status: OrderStatus[order.status], cancelReason: order.cancelReason, refundedMinor: order.refunded?.amountMinor },
        payment: { status: PaymentStatus[payment!.status], refundedMinor: payment?.refundedAmount?.amountMinor },
        ledger: groups.map((group) => [group.movement, Number(group.total)]),
      };
    },
  };
}

export type Shop = Awaited<ReturnType<typeof openShop>>;
