import { InventoryService } from "@shopmesh/gen/shopmesh/inventory/v1/inventory_pb.js";
import { createLogger } from "@shopmesh/platform";
import { createMysqlPool, kafkaReadiness, pingMysql, type KafkaReadiness, type Pool } from "@shopmesh/platform/data";
import {
  dropDatabase,
  eventually,
  grpcHealthStatus,
  readyzStatus,
  startStubServer,
  startTcpProxy,
  TEST_KAFKA_BROKERS,
  TEST_MYSQL,
  testDatabaseName,
  testKafka,
  type StubServer,
  type TcpProxy,
} from "@shopmesh/platform/testing";

// A platform server whose readiness is the platform's MySQL and Kafka checks, each dependency
// reached only through a proxy the test can cut. The shared MariaDB and broker stay up.
// Every Kafka connection passes the proxy (not just the bootstrap one): the broker advertises
// its own address, so the client opens sockets through the proxy's socket factory.
const database = testDatabaseName("platform");
const POOL_SIZE = 2;
let mysqlProxy: TcpProxy;
let kafkaProxy: TcpProxy;
let pool: Pool;
let kafkaCheck: KafkaReadiness;
let service: StubServer;

interface Reported {
  server: string;
  service: string;
  readyz: number;
  /** The broker's own state, under its dependency name. */
  kafka: string;
}
const SERVING: Reported = { server: "SERVING", service: "SERVING", readyz: 200, kafka: "SERVING" };
const NOT_SERVING: Reported = { server: "NOT_SERVING", service: "NOT_SERVING", readyz: 503, kafka: "SERVING" };
// The outbox keeps a service useful while the broker is away: degraded, still serving.
const KAFKA_AWAY: Reported = { server: "SERVING", service: "SERVING", readyz: 200, kafka: "NOT_SERVING" };

/** What a kubelet (grpc.health.v1, whole server and per service) and compose (/readyz) would see. */
async function reported(): Promise<Reported> {
  return {
    server: await grpcHealthStatus(service.port),
    service: await grpcHealthStatus(service.port, InventoryService.typeName),
    readyz: await readyzStatus(service.port),
    kafka: await grpcHealthStatus(service.port, "kafka"),
  };
}

async function expectHealthBecomes(expected: Reported, what: string): Promise<void> {
  let last: Reported | undefined;
  try {
    await eventually(
      async () => {
        last = await reported();
        return last.server === expected.server && last.service === expected.service && last.readyz === expected.readyz && last.kafka === expected.kafka
          ? true
          : undefined;
      },
      // Detection takes a round plus readinessTimeoutMs; a client's own request timeout (kafkajs: 10 s) must not be what ends it.
      { timeoutMs: 7_000, what },
    );
  } catch (err) {
    throw new Error(`${what}: last seen ${JSON.stringify(last)}`, { cause: err });
  }
}

beforeAll(async () => {
  mysqlProxy = await startTcpProxy({ host: TEST_MYSQL.host, port: TEST_MYSQL.port });
  const [kafkaHost, kafkaPort] = TEST_KAFKA_BROKERS.split(",")[0]!.split(":");
  kafkaProxy = await startTcpProxy({ host: kafkaHost!, port: Number(kafkaPort) });
  pool = await createMysqlPool({ ...TEST_MYSQL, port: mysqlProxy.port, database, poolSize: POOL_SIZE });
  // The client logs every refused connection; here they are the point, so only on request.
  const kafkaLogger = createLogger({ service: "platform-health", level: process.env["TEST_LOG_LEVEL"] ?? "silent" });
  kafkaCheck = kafkaReadiness(testKafka("platform-health", { socketFactory: kafkaProxy.kafkaSocketFactory, logger: kafkaLogger }));
  service = await startStubServer(
    InventoryService,
    {},
    {
      name: "health-subject",
      readiness: [{ name: "mysql", check: () => pingMysql(pool) }, kafkaCheck],
      readinessIntervalMs: 100,
      // Generous for a loaded machine, yet well inside the wait below.
      readinessTimeoutMs: 1_500,
    },
  );
});

beforeEach(async () => {
  await expectHealthBecomes(SERVING, "SERVING with both dependencies reachable");
  // Every pooled connection open, as in a busy service: a partition then catches the pings on
  // connections that hang, not only on new ones that time out connecting.
  const connections = await Promise.all(Array.from({ length: POOL_SIZE }, () => pool.getConnection()));
  connections.forEach((connection) => connection.release());
});

afterAll(async () => {
  await service?.stop();
  await kafkaCheck?.close();
  await pool?.end();
  await Promise.all([mysqlProxy?.close(), kafkaProxy?.close()]);
  await dropDatabase(database);
});

describe("health reflects MySQL and Kafka", () => {
  test("when MySQL and Kafka are reachable, then grpc.health.v1 says SERVING for the server and its service, and /readyz 200", async () => {
    await expectHealthBecomes(SERVING, "SERVING for the server, its service and /readyz");
  });

  test.each([
    ["MySQL refuses connections", "NOT_SERVING with /readyz 503", () => mysqlProxy.refuse(), () => mysqlProxy.restore(), NOT_SERVING],
    ["MySQL stops answering (a network partition)", "NOT_SERVING with /readyz 503", () => mysqlProxy.blackhole(), () => mysqlProxy.restore(), NOT_SERVING],
    [
      "the Kafka broker refuses connections",
      "degraded: `kafka` NOT_SERVING, the server still SERVING",
      () => kafkaProxy.refuse(),
      () => kafkaProxy.restore(),
      KAFKA_AWAY,
    ],
    [
      "the Kafka broker stops answering (a network partition)",
      "degraded: `kafka` NOT_SERVING, the server still SERVING",
      () => kafkaProxy.blackhole(),
      () => kafkaProxy.restore(),
      KAFKA_AWAY,
    ],
  ])("when %s, then health reports %s; once it is back, SERVING again", async (_what, _reported, cut, restore, expected) => {
    cut();
    try {
      await expectHealthBecomes(expected, "the outage reported");
    } finally {
      restore();
    }
    await expectHealthBecomes(SERVING, "SERVING once the dependency is back");
  });
});

describe("readiness checks", () => {
  test("when a check hangs, then it fails after readinessTimeoutMs, and later rounds wait on it rather than start another", async () => {
    let started = 0;
    let answer!: () => void;
    const hung = {
      name: "hung",
      check: () => {
        started++;
        return new Promise<void>((resolve) => (answer = resolve));
      },
    };
    const subject = await startStubServer(
      InventoryService,
      {},
      { name: "hung-subject", readiness: [hung], readinessIntervalMs: 60_000, readinessTimeoutMs: 200 },
    );
    try {
      expect(await subject.server.checkReadiness()).toBe(false);
      expect(await subject.server.checkReadiness()).toBe(false);
      expect(started).toBe(1);
      answer();
      expect(await subject.server.checkReadiness()).toBe(true);
      expect(await grpcHealthStatus(subject.port)).toBe("SERVING");
    } finally {
      await subject.stop();
    }
  });
});
