// The storefront in real Chromium, through a real Envoy, against the real mesh: what a customer
// does (register, search, cart, checkout, pay, watch the order) and what an admin does.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { CatalogService } from "@shopmesh/gen/shopmesh/catalog/v1/catalog_pb.js";
import { DeliveryService } from "@shopmesh/gen/shopmesh/delivery/v1/delivery_pb.js";
import { IdentityService } from "@shopmesh/gen/shopmesh/identity/v1/identity_pb.js";
import { InventoryService } from "@shopmesh/gen/shopmesh/inventory/v1/inventory_pb.js";
import { connectClient, eventually, freePort, spawnService, type SpawnedService, MESH_SLOT_TIMEOUT_MS } from "@shopmesh/platform/testing";
import { at, REPO_ROOT, startEdge, waitHealthy, type RunningEnvoy } from "../edge/harness.js";
import { startMesh, type Mesh } from "../e2e/mesh.js";
import { buildStorefront, launchChromium, screenshot, serveStorefront, type ServedStorefront } from "./storefront.js";

const SERVICES = ["identity", "catalog", "inventory", "cart", "order", "payment", "payment-provider-sim", "delivery"];
const EDGE_SERVICES = ["identity", "catalog", "inventory", "cart", "order", "delivery"];
const CARD_OK = "4242424242424242";
const PHONE = { width: 390, height: 844 };
/** A word only this run's products carry, so search finds exactly them. */
const RUN = `zq${randomBytes(3).toString("hex")}`;

let mesh: Mesh;
let ratelimit: SpawnedService;
let edge: RunningEnvoy;
let build: Awaited<ReturnType<typeof buildStorefront>>;
let storefront: ServedStorefront;
let browser: Browser;
let adminToken: string;
const products: Record<"kettle" | "mug" | "grinder", { id: string; name: string }> = {} as never;

const client = <S extends Parameters<typeof connectClient>[0]>(service: S, name: string) => connectClient(service, mesh.ports[name]!, { token: adminToken });

async function seedCatalog(): Promise<void> {
  const login = await connectClient(IdentityService, mesh.ports["identity"]!).login({ email: "admin@shopmesh.local", password: "admin-password" });
  adminToken = login.tokens!.accessToken;
  const catalog = client(CatalogService, "catalog");
  const { category } = await catalog.createCategory({ category: { slug: `kitchen-${RUN}`, name: "Kitchen" } });
  const items = { kettle: ["Copper kettle", 3499n], mug: ["Stoneware mug", 1250n], grinder: ["Burr grinder", 1000n] } as const;
  for (const [key, [label, amountMinor]] of Object.entries(items)) {
    const name = `${label} ${RUN}`;
    const { product } = await catalog.createProduct({
      product: {
        sku: `WEB-${key.toUpperCase()}-${RUN.toUpperCase()}`,
        name,
        description: `A ${label.toLowerCase()} for the browser test.`,
        categoryId: category!.id,
        price: { currency: "EUR", amountMinor },
      },
    });
    await client(InventoryService, "inventory").setStock({ productId: product!.id, onHand: 20 });
    products[key as keyof typeof products] = { id: product!.id, name };
  }
  // The search engine learns of new products through their events: wait until it finds them.
  await eventually(
    async () => {
      const found = await catalog.searchProducts({ query: RUN });
      return !found.degraded && found.products.length === 3 ? true : undefined;
    },
    { timeoutMs: 60_000, what: "the run's products in the search index" },
  );
  await client(DeliveryService, "delivery").createPartner({
    partner: { name: "Berlin Bikes", contactEmail: "dispatch@berlin-bikes.example", available: true, serviceAreaPrefixes: ["10"], dailyCapacity: 100 },
  });
}

beforeAll(async () => {
  [mesh, build, browser] = await Promise.all([startMesh(SERVICES), buildStorefront(), launchChromium()]);
  ratelimit = await spawnService("ratelimit");
  // Envoy's CORS policy needs the storefront's origin, the page needs the edge's URL: pick the port first.
  const storefrontPort = await freePort();
  const upstreams = Object.fromEntries(EDGE_SERVICES.map((name) => [name, at(mesh.processes.get(name)!)]));
  edge = await startEdge(
    { ...upstreams, ratelimit: at(ratelimit) },
    { storefrontOrigins: [`http://127.0.0.1:${storefrontPort}`], rateLimitDomain: `web-${RUN}` },
  );
  storefront = await serveStorefront(build.dir, edge.baseUrl, storefrontPort);
  await Promise.all([...EDGE_SERVICES.map((name) => waitHealthy(edge, `${name}_http`)), waitHealthy(edge, "ratelimit"), seedCatalog()]);
}, MESH_SLOT_TIMEOUT_MS);

afterAll(async () => {
  await browser?.close();
  await storefront?.close();
  await edge?.stop();
  await ratelimit?.stop();
  await mesh?.stop();
  await build?.remove();
}, 60_000);

async function newShopper(viewport = { width: 1100, height: 900 }): Promise<{ context: BrowserContext; page: Page; email: string }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const email = `web-${randomBytes(4).toString("hex")}@example.com`;
  await page.goto(`${storefront.origin}/#/register`);
  await page.getByLabel("Your name").fill("Web Shopper");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.getByRole("button", { name: /Sign out/ }).waitFor();
  return { context, page, email };
}

async function addToCart(page: Page, productName: string): Promise<void> {
  await page.getByRole("heading", { level: 1, name: productName }).waitFor();
  await page.getByRole("button", { name: "Add to cart" }).click();
  await page.getByText(/Added to your cart/).waitFor();
}

/**
 * Re-opens the cart until `probe` sees what it waits for: the cart re-prices on every read,
 * through the catalog's cache. Navigation stays inside the app (hash routes), so the signed-in
 * session in memory is kept rather than restored on each reload.
 */
async function eventuallyInCart(page: Page, probe: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const cartUrl = page.url().replace(/#.*$/, "#/cart");
  for (;;) {
    await page.getByRole("heading", { name: "Your cart" }).waitFor();
    await page.getByRole("list", { name: "Cart items" }).getByRole("listitem").first().waitFor();
    if (await probe()) return;
    if (Date.now() > deadline) {
      await screenshot(page, `failed-${what.replace(/\W+/g, "-")}`); // what the page showed instead
      throw new Error(`timed out waiting for ${what}`);
    }
    await page.goto(cartUrl.replace("#/cart", "#/"));
    await page.goto(cartUrl);
  }
}

test("when a shopper registers, searches, buys two products and pays, then the order turns PAID, a courier is assigned and it is in the history", async () => {
  const { context, page } = await newShopper();
  await screenshot(page, "01-shop");

  // Search as you type: the results follow the input without a submit.
  await page.getByLabel("Search products").pressSequentially(RUN, { delay: 20 });
  const results = page.getByRole("list", { name: "Search results" });
  await results.getByRole("link").nth(2).waitFor();
  expect(await results.getByRole("link").count()).toBe(3);
  await screenshot(page, "02-search");

  await results.getByRole("link", { name: new RegExp(products.kettle.name) }).click();
  await addToCart(page, products.kettle.name);
  await screenshot(page, "03-product");
  await page.goBack();
  await page
    .getByRole("list", { name: "Search results" })
    .getByRole("link", { name: new RegExp(products.mug.name) })
    .click();
  await addToCart(page, products.mug.name);

  await page.getByRole("link", { name: /^Cart/ }).click();
  const lines = page.getByRole("list", { name: "Cart items" }).getByRole("listitem");
  await lines.nth(1).waitFor();
  expect(await lines.count()).toBe(2);
  // Two kettles: the quantity change goes through UpdateItemQuantity and the subtotal follows.
  const kettleQuantity = page.locator(`[data-product-id="${products.kettle.id}"]`).getByLabel("Quantity");
  // The cart page refreshes itself once after it appears; edit only after that settled, or the
  // refresh puts the old quantity back into the field under the typing.
  await page.waitForLoadState("networkidle");
  await kettleQuantity.fill("2");
  await kettleQuantity.press("Tab");
  await page.getByTestId("cart-subtotal").filter({ hasText: "82.48" }).waitFor();
  await screenshot(page, "04-cart");

  await page.getByRole("link", { name: "Checkout" }).click();
  await page.getByLabel("Street and number").fill("1 Invalidenstr.");
  await page.getByLabel("City").fill("Berlin");
  await page.getByLabel("Postal code").fill("10115");
  await screenshot(page, "05-checkout");
  await page.getByRole("button", { name: "Place order and pay" }).click();

  // The provider's own page, embedded: the card number never passes through the shop.
  const status = page.getByTestId("order-status");
  await status.filter({ hasText: "Awaiting payment" }).waitFor();
  const payFrame = page.frameLocator('iframe[title="Card payment"]');
  await payFrame.getByLabel("Card number").fill(CARD_OK);
  await screenshot(page, "06-payment");
  await payFrame.getByRole("button", { name: "Pay" }).click();

  // Live: WatchOrder pushes each change; the page is never reloaded here.
  await status.filter({ hasText: "Paid" }).waitFor({ timeout: 30_000 });
  await page.getByTestId("delivery-status").filter({ hasText: "Courier assigned" }).waitFor({ timeout: 30_000 });
  expect(page.url()).toContain("#/orders/");
  const orderId = decodeURIComponent(page.url().split("#/orders/")[1]!);
  await screenshot(page, "07-order-paid");

  await page.getByRole("link", { name: "Orders", exact: true }).click();
  const history = page.locator(`[data-order-id="${orderId}"]`);
  await history.filter({ hasText: "Paid" }).waitFor();
  await screenshot(page, "08-orders");

  // Usable at phone width: the shop renders without horizontal scrolling.
  await page.setViewportSize(PHONE);
  await page.goto(`${storefront.origin}/#/`);
  await page.getByRole("list", { name: "Products" }).getByRole("link").first().waitFor();
  expect(await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")).toBe(true);
  await screenshot(page, "09-shop-phone");
  await page.setViewportSize({ width: 1100, height: 900 });
  await page.goto(`${storefront.origin}/#/`);
  await page.getByRole("list", { name: "Products" }).getByRole("link").nth(2).waitFor();
  await screenshot(page, "10-shop-signed-in");
  await context.close();
}, 90_000);

test("when an admin changes a price, then a shopper sees the new price and a price-change notice in the cart", async () => {
  const shopper = await newShopper();
  await shopper.page.goto(`${storefront.origin}/#/product/${products.grinder.id}`);
  await addToCart(shopper.page, products.grinder.name);
  expect(await shopper.page.getByTestId("product-price").textContent()).toContain("10.00");

  const adminContext = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const admin = await adminContext.newPage();
  await admin.goto(`${storefront.origin}/#/signin`);
  await admin.getByLabel("Email").fill("admin@shopmesh.local");
  await admin.getByLabel("Password").fill("admin-password");
  await admin.getByRole("button", { name: "Sign in" }).click();
  await admin.getByRole("link", { name: "Admin" }).click();
  const row = admin.locator(`[data-product-id="${products.grinder.id}"]`);
  await row.waitFor();
  await admin.waitForLoadState("networkidle");
  await row.getByLabel(/Price/).fill("12.50");
  await row.getByRole("button", { name: "Save price" }).click();
  await row.getByText("Price saved: €12.50").waitFor();
  await screenshot(admin, "11-admin");
  await adminContext.close();

  const page = shopper.page;
  await page.goto(`${storefront.origin}/#/cart`);
  const notice = page.getByRole("note").filter({ hasText: "Price changed from €10.00 to €12.50" });
  await eventuallyInCart(page, async () => (await notice.count()) > 0, "the price-change notice");
  await screenshot(page, "12-cart-price-changed");
  await page.goto(`${storefront.origin}/#/product/${products.grinder.id}`);
  await page.getByTestId("product-price").filter({ hasText: "12.50" }).waitFor();
  await shopper.context.close();
}, 60_000);

test("search: suggestions as you type, a corrected query when nothing matched, and facet filters with counts", async () => {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${storefront.origin}/#/`);
  const box = page.getByLabel("Search products");

  // Completions come from the engine while typing.
  await box.pressSequentially("copp", { delay: 20 });
  await page.locator(`#search-suggestions option[value="${products.kettle.name}"]`).waitFor({ state: "attached" });

  // Two letters swapped in a short word: too far for typo tolerance, close enough to correct.
  await box.fill(`bruu ${RUN}`);
  const correction = page.getByRole("button", { name: new RegExp(`burr ${RUN}`) });
  await correction.waitFor();
  await screenshot(page, "13-did-you-mean");
  await correction.click();
  await page
    .getByRole("list", { name: "Search results" })
    .getByRole("link", { name: new RegExp(products.grinder.name) })
    .waitFor();

  // All three, then only those under €25: the price facet counts them before the click.
  await box.fill(RUN);
  const results = page.getByRole("list", { name: "Search results" });
  await results.getByRole("link").nth(2).waitFor();
  const filters = page.getByRole("complementary", { name: "Filters" });
  await filters.getByLabel(/€0 – €25 \(2\)/).check();
  await eventually(async () => ((await results.getByRole("link").count()) === 2 ? true : undefined), { timeoutMs: 15_000, what: "two results under €25" });
  expect(await results.getByRole("link", { name: new RegExp(products.kettle.name) }).count()).toBe(0);

  // The grinder sells out: once inventory's stock event reached the catalog, "In stock only" hides it.
  await client(InventoryService, "inventory").setStock({ productId: products.grinder.id, onHand: 0 });
  try {
    await eventually(
      async () => ((await client(CatalogService, "catalog").searchProducts({ query: RUN, inStock: true })).products.length === 2 ? true : undefined),
      { timeoutMs: 30_000, what: "the grinder out of stock in search" },
    );
    await filters.getByLabel("In stock only").check();
    await eventually(async () => ((await results.getByRole("link").count()) === 1 ? true : undefined), {
      timeoutMs: 15_000,
      what: "one result in stock under €25",
    });
    await screenshot(page, "14-facets");
    expect(await results.getByRole("link", { name: new RegExp(products.mug.name) }).count()).toBe(1);
  } finally {
    await client(InventoryService, "inventory").setStock({ productId: products.grinder.id, onHand: 20 });
  }
  await context.close();
}, 90_000);

test("the README's picture: the shop over the demo catalog, seeded by the catalog's own seed as npm start runs it", async () => {
  // The first 120 demo products (10 in each category): a real page of the catalog npm start shows, in seconds.
  const address = (name: string) => `127.0.0.1:${mesh.ports[name]!}`;
  await new Promise<void>((resolve, reject) =>
    execFile(
      process.execPath,
      [join(REPO_ROOT, "services", "catalog", "dist", "seed", "main.js")],
      {
        env: {
          ...process.env,
          IDENTITY_ADDR: address("identity"),
          CATALOG_ADDR: address("catalog"),
          INVENTORY_ADDR: address("inventory"),
          SEED_PRODUCTS: "120",
        },
        timeout: 120_000,
      },
      (err, stdout, stderr) => (err ? reject(new Error(`seed failed: ${err.message}\n${stdout}${stderr}`.slice(0, 3_000))) : resolve()),
    ),
  );
  const { categories } = await client(CatalogService, "catalog").listCategories({ pageSize: 100 });
  const electronics = categories.find((category) => category.slug === "electronics")!;
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${storefront.origin}/#/?category=${electronics.id}`);
  await page.getByRole("list", { name: "Products" }).getByRole("link").nth(7).waitFor();
  await page.screenshot({ path: join(REPO_ROOT, "docs", "storefront.png") });
  await context.close();
}, 180_000);
