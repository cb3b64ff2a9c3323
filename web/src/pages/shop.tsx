import { create } from "@bufbuild/protobuf";
import type { Category, Facet, Product } from "@shopmesh/gen/shopmesh/catalog/v1/catalog_pb.js";
import { MoneySchema } from "@shopmesh/gen/shopmesh/type/v1/money_pb.js";
import { useEffect, useState } from "preact/hooks";
import { cart, cartApi, catalog, inventory, session } from "../api.js";
import { toFriendlyError, type FriendlyError } from "../errors.js";
import { formatMoney } from "../money.js";
import { currentRoute, href, navigate, type Route } from "../router.js";
import { useStore } from "../store.js";
import { ErrorNotice, Page, useAsync, useDebounced } from "../ui.js";

const PAGE_SIZE = 8;
const SEARCH_DEBOUNCE_MS = 300;
const SUGGEST_DEBOUNCE_MS = 120;

/** What narrows a search: the facet values the shopper ticked. */
interface SearchFilters {
  categoryId: string;
  brands: string[];
  /** A price facet bucket, "from-to" in minor units ("" = any price). */
  price: string;
  inStock: boolean;
}
const NO_FILTERS: SearchFilters = { categoryId: "", brands: [], price: "", inStock: false };

/** "€25 – €50" for the bucket "2500-5000"; "€500 and more" for the open "50000-". */
function priceLabel(bucket: string): string {
  const [from = "0", to = ""] = bucket.split("-");
  const euros = (minor: string) => formatMoney(create(MoneySchema, { currency: "EUR", amountMinor: BigInt(minor) })).replace(/\.00$/, "");
  return to ? `${euros(from)} – ${euros(to)}` : `${euros(from)} and more`;
}

/** The facet counts of a search, as filters the shopper can tick (a ticked value stays visible with 0). */
function Facets({
  facets,
  categories,
  filters,
  onChange,
}: {
  facets: Facet[];
  categories: Category[];
  filters: SearchFilters;
  onChange: (next: SearchFilters) => void;
}) {
  const values = (field: string) => facets.find((facet) => facet.field === field)?.values ?? [];
  const categoryName = (id: string) => categories.find((category) => category.id === id)?.name ?? "Other";
  return (
    <aside class="facets" aria-label="Filters">
      <fieldset>
        <legend>Availability</legend>
        <label>
          <input
            type="checkbox"
            checked={filters.inStock}
            onChange={(event) => onChange({ ...filters, inStock: (event.target as HTMLInputElement).checked })}
          />
          In stock only
        </label>
      </fieldset>
      <fieldset hidden={values("category_id").length === 0}>
        <legend>Category</legend>
        {values("category_id").map((value) => (
          <label key={value.value}>
            <input
              type="radio"
              name="facet-category"
              checked={filters.categoryId === value.value}
              onChange={() => onChange({ ...filters, categoryId: value.value })}
            />
            {categoryName(value.value)} <span class="count">({value.count.toString()})</span>
          </label>
        ))}
      </fieldset>
      <fieldset hidden={values("brand").length === 0}>
        <legend>Brand</legend>
        {values("brand").map((value) => (
          <label key={value.value}>
            <input
              type="checkbox"
              checked={filters.brands.includes(value.value)}
              onChange={(event) =>
                onChange({
                  ...filters,
                  brands: (event.target as HTMLInputElement).checked
                    ? [...filters.brands, value.value]
                    : filters.brands.filter((brand) => brand !== value.value),
                })
              }
            />
            {value.value} <span class="count">({value.count.toString()})</span>
          </label>
        ))}
      </fieldset>
      <fieldset hidden={values("price").length === 0}>
        <legend>Price</legend>
        {values("price").map((value) => (
          <label key={value.value}>
            <input type="radio" name="facet-price" checked={filters.price === value.value} onChange={() => onChange({ ...filters, price: value.value })} />
            {priceLabel(value.value)} <span class="count">({value.count.toString()})</span>
          </label>
        ))}
      </fieldset>
      {(filters.categoryId || filters.brands.length > 0 || filters.price || filters.inStock) && (
        <button type="button" onClick={() => onChange(NO_FILTERS)}>
          Clear filters
        </button>
      )}
    </aside>
  );
}

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
  const [filters, setFilters] = useState<SearchFilters>(NO_FILTERS);
  useEffect(() => setFilters(NO_FILTERS), [search]);
  const results = useAsync(
    async (signal) => {
      if (!search) return undefined;
      const [from = "", to = ""] = filters.price.split("-");
      return catalog.searchProducts(
        {
          query: search,
          pageSize: 20,
          categoryId: filters.categoryId,
          brands: filters.brands,
          minPriceMinor: from ? BigInt(from) : 0n,
          // Buckets are [from, to): the highest price in one is a cent below the next.
          maxPriceMinor: to ? BigInt(to) - 1n : 0n,
          inStock: filters.inStock,
        },
        { signal },
      );
    },
    [search, filters],
  );
  // Completions as you type, from the engine (none while it is away).
  const typed = useDebounced(query.trim(), SUGGEST_DEBOUNCE_MS);
  const suggestions = useAsync(async (signal) => (typed ? catalog.suggestProducts({ prefix: typed, limit: 6 }, { signal }) : undefined), [typed]);

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
          list="search-suggestions"
        />
        <datalist id="search-suggestions" aria-label="Suggestions">
          {suggestions.data?.suggestions.map((suggestion) => (
            <option key={suggestion.productId} value={suggestion.text} />
          ))}
        </datalist>
      </div>
      {search ? (
        <section aria-labelledby="results-title" aria-busy={results.loading} class="results">
          <h2 id="results-title">Results for “{search}”</h2>
          <ErrorNotice error={results.error} onRetry={results.reload} />
          {results.data?.degraded && (
            <p class="notice" role="status">
              Search is running in a simpler mode right now: exact words only, no filters.
            </p>
          )}
          {results.data && results.data.products.length === 0 && results.data.suggestedQuery && (
            <p class="did-you-mean">
              Did you mean{" "}
              <button type="button" class="link" onClick={() => setQuery(results.data!.suggestedQuery)}>
                {results.data.suggestedQuery}
              </button>
              ?
            </p>
          )}
          {results.data && results.data.facets.length > 0 && (
            <Facets facets={results.data.facets} categories={categories.data?.categories ?? []} filters={filters} onChange={setFilters} />
          )}
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
