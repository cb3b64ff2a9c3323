import { createLogger, handleShutdownSignals, runMain } from "@shopmesh/platform";
import { buildDelivery } from "./app.js";
import { loadDeliveryConfig } from "./config.js";

runMain(async () => {
  const config = loadDeliveryConfig();
  const logger = createLogger({ service: "delivery", level: config.LOG_LEVEL });
  const app = await buildDelivery(config, logger);
  await app.server.listen(config.DELIVERY_PORT, config.HOST);
  handleShutdownSignals({ logger, server: app.server, graceMs: config.SHUTDOWN_GRACE_MS, closers: app.closers });
});
