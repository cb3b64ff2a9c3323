import { Code, ConnectError } from "@connectrpc/connect";
import { OrderStatus, type Order } from "@shopmesh/gen/shopmesh/order/v1/order_pb.js";
import { useEffect, useState } from "preact/hooks";
import { orders, payments, refreshSession } from "../api.js";
import { toFriendlyError, type FriendlyError } from "../errors.js";
import { formatMoney } from "../money.js";
import { href } from "../router.js";
import { ErrorNotice, Page, useAsync } from "../ui.js";

const STATUS_TEXT: Record<OrderStatus, string> = {
  [OrderStatus.UNSPECIFIED]: "Unknown",
  [OrderStatus.PENDING]: "Awaiting payment",
  [OrderStatus.PAID]: "Paid",
  [OrderStatus.PACKED]: "Packed",
  [OrderStatus.SHIPPED]: "Shipped",
  [OrderStatus.DELIVERED]: "Delivered",
  [OrderStatus.CANCELLED]: "Cancelled",
  [OrderStatus.PAYMENT_FAILED]: "Payment failed",
};

export const statusText = (order: Order) => STATUS_TEXT[order.status] ?? "Unknown";

const RECONNECT_MAX_MS = 15_000;

/**
 * The order as WatchOrder streams it: a snapshot, then every change. The stream is reopened
 * with backoff when the network drops, and after a token refresh when the session expired.
 */
function useWatchedOrder(orderId: string) {
  const [order, setOrder] = useState<Order>();
  const [error, setError] = useState<FriendlyError>();
  const [live, setLive] = useState(false);
  useEffect(() => {
    const controller = new AbortController();
    void (async () => {
      let backoff = 500;
      while (!controller.signal.aborted) {
        try {
          for await (const update of orders.watchOrder({ orderId }, { signal: controller.signal })) {
            setOrder(update.order);
            setLive(true);
            setError(undefined);
            backoff = 500;
          }
        } catch (err) {
          if (controller.signal.aborted) return;
          const code = ConnectError.from(err).code;
          if (code === Code.Unauthenticated && (await refreshSession())) continue;
          const friendly = toFriendlyError(err);
          setError(friendly);
          if (!friendly.retryable) return;
        }
        setLive(false);
        await new Promise((resolve) => setTimeout(resolve, backoff));
        backoff = Math.min(backoff * 2, RECONNECT_MAX_MS);
      }
    })();
    return () => controller.abort();
  }, [orderId]);
  return { order, error, live };
}

export function OrderPage({ orderId }: { orderId: string }) {
  const { order, error, live } = useWatchedOrder(orderId);
  const payment = payments.get(orderId);
  const awaitingPayment = order?.status === OrderStatus.PENDING && payment?.checkoutUrl;
  return (
    <Page title="Your order">
      <p class="live" aria-live="polite">
        <span class={live ? "dot dot-live" : "dot"} aria-hidden="true" /> {live ? "Live updates on" : "Connecting for live updates…"}
      </p>
      <ErrorNotice error={error} />
      {order && (
        <>
          <dl class="order-status">
            <dt>Status</dt>
            <dd data-testid="order-status" role="status" aria-live="polite">
              {statusText(order)}
            </dd>
            <dt>Delivery</dt>
            <dd data-testid="delivery-status">
              {order.deliveryId ? "Courier assigned" : order.status === OrderStatus.PAID ? "Finding a courier…" : "Not yet"}
            </dd>
            <dt>Total</dt>
            <dd>{formatMoney(order.total)}</dd>
          </dl>
          {order.cancelReason && <p class="notice">Reason: {order.cancelReason}</p>}
          {awaitingPayment && (
            <section aria-labelledby="pay-title" class="pay">
              <h2 id="pay-title">Pay {formatMoney(order.total)}</h2>
              <p class="hint">Your card details go straight to the payment provider; the shop never sees them.</p>
              <iframe title="Card payment" src={payment.checkoutUrl} class="pay-frame" />
            </section>
          )}
          <h2>Items</h2>
          <ul class="lines">
            {order.lines.map((line) => (
              <li key={line.productId} class="line">
                <div class="line-main">
                  <span>
                    {line.quantity} × {line.name}
                  </span>
                  <span class="price">{formatMoney(line.lineTotal)}</span>
                </div>
              </li>
            ))}
          </ul>
          <p>
            Shipping: {formatMoney(order.shippingFee)} · to {order.shippingAddress?.recipientName}, {order.shippingAddress?.city}
          </p>
        </>
      )}
      <p>
        <a href="#/orders">All your orders</a>
      </p>
    </Page>
  );
}

export function OrdersPage() {
  const list = useAsync((signal) => orders.listOrders({ pageSize: 50 }, { signal }), []);
  return (
    <Page title="Your orders">
      <ErrorNotice error={list.error} onRetry={list.reload} />
      {list.data && list.data.orders.length === 0 && <p class="empty">No orders yet.</p>}
      <ul class="lines" aria-label="Orders">
        {list.data?.orders.map((order) => (
          <li key={order.id} class="line" data-order-id={order.id}>
            <a href={href("orders", order.id)} class="line-main">
              <span>
                {order.createTime ? new Date(Number(order.createTime.seconds) * 1000).toLocaleString() : ""} · {order.lines.length} item
                {order.lines.length === 1 ? "" : "s"}
              </span>
              <span>
                {statusText(order)} · {formatMoney(order.total)}
              </span>
            </a>
          </li>
        ))}
      </ul>
    </Page>
  );
}
