import { createLogger, handleShutdownSignals, runMain } from "@shopmesh/platform";
import { buildCart } from "./app.js";
import { loadCartConfig } from "./config.js";

runMain(async () => {
  const config = loadCartConfig();
  const logger = createLogger({ service: "cart", level: config.LOG_LEVEL });
  const app = await buildCart(config, logger);
  await app.server.listen(config.CART_PORT, config.HOST);
  handleShutdownSignals({ logger, server: app.server, graceMs: config.SHUTDOWN_GRACE_MS, closers: app.closers });
});
