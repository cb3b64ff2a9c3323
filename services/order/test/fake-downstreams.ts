import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { CartService } from "@shopmesh/gen/shopmesh/cart/v1/cart_pb.js";
import { ProductSchema, type Product } from "@shopmesh/gen/shopmesh/catalog/v1/catalog_pb.js";
import { IdentityService } from "@shopmesh/gen/shopmesh/identity/v1/identity_pb.js";
import { InventoryService, ReservationState } from "@shopmesh/gen/shopmesh/inventory/v1/inventory_pb.js";
import { PaymentService, PaymentSchema, PaymentStatus, type Payment } from "@shopmesh/gen/shopmesh/payment/v1/payment_pb.js";
import {
  createRpcServer,
  FailedPreconditionError,
  NotFoundError,
  preconditionFailure,
  registration,
  requireCaller,
  type Logger,
  type RpcServer,
  type TokenVerifier,
} from "@shopmesh/platform";

const notUsed = () => {
  throw new Error("not used by order");
};

/**
 * Stand-ins for the services order calls, served over real gRPC by the platform server. The
 * thing under test is order's own logic; the real services meet in the end-to-end tests.
 */
export function createFakeDownstreams(verifier: TokenVerifier, logger: Logger) {
  const products = new Map<string, Product>();
  const carts = new Map<string, Array<{ productId: string; quantity: number }>>();
  const emails = new Map<string, string>();
  const stock = new Map<string, number>();
  const reservations = new Map<string, { items: Array<{ productId: string; quantity: number }>; state: ReservationState }>();
  const payments = new Map<string, Payment>();
  /** "live" answers from the stock map; "all in stock" is a cart that read stock just before someone else took it. */
  let cartSeesStock: "live" | "all in stock" = "live";
  let reserveFailure: Error | undefined;
  const calls = { reserve: 0, release: [] as string[], commit: [] as string[], createIntent: 0, clearCart: 0 };

  const server: RpcServer = createRpcServer({
    name: "fake-downstreams",
    logger,
    verifier,
    services: [
      registration(IdentityService, {
        register: notUsed,
        login: notUsed,
        refresh: notUsed,
        logout: notUsed,
        getUser: notUsed,
        getMe: (_req, ctx) => {
          const caller = requireCaller(ctx);
          return { user: { id: caller.userId, email: emails.get(caller.userId) ?? `${caller.userId}@example.com`, roles: [...caller.roles] } };
        },
      }),
      registration(CartService, {
        // As the real cart answers: each line priced from the catalog, with whether it can be supplied now.
        getCart: (_req, ctx) => {
          const userId = requireCaller(ctx).userId;
          const lines = (carts.get(userId) ?? []).map((line) => {
            const product = products.get(line.productId);
            const inStock = cartSeesStock === "all in stock" || (product?.active === true && (stock.get(line.productId) ?? 0) >= line.quantity);
            return { productId: line.productId, name: product?.name ?? "", quantity: line.quantity, unitPrice: product?.price, inStock };
          });
          return { cart: { userId, lines } };
        },
        clearCart: (_req, ctx) => {
          calls.clearCart++;
          carts.delete(requireCaller(ctx).userId);
          return {};
        },
        addItem: notUsed,
        updateItemQuantity: notUsed,
        removeItem: notUsed,
      }),
      registration(InventoryService, {
        reserveStock: (req) => {
          calls.reserve++;
          const existing = reservations.get(req.orderId);
          if (existing) return { reservation: { orderId: req.orderId, items: existing.items, state: existing.state } };
          const short = req.items.filter((item) => (stock.get(item.productId) ?? 0) < item.quantity);
          if (reserveFailure) throw reserveFailure;
          if (short.length) {
            throw new FailedPreconditionError(`not enough stock for ${short.map((item) => item.productId).join(", ")}`, {
              details: [
                preconditionFailure(
                  "STOCK",
                  short.map((item) => ({ subject: item.productId, description: "requested more than available" })),
                ),
              ],
            });
          }
          req.items.forEach((item) => stock.set(item.productId, stock.get(item.productId)! - item.quantity));
          const items = req.items.map((item) => ({ productId: item.productId, quantity: item.quantity }));
          reservations.set(req.orderId, { items, state: ReservationState.ACTIVE });
          return { reservation: { orderId: req.orderId, items, state: ReservationState.ACTIVE } };
        },
        releaseReservation: (req) => {
          calls.release.push(req.orderId);
          const reservation = reservations.get(req.orderId);
          if (reservation?.state === ReservationState.ACTIVE) {
            reservation.items.forEach((item) => stock.set(item.productId, stock.get(item.productId)! + item.quantity));
            reservation.state = ReservationState.RELEASED;
          }
          return { reservation: { orderId: req.orderId, state: reservation?.state ?? ReservationState.RELEASED } };
        },
        commitReservation: (req) => {
          calls.commit.push(req.orderId);
          const reservation = reservations.get(req.orderId);
          if (!reservation) throw new NotFoundError("no reservation");
          reservation.state = ReservationState.COMMITTED;
          return { reservation: { orderId: req.orderId, state: reservation.state } };
        },
        getStock: notUsed,
        batchGetStock: notUsed,
        setStock: notUsed,
        adjustStock: notUsed,
      }),
      registration(PaymentService, {
        createPaymentIntent: (req) => {
          calls.createIntent++;
          let payment = payments.get(req.orderId);
          if (!payment) {
            payment = create(PaymentSchema, {
              id: `pay-${payments.size + 1}`,
              orderId: req.orderId,
              userId: req.userId,
              ...(req.amount ? { amount: { currency: req.amount.currency, amountMinor: req.amount.amountMinor } } : {}),
              status: PaymentStatus.REQUIRES_CONFIRMATION,
              checkoutUrl: `http://127.0.0.1/checkout/${req.orderId}`,
              createTime: timestampNow(),
            });
            payments.set(req.orderId, payment);
          }
          return { payment };
        },
        getPaymentByOrder: (req) => {
          const payment = payments.get(req.orderId);
          if (!payment) throw new NotFoundError("no payment");
          return { payment };
        },
        getPayment: notUsed,
        refundPayment: notUsed,
      }),
    ],
  });

  return {
    server,
    calls,
    stock,
    reservations,
    payments,
    addProduct(id: string, name: string, priceMinor: bigint, units: number, active = true) {
      products.set(id, create(ProductSchema, { id, name, active, price: { currency: "EUR", amountMinor: priceMinor } }));
      stock.set(id, units);
    },
    setPrice(id: string, priceMinor: bigint) {
      const product = products.get(id)!;
      products.set(
        id,
        create(ProductSchema, { id: product.id, name: product.name, active: product.active, price: { currency: "EUR", amountMinor: priceMinor } }),
      );
    },
    /** The cart's view of stock for the next checkouts (see cartSeesStock). */
    cartStock(view: "live" | "all in stock") {
      cartSeesStock = view;
    },
    /** Makes ReserveStock fail with `error` until called again without one. */
    failReserve(error?: Error) {
      reserveFailure = error;
    },
    fillCart(userId: string, lines: Array<{ productId: string; quantity: number }>) {
      carts.set(userId, lines);
    },
    cartOf(userId: string) {
      return carts.get(userId);
    },
  };
}
