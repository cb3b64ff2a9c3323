/**
 * The environment every service of a test or benchmark mesh shares: where each other service
 * listens, consumer groups of this run only (starting at the topics' current end), identity's
 * keys, and short retry intervals. One place, so the e2e harness and the benchmark agree.
 */
export function meshEnvironment(options: { run: string; label: string; ports: Record<string, number>; signingKeyFile: string }): Record<string, string> {
  const { run, label, ports } = options;
  const addr = (name: string) => `127.0.0.1:${ports[name] ?? 1}`;
  return {
    KAFKA_CONSUMER_START: "end",
    KAFKA_GROUP_SUFFIX: `.${label}-${run}`,
    JWT_SIGNING_KEY_FILE: options.signingKeyFile,
    JWKS_URL: `http://${addr("identity")}/.well-known/jwks.json`,
    IDENTITY_ADDR: addr("identity"),
    CATALOG_ADDR: addr("catalog"),
    CART_ADDR: addr("cart"),
    INVENTORY_ADDR: addr("inventory"),
    PAYMENT_ADDR: addr("payment"),
    DELIVERY_ADDR: addr("delivery"),
    PAYMENT_PROVIDER_URL: `http://${addr("payment-provider-sim")}`,
    PAYMENT_SIM_PUBLIC_URL: `http://${addr("payment-provider-sim")}`,
    PAYMENT_WEBHOOK_URL: `http://${addr("payment")}/webhooks/provider`,
    PAYMENT_WEBHOOK_INITIAL_BACKOFF_MS: "100",
    DELIVERY_ASSIGN_RETRY_INTERVAL_MS: "1000",
    NOTIFICATION_POLL_INTERVAL_MS: "200",
  };
}
