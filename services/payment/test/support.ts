import type { TokenVerifier } from "@shopmesh/platform";
import { spawnService, testLogger, type SpawnedService } from "@shopmesh/platform/testing";
import { buildPayment, type PaymentApp } from "../src/app.js";
import { loadPaymentConfig } from "../src/config.js";

export interface PaymentUnderTest {
  app: PaymentApp;
  port: number;
  simulator: SpawnedService;
  simulatorUrl: string;
}

/**
 * The provider simulator as a real process, sending its webhooks to `webhookUrl`, and the
 * payment service in-process against it on `port` (0: any) with a database of its own.
 */
export async function startPaymentWithSimulator(options: {
  database: string;
  webhookSecret: string;
  webhookUrl: string;
  port: number;
  verifier: TokenVerifier;
  simulatorEnv?: Record<string, string>;
}): Promise<PaymentUnderTest> {
  const simulator = await spawnService(
    "payment-provider-sim",
    {
      PAYMENT_WEBHOOK_URL: options.webhookUrl,
      PAYMENT_WEBHOOK_SECRET: options.webhookSecret,
      PAYMENT_WEBHOOK_INITIAL_BACKOFF_MS: "100",
      ...options.simulatorEnv,
    },
    { portEnv: "PAYMENT_SIM_PORT" },
  );
  const simulatorUrl = `http://127.0.0.1:${simulator.port}`;
  try {
    const config = loadPaymentConfig({
      ...process.env,
      NODE_ENV: "test",
      PAYMENT_DATABASE: options.database,
      PAYMENT_PROVIDER_URL: simulatorUrl,
      PAYMENT_WEBHOOK_SECRET: options.webhookSecret,
    });
    const app = await buildPayment(config, testLogger("payment"), { verifier: options.verifier });
    const port = await app.server.listen(options.port, "127.0.0.1");
    return { app, port, simulator, simulatorUrl };
  } catch (err) {
    await simulator.stop();
    throw err;
  }
}
