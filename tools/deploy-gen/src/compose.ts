import { addressEnv, type ServiceName } from "@shopmesh/platform/topology";
import { createTopicCommand } from "./k8s-dev.js";
import {
  COMPOSE_SECRETS_DIR,
  composeSecretFile,
  devSecretValue,
  grpcServices,
  hasSecretFiles,
  isSecretVariable,
  KEYGEN_SCRIPT,
  nodeFetchProbe,
  OPENSEARCH_ENV,
  ownImage,
  SECRET_FILES_DIR,
  SECRETS_SCRIPT,
  serviceNamed,
  singleNodeKafkaEnv,
  type DeployModel,
  type DeployService,
  type JsonObject,
} from "./model.js";

type Condition = { condition: "service_healthy" | "service_started" | "service_completed_successfully" };

/** One object for every "wait until healthy", so the YAML writer emits it once and aliases it (`&a1` / `*a1`). */
const HEALTHY: Condition = { condition: "service_healthy" };

const SECRETS_MOUNT = `secrets:${COMPOSE_SECRETS_DIR}:ro`;

/** One service's compose entry: its image, environment, the dependencies it waits for, and hardening. */
function composeService(s: DeployService, m: DeployModel): JsonObject {
  const { services, ports } = m;
  const healthy = HEALTHY;
  const environment: Record<string, string> = {
    NODE_ENV: "production",
    HOST: "0.0.0.0",
    LOG_LEVEL: "info",
    KAFKAJS_NO_PARTITIONER_WARNING: "1",
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://jaeger:${ports.otlpHttp}`,
    [s.portEnv]: String(s.port),
  };
  const depends: Record<string, Condition> = { jaeger: { condition: "service_started" } };
  if (s.kind === "grpc")
    Object.assign(environment, {
      JWKS_URL: `http://identity:${serviceNamed(services, "identity").port}/.well-known/jwks.json`,
      JWT_ISSUER: "shopmesh-identity",
      JWT_AUDIENCE: "shopmesh",
    });
  const volumes: string[] = [];
  /** A secret the secrets job generated, read from its file (`<NAME>_FILE`). */
  const secretFromFile = (variable: string) => {
    environment[`${variable}_FILE`] = `${COMPOSE_SECRETS_DIR}/${composeSecretFile(variable)}`;
    if (!volumes.includes(SECRETS_MOUNT)) volumes.push(SECRETS_MOUNT);
    depends["secrets"] = { condition: "service_completed_successfully" };
  };
  if (s.stores.includes("mysql")) {
    Object.assign(environment, { MYSQL_HOST: "mysql", MYSQL_PORT: String(ports.mysql), MYSQL_USER: "shopmesh" });
    secretFromFile("MYSQL_PASSWORD");
    depends["mysql"] = healthy;
  }
  if (s.stores.includes("redis")) {
    environment["REDIS_URL"] = `redis://redis:${ports.redis}`;
    depends["redis"] = healthy;
  }
  if (s.stores.includes("opensearch")) {
    environment["OPENSEARCH_URL"] = `http://opensearch:${ports.opensearch}`;
    depends["opensearch"] = healthy;
  }
  if (s.kafka) {
    environment["KAFKA_BROKERS"] = `kafka:${ports.kafka}`;
    depends["kafka"] = healthy;
    depends["kafka-topics"] = { condition: "service_completed_successfully" };
  }
  if (s.smtp) {
    Object.assign(environment, { SMTP_HOST: "mailpit", SMTP_PORT: String(ports.smtp) });
    depends["mailpit"] = healthy;
  }
  for (const callee of s.calls) {
    const target = serviceNamed(services, callee);
    if (target.kind === "grpc") environment[addressEnv(callee as ServiceName)] = `${callee}:${target.port}`;
    // JWKS is fetched lazily, and webhooks flow sim -> payment: only wait for what is needed to start.
    if (callee !== "identity" && !(s.devOnly && !target.devOnly)) depends[callee] = { condition: "service_started" };
  }
  Object.assign(environment, s.env);
  for (const variable of s.secretEnv) {
    if (isSecretVariable(variable)) secretFromFile(variable);
    else environment[variable] = devSecretValue(variable);
  }
  if (hasSecretFiles(s)) {
    for (const [variable, file] of Object.entries(s.secretFiles)) environment[variable] = `${SECRET_FILES_DIR}/${s.name}/${file}`;
    volumes.push(`${s.name}-files:${SECRET_FILES_DIR}/${s.name}:ro`);
    depends[`${s.name}-keygen`] = { condition: "service_completed_successfully" };
  }
  return {
    image: `${ownImage(s.name)}:dev`,
    build: { context: ".", args: { SERVICE: s.name } },
    environment,
    depends_on: depends,
    ...(volumes.length ? { volumes } : {}),
    read_only: true,
    tmpfs: ["/tmp"],
    cap_drop: ["ALL"],
    security_opt: ["no-new-privileges:true"],
    restart: "unless-stopped",
    ...(s.devOnly ? { ports: [`127.0.0.1:${s.port}:${s.port}`] } : {}),
    healthcheck: {
      test: ["CMD", "/nodejs/bin/node", "-e", nodeFetchProbe(s.port, "/readyz")],
      interval: "5s",
      timeout: "3s",
      retries: 30,
      start_period: "10s",
    },
  };
}

/** compose.yaml: the infrastructure, every service (dev-only stand-ins included), Envoy and, when `web` is built, the storefront. */
export function composeFile(m: DeployModel, web: boolean): JsonObject {
  const { services, ports, images } = m;
  const healthy = HEALTHY;
  const svc: Record<string, JsonObject> = {};
  // Random on first start, kept in a volume: compose runs in production mode, which refuses the
  // development values, so none is written in this file.
  const secretFiles = ["MYSQL_ROOT_PASSWORD", "MYSQL_PASSWORD", ...new Set(services.flatMap((s) => s.secretEnv.filter(isSecretVariable)))].map(
    (variable) => `${COMPOSE_SECRETS_DIR}/${composeSecretFile(variable)}`,
  );
  svc["secrets"] = {
    image: ownImage("identity") + ":dev",
    build: { context: ".", args: { SERVICE: "identity" } },
    user: "0:0",
    entrypoint: ["/nodejs/bin/node", "-e", SECRETS_SCRIPT],
    command: secretFiles,
    volumes: [`secrets:${COMPOSE_SECRETS_DIR}`],
    restart: "no",
  };
  svc["mysql"] = {
    image: images.mariadb,
    environment: {
      MARIADB_ROOT_PASSWORD_FILE: `${COMPOSE_SECRETS_DIR}/${composeSecretFile("MYSQL_ROOT_PASSWORD")}`,
      MARIADB_USER: "shopmesh",
      MARIADB_PASSWORD_FILE: `${COMPOSE_SECRETS_DIR}/${composeSecretFile("MYSQL_PASSWORD")}`,
    },
    depends_on: { secrets: { condition: "service_completed_successfully" } },
    command: ["--character-set-server=utf8mb4", "--collation-server=utf8mb4_unicode_ci"],
    volumes: ["mysql-data:/var/lib/mysql", "./scripts/k8s/compose/mysql-init:/docker-entrypoint-initdb.d:ro", SECRETS_MOUNT],
    healthcheck: { test: ["CMD", "healthcheck.sh", "--connect", "--innodb_initialized"], interval: "5s", timeout: "5s", retries: 30, start_period: "10s" },
  };
  svc["redis"] = {
    image: images.redis,
    command: ["redis-server", "--save", "", "--appendonly", "no"],
    healthcheck: { test: ["CMD", "redis-cli", "ping"], interval: "5s", timeout: "3s", retries: 20 },
  };
  // single-node skips the bootstrap checks, so the host's vm.max_map_count need not be raised.
  svc["opensearch"] = {
    image: images.opensearch,
    environment: OPENSEARCH_ENV,
    volumes: ["opensearch-data:/usr/share/opensearch/data"],
    healthcheck: {
      test: ["CMD", "curl", "-fsS", "-o", "/dev/null", `http://localhost:${ports.opensearch}/_cluster/health`],
      interval: "5s",
      timeout: "5s",
      retries: 30,
      start_period: "30s",
    },
  };
  svc["kafka"] = {
    image: images.kafka,
    environment: singleNodeKafkaEnv(ports, "kafka", "kafka"),
    volumes: ["kafka-data:/var/lib/kafka/data"],
    healthcheck: {
      test: ["CMD-SHELL", `/opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server localhost:${ports.kafka} >/dev/null 2>&1`],
      interval: "5s",
      timeout: "10s",
      retries: 30,
      start_period: "15s",
    },
  };
  svc["kafka-topics"] = {
    image: images.kafka,
    depends_on: { kafka: healthy },
    restart: "on-failure",
    entrypoint: ["/bin/bash", "-c"],
    command: [m.topics.map((t) => createTopicCommand(`kafka:${ports.kafka}`, t)).join(" && ")],
  };
  // No healthcheck: the image has no shell or HTTP client, and a trace sink that starts late loses nothing that matters.
  svc["jaeger"] = { image: images.jaeger, ports: [`127.0.0.1:${ports.jaegerUi}:${ports.jaegerUi}`] };
  // The generated scrape config (targets by service name) and the shop's dashboard at /user/.
  svc["prometheus"] = {
    image: images.prometheus,
    command: ["--config.file=/etc/prometheus/prometheus.yml", "--web.user-assets=/etc/prometheus/dashboard", "--storage.tsdb.path=/prometheus"],
    volumes: ["./ops/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro", "./ops/prometheus/dashboard:/etc/prometheus/dashboard:ro"],
    ports: [`127.0.0.1:${ports.prometheus}:${ports.prometheus}`],
  };
  svc["mailpit"] = {
    image: images.mailpit,
    environment: { MP_SMTP_AUTH_ACCEPT_ANY: "true", MP_SMTP_AUTH_ALLOW_INSECURE: "true" },
    ports: [`127.0.0.1:${ports.mailpitUi}:${ports.mailpitUi}`],
    healthcheck: { test: ["CMD", "/mailpit", "readyz"], interval: "5s", timeout: "3s", retries: 20 },
  };
  const keyServices = services.filter(hasSecretFiles);
  for (const s of keyServices) {
    svc[`${s.name}-keygen`] = {
      image: ownImage(s.name) + ":dev",
      build: { context: ".", args: { SERVICE: s.name } },
      user: "0:0",
      entrypoint: ["/nodejs/bin/node", "-e", KEYGEN_SCRIPT],
      command: Object.values(s.secretFiles).map((file) => `${SECRET_FILES_DIR}/${s.name}/${file}`),
      volumes: [`${s.name}-files:${SECRET_FILES_DIR}/${s.name}`],
      restart: "no",
    };
  }
  for (const s of services) svc[s.name] = composeService(s, m);
  svc["envoy"] = {
    image: images.envoy,
    command: ["envoy", "--config-path", "/etc/envoy/envoy.yaml", "--drain-time-s", "5"],
    volumes: ["./envoy/envoy.compose.yaml:/etc/envoy/envoy.yaml:ro"],
    ports: [`127.0.0.1:${ports.edge}:${ports.edge}`, `127.0.0.1:${ports.envoyAdmin}:${ports.envoyAdmin}`],
    depends_on: Object.fromEntries(grpcServices(services).map((s) => [s.name, healthy])),
    // The official image has bash but no curl; /dev/tcp is enough to see the admin listener up.
    healthcheck: { test: ["CMD", "bash", "-c", `exec 3<>/dev/tcp/127.0.0.1/${ports.envoyAdmin}`], interval: "5s", timeout: "3s", retries: 20 },
  };
  if (web) {
    svc["web"] = {
      image: "shopmesh/web:dev",
      build: { context: ".", dockerfile: "web/Dockerfile" },
      depends_on: { envoy: healthy },
      ports: [`127.0.0.1:${m.storefrontPort}:${m.storefrontPort}`],
    };
  }
  const volumes: Record<string, JsonObject> = { "mysql-data": {}, "kafka-data": {}, "opensearch-data": {}, secrets: {} };
  for (const s of keyServices) volumes[`${s.name}-files`] = {};
  return { name: "shopmesh", services: svc, volumes };
}
