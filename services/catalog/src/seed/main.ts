/**
 * Seeds the demo catalog (and, when inventory answers, its stock) through the real RPCs:
 *   node services/catalog/dist/seed/main.js
 * Env: IDENTITY_ADDR, CATALOG_ADDR, INVENTORY_ADDR (host:port, loopback defaults),
 * IDENTITY_ADMIN_EMAIL, IDENTITY_ADMIN_PASSWORD; SEED_PRODUCTS, the first N of the demo catalog (all 1,200 by default).
 */
import { Code, ConnectError } from "@connectrpc/connect";
import { CatalogService } from "@shopmesh/gen/shopmesh/catalog/v1/catalog_pb.js";
import { IdentityService } from "@shopmesh/gen/shopmesh/identity/v1/identity_pb.js";
import { InventoryService } from "@shopmesh/gen/shopmesh/inventory/v1/inventory_pb.js";
import { createGrpcClient, createLogger, devDefault, loadConfig, meshTlsConfig, meshTlsFiles, runMain, serviceAddress } from "@shopmesh/platform";
import { z } from "zod";
import { DEMO_CATALOG_SIZE, demoCatalog } from "./demo-catalog.js";
import { seedDemoCatalog } from "./seed.js";

const seedConfigShape = {
  ...meshTlsConfig,
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("warn"),
  IDENTITY_ADDR: serviceAddress("identity"),
  CATALOG_ADDR: serviceAddress("catalog"),
  INVENTORY_ADDR: serviceAddress("inventory"),
  IDENTITY_ADMIN_EMAIL: devDefault("admin@shopmesh.local"),
  IDENTITY_ADMIN_PASSWORD: devDefault("admin-password"),
  SEED_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(16),
  SEED_PRODUCTS: z.coerce.number().int().min(1).max(DEMO_CATALOG_SIZE).default(DEMO_CATALOG_SIZE),
};

runMain(async () => {
  const started = performance.now();
  const config = loadConfig(seedConfigShape);
  // With mesh TLS the seed calls as the operator identity (its MESH_* files).
  const meshTls = meshTlsFiles(config);
  const logger = createLogger({ service: "catalog-seed", level: config.LOG_LEVEL });
  const options = { logger, defaultTimeoutMs: 10_000, maxConcurrent: 64 };
  const identity = createGrpcClient(IdentityService, { meshTls, ...options, address: config.IDENTITY_ADDR });
  const catalog = createGrpcClient(CatalogService, { meshTls, ...options, address: config.CATALOG_ADDR });
  const inventory = createGrpcClient(InventoryService, { meshTls, ...options, address: config.INVENTORY_ADDR, maxRetries: 1 });
  try {
    const login = await identity.login({ email: config.IDENTITY_ADMIN_EMAIL, password: config.IDENTITY_ADMIN_PASSWORD });
    const adminToken = login.tokens!.accessToken;
    const inventoryUp = await inventory.getStock({ productId: "00000000-0000-7000-8000-000000000000" }, { timeoutMs: 2_000 }).then(
      () => true,
      (err: unknown) => !(err instanceof ConnectError) || ![Code.Unavailable, Code.DeadlineExceeded, Code.Unimplemented].includes(err.code),
    );
    const summary = await seedDemoCatalog({
      catalog,
      inventory: inventoryUp ? inventory : undefined,
      adminToken,
      concurrency: config.SEED_CONCURRENCY,
      products: demoCatalog(config.SEED_PRODUCTS),
    });
    const stock = summary.stockSet === undefined ? `stock skipped (inventory not reachable at ${config.INVENTORY_ADDR})` : `stock set for ${summary.stockSet}`;
    process.stdout.write(
      `seed: categories ${summary.categoriesCreated} created / ${summary.categoriesExisting} existing, products ${summary.productsCreated} created / ${summary.productsExisting} existing, ${stock}, ${Math.round(performance.now() - started)} ms\n`,
    );
  } finally {
    identity.close();
    catalog.close();
    inventory.close();
  }
});
