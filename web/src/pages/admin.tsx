import type { Product } from "@shopmesh/gen/shopmesh/catalog/v1/catalog_pb.js";
import type { Partner } from "@shopmesh/gen/shopmesh/delivery/v1/delivery_pb.js";
import { useState } from "preact/hooks";
import { catalog, delivery, inventory, isAdmin, session } from "../api.js";
import { toFriendlyError, type FriendlyError } from "../errors.js";
import { formatMoney, minorToText, parseMinor } from "../money.js";
import { useStore } from "../store.js";
import { ErrorNotice, Field, Page, useAsync } from "../ui.js";

type Tab = "products" | "partners";

/** Products (price), stock (SetStock) and delivery partners; shown only to admins, and the services check the role again. */
export function AdminPage() {
  const { user } = useStore(session);
  const [tab, setTab] = useState<Tab>("products");
  if (!isAdmin(user)) {
    return (
      <Page title="Admin">
        <p class="notice">This area is for shop administrators.</p>
      </Page>
    );
  }
  return (
    <Page title="Admin">
      <div role="tablist" aria-label="Admin sections" class="tabs">
        {(["products", "partners"] as const).map((name) => (
          <button
            key={name}
            type="button"
            role="tab"
            id={`tab-${name}`}
            aria-selected={tab === name}
            aria-controls={`panel-${name}`}
            onClick={() => setTab(name)}
          >
            {name === "products" ? "Products and stock" : "Delivery partners"}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === "products" ? <ProductsAdmin /> : <PartnersAdmin />}
      </div>
    </Page>
  );
}

function ProductsAdmin() {
  const [pageTokens, setPageTokens] = useState<string[]>([""]);
  const pageToken = pageTokens[pageTokens.length - 1] ?? "";
  const list = useAsync(
    async (signal) => {
      const { products, nextPageToken } = await catalog.listProducts({ pageSize: 20, pageToken, includeInactive: true }, { signal });
      const stock = products.length ? await inventory.batchGetStock({ productIds: products.map((p) => p.id) }, { signal }) : { stockLevels: [] };
      return { products, nextPageToken, onHand: new Map(stock.stockLevels.map((level) => [level.productId, level.onHand])) };
    },
    [pageToken],
  );
  return (
    <>
      <ErrorNotice error={list.error} onRetry={list.reload} />
      <ul class="lines" aria-label="Products">
        {list.data?.products.map((product) => (
          <ProductRow key={product.id} product={product} onHand={list.data!.onHand.get(product.id) ?? 0} />
        ))}
      </ul>
      <div class="pager">
        <button type="button" disabled={pageTokens.length <= 1} onClick={() => setPageTokens((s) => s.slice(0, -1))}>
          Previous page
        </button>
        <button
          type="button"
          disabled={!list.data?.nextPageToken}
          onClick={() => list.data?.nextPageToken && setPageTokens((s) => [...s, list.data!.nextPageToken])}
        >
          Next page
        </button>
      </div>
    </>
  );
}

function ProductRow({ product: initial, onHand: initialOnHand }: { product: Product; onHand: number }) {
  const [product, setProduct] = useState(initial);
  const [price, setPrice] = useState(minorToText(initial.price?.amountMinor ?? 0n));
  const [onHand, setOnHand] = useState(String(initialOnHand));
  const [status, setStatus] = useState<string>();
  const [error, setError] = useState<FriendlyError>();

  async function savePrice(event: Event) {
    event.preventDefault();
    const amountMinor = parseMinor(price);
    if (amountMinor === undefined) return setError({ kind: "invalid", message: "Enter a price like 24.99.", retryable: false });
    setError(undefined);
    try {
      const response = await catalog.updateProduct({
        product: { id: product.id, price: { currency: product.price?.currency ?? "EUR", amountMinor } },
        updateMask: { paths: ["price"] },
      });
      setProduct(response.product!);
      setStatus(`Price saved: ${formatMoney(response.product?.price)}`);
    } catch (err) {
      setError(toFriendlyError(err));
    }
  }

  async function saveStock(event: Event) {
    event.preventDefault();
    const units = Number(onHand);
    if (!Number.isInteger(units) || units < 0) return setError({ kind: "invalid", message: "Enter a whole number of units.", retryable: false });
    setError(undefined);
    try {
      const { stockLevel } = await inventory.setStock({ productId: product.id, onHand: units });
      setStatus(`Stock saved: ${stockLevel?.onHand} on hand, ${stockLevel?.available} available`);
    } catch (err) {
      setError(toFriendlyError(err));
    }
  }

  const id = product.id;
  return (
    <li class="line admin-row" data-product-id={id}>
      <div class="line-main">
        <strong>{product.name}</strong>
        <span>
          {product.sku} · {formatMoney(product.price)}
          {product.active ? "" : " · inactive"}
        </span>
      </div>
      <div class="admin-forms">
        <form onSubmit={savePrice} class="inline">
          <label for={`price-${id}`}>Price ({product.price?.currency ?? "EUR"})</label>
          <input id={`price-${id}`} value={price} inputMode="decimal" onInput={(e) => setPrice((e.target as HTMLInputElement).value)} />
          <button type="submit">Save price</button>
        </form>
        <form onSubmit={saveStock} class="inline">
          <label for={`stock-${id}`}>On hand</label>
          <input id={`stock-${id}`} type="number" min={0} value={onHand} onInput={(e) => setOnHand((e.target as HTMLInputElement).value)} />
          <button type="submit">Save stock</button>
        </form>
      </div>
      <p role="status" class="status">
        {status}
      </p>
      <ErrorNotice error={error} />
    </li>
  );
}

function PartnersAdmin() {
  const list = useAsync((signal) => delivery.listPartners({ pageSize: 100 }, { signal }), []);
  const [form, setForm] = useState({ name: "", contactEmail: "", areas: "", dailyCapacity: "20" });
  const [error, setError] = useState<FriendlyError>();
  const [status, setStatus] = useState<string>();
  const set = (name: keyof typeof form) => (value: string) => setForm((f) => ({ ...f, [name]: value }));

  async function create(event: Event) {
    event.preventDefault();
    setError(undefined);
    try {
      const { partner } = await delivery.createPartner({
        partner: {
          name: form.name,
          contactEmail: form.contactEmail,
          available: true,
          serviceAreaPrefixes: form.areas
            .split(",")
            .map((area) => area.trim())
            .filter(Boolean),
          dailyCapacity: Number(form.dailyCapacity) || 0,
        },
      });
      setStatus(`Created ${partner?.name}`);
      setForm({ name: "", contactEmail: "", areas: "", dailyCapacity: "20" });
      list.reload();
    } catch (err) {
      setError(toFriendlyError(err));
    }
  }

  return (
    <>
      <ErrorNotice error={list.error} onRetry={list.reload} />
      <ul class="lines" aria-label="Delivery partners">
        {list.data?.partners.map((partner: Partner) => (
          <li key={partner.id} class="line">
            <div class="line-main">
              <strong>{partner.name}</strong>
              <span>
                {partner.available ? "available" : "unavailable"} · areas {partner.serviceAreaPrefixes.join(", ") || "all"} · {partner.dailyCapacity}/day
              </span>
            </div>
          </li>
        ))}
      </ul>
      <h2>New delivery partner</h2>
      <form class="form" onSubmit={create}>
        <Field label="Name" name="partnerName" value={form.name} onInput={set("name")} required />
        <Field label="Contact email" name="partnerEmail" type="email" value={form.contactEmail} onInput={set("contactEmail")} required />
        <Field
          label="Postal code prefixes"
          name="partnerAreas"
          value={form.areas}
          onInput={set("areas")}
          hint="Comma-separated, e.g. 10, 12. Empty serves everywhere."
        />
        <Field label="Daily capacity" name="partnerCapacity" type="number" value={form.dailyCapacity} onInput={set("dailyCapacity")} required />
        <ErrorNotice error={error} />
        <button type="submit" class="primary">
          Create partner
        </button>
        <p role="status" class="status">
          {status}
        </p>
      </form>
    </>
  );
}
