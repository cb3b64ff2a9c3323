import { addressEnv, LOCAL_HOST, resolveEnv, servicesByPort } from "../topology.js";

/**
 * The environment every service of a test or benchmark mesh shares: where each other service
 * listens, consumer groups of this run only (starting at the topics' current end), identity's
 * keys, and short retry intervals. One place, so the e2e harness and the benchmark agree.
 */
export function meshEnvironment(options: { run: string; label: string; ports: Record<string, number>; signingKeyFile: string }): Record<string, string> {
  const { run, label, ports } = options;
  const addr = (name: string) => `${LOCAL_HOST}:${ports[name] ?? 1}`;
  const topologyEnv: Record<string, string> = {};
  for (const [name, service] of servicesByPort()) {
    if (service.kind === "grpc") topologyEnv[addressEnv(name)] = addr(name);
    Object.assign(topologyEnv, resolveEnv(name, addr));
  }
  return {
    KAFKA_CONSUMER_START: "end",
    KAFKA_GROUP_SUFFIX: `.${label}-${run}`,
    JWT_SIGNING_KEY_FILE: options.signingKeyFile,
    JWKS_URL: `http://${addr("identity")}/.well-known/jwks.json`,
    // Every gRPC service's <NAME>_ADDR and the URLs the topology sets (PAYMENT_PROVIDER_URL, ...).
    ...topologyEnv,
    PAYMENT_SIM_PUBLIC_URL: `http://${addr("payment-provider-sim")}`,
    PAYMENT_WEBHOOK_INITIAL_BACKOFF_MS: "100",
    DELIVERY_ASSIGN_RETRY_INTERVAL_MS: "1000",
    NOTIFICATION_POLL_INTERVAL_MS: "200",
  };
}
