import { createLogger, runMain } from "@shopmesh/platform";
import { loadSimulatorConfig } from "./config.js";
import { createSimulator } from "./server.js";

runMain(async () => {
  const config = loadSimulatorConfig();
  const logger = createLogger({ service: "payment-provider-sim", level: config.LOG_LEVEL });
  const simulator = createSimulator({
    webhookUrl: config.PAYMENT_WEBHOOK_URL,
    webhookSecret: config.PAYMENT_WEBHOOK_SECRET,
    webhookMaxAttempts: config.PAYMENT_WEBHOOK_MAX_ATTEMPTS,
    webhookInitialBackoffMs: config.PAYMENT_WEBHOOK_INITIAL_BACKOFF_MS,
    slowCardDelayMs: config.PAYMENT_SIM_SLOW_CARD_DELAY_MS,
    publicUrl: config.PAYMENT_SIM_PUBLIC_URL,
    logger,
  });
  const port = await simulator.listen(config.PAYMENT_SIM_PORT, config.HOST);
  logger.info({ port, webhook_url: config.PAYMENT_WEBHOOK_URL }, "listening");
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down");
    const hardStop = setTimeout(() => process.exit(1), config.SHUTDOWN_GRACE_MS + 5_000);
    hardStop.unref();
    void simulator.close().then(() => {
      logger.info("stopped");
      process.exit(0);
    });
  };
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
});
