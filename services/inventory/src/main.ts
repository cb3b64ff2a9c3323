import { createLogger, handleShutdownSignals, runMain } from "@shopmesh/platform";
import { buildInventory } from "./app.js";
import { loadInventoryConfig } from "./config.js";

runMain(async () => {
  const config = loadInventoryConfig();
  const logger = createLogger({ service: "inventory", level: config.LOG_LEVEL });
  const app = await buildInventory(config, logger);
  await app.server.listen(config.INVENTORY_PORT, config.HOST);
  handleShutdownSignals({ logger, server: app.server, graceMs: config.SHUTDOWN_GRACE_MS, closers: app.closers });
});
