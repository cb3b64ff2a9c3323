import { createLogger, handleShutdownSignals, runMain } from "@shopmesh/platform";
import { buildIdentity } from "./app.js";
import { loadIdentityConfig } from "./config.js";

runMain(async () => {
  const config = loadIdentityConfig();
  const logger = createLogger({ service: "identity", level: config.LOG_LEVEL });
  const app = await buildIdentity(config, logger);
  await app.server.listen(config.IDENTITY_PORT, config.HOST);
  handleShutdownSignals({ logger, server: app.server, graceMs: config.SHUTDOWN_GRACE_MS, closers: app.closers });
});
