import type { Product } from "@shopmesh/gen/shopmesh/catalog/v1/catalog_pb.js";
import { useEffect, useState } from "preact/hooks";
import { cart, cartApi, catalog, inventory, session } from "../api.js";
import { toFriendlyError, type FriendlyError } from "../errors.js";
import { formatMoney } from "../money.js";
import { currentRoute, href, navigate, type Route } from "../router.js";
import { useStore } from "../store.js";
import { ErrorNotice, Page, useAsync, useDebounced } from "../ui.js";

const PAGE_SIZE = 8;
const SEARCH_DEBOUNCE_MS = 300;

function ProductGrid({ products, label }: { products: Product[]; label: string }) {
  if (products.length === 0) return <p class="empty">No products here yet.</p>;
  return (
    <ul class="grid" aria-label={label}>
      {products.map((product) => (
        <li key={product.id} class="card">
          <a href={href("product", product.id)} class="card-link">
            <span class="card-name">{product.name}</span>
            <span class="price">{formatMoney(product.price)}</span>
          </a>
        </li>
      ))}
    </ul>
  );
}

/** Home: categories with paginated products, and search that answers as you type. */
export function ShopPage({ route }: { route: Route }) {
  const categoryId = route.query.get("category") ?? "";
  const [query, setQuery] = useState(route.query.get("q") ?? "");
  const search = useDebounced(query.trim(), SEARCH_DEBOUNCE_MS);
  // The query lives in the address too, so Back from a product returns to the same results.
  // Only while the address still shows this listing: a navigation made since this render (its
  // hashchange not yet handled) owns the address, and overwriting it would undo that navigation.
  useEffect(() => {
    const shown = currentRoute();
    if (shown.path.length > 0 || (shown.query.get("category") ?? "") !== categoryId) return;
    const params = new URLSearchParams(categoryId ? { category: categoryId } : {});
    if (search) params.set("q", search);
    const next = `#/${params.size ? `?${params}` : ""}`;
    if (location.hash !== next) history.replaceState(history.state, "", next);
  }, [search, categoryId]);
  // Page tokens of the pages before the current one, for "Previous".
  const [tokens, setTokens] = useState<string[]>([""]);
  useEffect(() => setTokens([""]), [categoryId]);

  const categories = useAsync((signal) => catalog.listCategories({ pageSize: 100 }, { signal }), []);
  const activeCategory = categoryId || categories.data?.categories[0]?.id || "";
  const pageToken = tokens[tokens.length - 1] ?? "";
  const listing = useAsync(
    async (signal) => (search ? undefined : catalog.listProducts({ categoryId: activeCategory, pageSize: PAGE_SIZE, pageToken }, { signal })),
    [activeCategory, pageToken, search],
  );
  const results = useAsync(async (signal) => (search ? catalog.searchProducts({ query: search, pageSize: 20 }, { signal }) : undefined), [search]);

  return (
    <Page title="Shop">
      <div class="search" role="search">
        <label for="search">Search products</label>
        <input
          id="search"
          type="search"
          placeholder="Kettle, mug, …"
          value={query}
          onInput={(event) => setQuery((event.target as HTMLInputElement).value)}
          autoComplete="off"
        />
      </div>
      {search ? (
        <section aria-labelledby="results-title" aria-busy={results.loading}>
          <h2 id="results-title">Results for “{search}”</h2>
          <ErrorNotice error={results.error} onRetry={results.reload} />
          {results.data && <ProductGrid products={results.data.products} label="Search results" />}
        </section>
      ) : (
        <>
          <nav aria-label="Categories" class="categories">
            <ErrorNotice error={categories.error} onRetry={categories.reload} />
            <ul>
              {categories.data?.categories.map((category) => (
                <li key={category.id}>
                  <a href={`#/?category=${encodeURIComponent(category.id)}`} aria-current={category.id === activeCategory ? "page" : undefined}>
                    {category.name}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          <section aria-label="Products" aria-busy={listing.loading}>
            <ErrorNotice error={listing.error} onRetry={listing.reload} />
            {listing.data && <ProductGrid products={listing.data.products} label="Products" />}
            <div class="pager">
              <button type="button" disabled={tokens.length <= 1} onClick={() => setTokens((stack) => stack.slice(0, -1))}>
                Previous page
              </button>
              <span>Page {tokens.length}</span>
              <button
                type="button"
                disabled={!listing.data?.nextPageToken}
                onClick={() => listing.data?.nextPageToken && setTokens((stack) => [...stack, listing.data!.nextPageToken])}
              >
                Next page
              </button>
            </div>
          </section>
        </>
      )}
    </Page>
  );
}

/** One product: price, stock and "Add to cart". */
export function ProductPage({ productId }: { productId: string }) {
  const { user } = useStore(session);
  const product = useAsync((signal) => catalog.getProduct({ productId }, { signal }), [productId]);
  const stock = useAsync((signal) => inventory.getStock({ productId }, { signal }), [productId]);
  const [quantity, setQuantity] = useState(1);
  const [status, setStatus] = useState<string>();
  const [error, setError] = useState<FriendlyError>();
  const available = stock.data?.stockLevel?.available;

  async function add() {
    if (!user) return navigate(`#/signin?next=${encodeURIComponent(href("product", productId))}`);
    setError(undefined);
    setStatus("Adding…");
    try {
      const response = await cartApi.addItem({ productId, quantity });
      cart.set(response.cart);
      setStatus(`Added to your cart (${response.cart?.itemCount ?? quantity} item${response.cart?.itemCount === 1 ? "" : "s"} in cart).`);
    } catch (err) {
      setStatus(undefined);
      setError(toFriendlyError(err));
    }
  }

  const p = product.data?.product;
  return (
    <Page title={p?.name ?? "Product"}>
      <ErrorNotice error={product.error} onRetry={product.reload} />
      {p && (
        <article class="product">
          <p class="price price-large" data-testid="product-price">
            {formatMoney(p.price)}
          </p>
          <p>{p.description}</p>
          <p class={available === 0 ? "stock out" : "stock"}>
            {available === undefined ? "" : available === 0 ? "Out of stock" : available < 5 ? `Only ${available} left` : "In stock"}
          </p>
          <form
            class="add"
            onSubmit={(event) => {
              event.preventDefault();
              void add();
            }}
          >
            <label for="quantity">Quantity</label>
            <input
              id="quantity"
              type="number"
              min={1}
              max={99}
              value={quantity}
              onInput={(event) => setQuantity(Math.max(1, Number((event.target as HTMLInputElement).value) || 1))}
            />
            <button type="submit" class="primary" disabled={available === 0}>
              {user ? "Add to cart" : "Sign in to buy"}
            </button>
          </form>
          <p role="status" class="status">
            {status}
          </p>
          <ErrorNotice error={error} onRetry={() => void add()} />
        </article>
      )}
    </Page>
  );
}
