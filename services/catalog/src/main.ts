import { createLogger, handleShutdownSignals, runMain } from "@shopmesh/platform";
import { buildCatalog } from "./app.js";
import { loadCatalogConfig } from "./config.js";

runMain(async () => {
  const config = loadCatalogConfig();
  const logger = createLogger({ service: "catalog", level: config.LOG_LEVEL });
  const app = await buildCatalog(config, logger);
  await app.server.listen(config.CATALOG_PORT, config.HOST);
  handleShutdownSignals({ logger, server: app.server, graceMs: config.SHUTDOWN_GRACE_MS, closers: app.closers });
});
