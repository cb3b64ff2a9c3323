import { createLogger, handleShutdownSignals, runMain } from "@shopmesh/platform";
import { buildRatelimit } from "./app.js";
import { loadRatelimitConfig } from "./config.js";

runMain(async () => {
  const config = loadRatelimitConfig();
  const logger = createLogger({ service: "ratelimit", level: config.LOG_LEVEL });
  const app = await buildRatelimit(config, logger);
  await app.server.listen(config.RATELIMIT_PORT, config.HOST);
  handleShutdownSignals({ logger, server: app.server, graceMs: config.SHUTDOWN_GRACE_MS, closers: app.closers });
});
