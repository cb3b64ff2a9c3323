import { createLogger, handleShutdownSignals, runMain } from "@shopmesh/platform";
import { buildPayment } from "./app.js";
import { loadPaymentConfig } from "./config.js";

runMain(async () => {
  const config = loadPaymentConfig();
  const logger = createLogger({ service: "payment", level: config.LOG_LEVEL });
  const app = await buildPayment(config, logger);
  await app.server.listen(config.PAYMENT_PORT, config.HOST);
  handleShutdownSignals({ logger, server: app.server, graceMs: config.SHUTDOWN_GRACE_MS, closers: app.closers });
});
