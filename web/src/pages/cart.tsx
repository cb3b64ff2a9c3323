import type { Cart, CartLine } from "@shopmesh/gen/shopmesh/cart/v1/cart_pb.js";
import { useEffect, useRef, useState } from "preact/hooks";
import { cart, cartApi, loadCart, orders, payments, session } from "../api.js";
import { toFriendlyError, type FriendlyError } from "../errors.js";
import { formatMoney } from "../money.js";
import { href, navigate } from "../router.js";
import { useStore } from "../store.js";
import { ErrorNotice, Field, Page } from "../ui.js";

function Line({ line, onError }: { line: CartLine; onError: (error: FriendlyError | undefined) => void }) {
  const [busy, setBusy] = useState(false);
  async function run(call: () => Promise<{ cart?: Cart | undefined }>) {
    setBusy(true);
    onError(undefined);
    try {
      cart.set((await call()).cart);
    } catch (err) {
      onError(toFriendlyError(err));
    } finally {
      setBusy(false);
    }
  }
  const quantityId = `quantity-${line.productId}`;
  // What the customer is typing, kept apart from the cart so a refresh of the cart (another
  // tab, the header's count) cannot put the old quantity back under their fingers.
  const [draft, setDraft] = useState(String(line.quantity));
  useEffect(() => setDraft(String(line.quantity)), [line.quantity]);
  return (
    <li class="line" data-product-id={line.productId}>
      <div class="line-main">
        <a href={href("product", line.productId)}>{line.name}</a>
        <span class="price">{formatMoney(line.unitPrice)}</span>
      </div>
      {line.priceChanged && (
        <p class="notice notice-price" role="note">
          Price changed from {formatMoney(line.addedUnitPrice)} to {formatMoney(line.unitPrice)} since you added it.
        </p>
      )}
      {!line.inStock && <p class="notice notice-error">Not enough in stock for this quantity.</p>}
      <div class="line-actions">
        <label for={quantityId}>Quantity</label>
        <input
          id={quantityId}
          type="number"
          min={1}
          max={99}
          value={draft}
          disabled={busy}
          onInput={(event) => setDraft((event.target as HTMLInputElement).value)}
          onChange={(event) => {
            const quantity = Number((event.target as HTMLInputElement).value);
            if (quantity >= 1 && quantity <= 99 && quantity !== line.quantity)
              void run(() => cartApi.updateItemQuantity({ productId: line.productId, quantity }));
          }}
        />
        <span class="line-total">{formatMoney(line.lineTotal)}</span>
        <button
          type="button"
          disabled={busy}
          onClick={() => void run(() => cartApi.removeItem({ productId: line.productId }))}
          aria-label={`Remove ${line.name}`}
        >
          Remove
        </button>
      </div>
    </li>
  );
}

export function CartPage() {
  const current = useStore(cart);
  const [error, setError] = useState<FriendlyError>();
  const [loadError, setLoadError] = useState<FriendlyError>();
  const reload = () => {
    setLoadError(undefined);
    loadCart().catch((err: unknown) => setLoadError(toFriendlyError(err)));
  };
  useEffect(reload, []);
  const lines = current?.lines ?? [];
  return (
    <Page title="Your cart">
      <ErrorNotice error={loadError} onRetry={reload} />
      <ErrorNotice error={error} />
      {lines.length === 0 ? (
        <p class="empty">
          Your cart is empty. <a href="#/">Keep shopping</a>
        </p>
      ) : (
        <>
          <ul class="lines" aria-label="Cart items">
            {lines.map((line) => (
              <Line key={line.productId} line={line} onError={setError} />
            ))}
          </ul>
          <p class="subtotal">
            Subtotal: <strong data-testid="cart-subtotal">{formatMoney(current?.subtotal)}</strong>
          </p>
          <a class="button primary" href="#/checkout">
            Checkout
          </a>
        </>
      )}
    </Page>
  );
}

/** Shipping address, then PlaceOrder with one idempotency key per attempt (a retried click is the same order). */
export function CheckoutPage() {
  const { user } = useStore(session);
  const current = useStore(cart);
  const [address, setAddress] = useState({
    recipientName: user?.displayName ?? "",
    line1: "",
    line2: "",
    city: "",
    postalCode: "",
    countryCode: "DE",
    phone: "",
  });
  const [error, setError] = useState<FriendlyError>();
  const [busy, setBusy] = useState(false);
  const idempotencyKey = useRef(crypto.randomUUID());
  const set = (name: keyof typeof address) => (value: string) => setAddress((a) => ({ ...a, [name]: name === "countryCode" ? value.toUpperCase() : value }));

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const { order, payment } = await orders.placeOrder({ idempotencyKey: idempotencyKey.current, shippingAddress: address });
      if (payment) payments.set(order!.id, payment);
      cart.set(undefined);
      navigate(href("orders", order!.id));
    } catch (err) {
      setError(toFriendlyError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Page title="Checkout">
      {current && (
        <p>
          {current.itemCount} item{current.itemCount === 1 ? "" : "s"}, subtotal {formatMoney(current.subtotal)} plus shipping.
        </p>
      )}
      <form class="form" onSubmit={submit} aria-describedby="checkout-help">
        <p id="checkout-help" class="hint">
          Where should we deliver your order?
        </p>
        <Field label="Full name" name="recipientName" value={address.recipientName} onInput={set("recipientName")} required autoComplete="name" />
        <Field label="Street and number" name="line1" value={address.line1} onInput={set("line1")} required autoComplete="address-line1" />
        <Field label="Apartment, floor (optional)" name="line2" value={address.line2} onInput={set("line2")} autoComplete="address-line2" />
        <Field label="City" name="city" value={address.city} onInput={set("city")} required autoComplete="address-level2" />
        <Field label="Postal code" name="postalCode" value={address.postalCode} onInput={set("postalCode")} required autoComplete="postal-code" />
        <Field
          label="Country code"
          name="countryCode"
          value={address.countryCode}
          onInput={set("countryCode")}
          required
          autoComplete="country"
          pattern="[A-Za-z]{2}"
          maxLength={2}
          hint="Two letters, e.g. DE."
        />
        <Field
          label="Phone (optional)"
          name="phone"
          type="tel"
          value={address.phone}
          onInput={set("phone")}
          autoComplete="tel"
          hint="International format, e.g. +4930123456."
        />
        <ErrorNotice error={error} onRetry={() => void submit(new Event("submit"))} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Placing order…" : "Place order and pay"}
        </button>
      </form>
      {error?.kind === "out-of-stock" && (
        <p>
          <a href="#/cart">Back to your cart</a>
        </p>
      )}
    </Page>
  );
}
