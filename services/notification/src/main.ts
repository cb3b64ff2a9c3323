import { createLogger, handleShutdownSignals, runMain } from "@shopmesh/platform";
import { buildNotification } from "./app.js";
import { loadNotificationConfig } from "./config.js";

runMain(async () => {
  const config = loadNotificationConfig();
  const logger = createLogger({ service: "notification", level: config.LOG_LEVEL });
  const app = await buildNotification(config, logger);
  await app.server.listen(config.NOTIFICATION_PORT, config.HOST);
  handleShutdownSignals({ logger, server: app.server, graceMs: config.SHUTDOWN_GRACE_MS, closers: app.closers });
});
