import { createLogger, handleShutdownSignals, runMain } from "@shopmesh/platform";
import { buildOrder } from "./app.js";
import { loadOrderConfig } from "./config.js";

runMain(async () => {
  const config = loadOrderConfig();
  const logger = createLogger({ service: "order", level: config.LOG_LEVEL });
  const app = await buildOrder(config, logger);
  await app.server.listen(config.ORDER_PORT, config.HOST);
  handleShutdownSignals({ logger, server: app.server, graceMs: config.SHUTDOWN_GRACE_MS, closers: app.closers });
});
