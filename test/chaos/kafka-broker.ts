// A Kafka broker (KRaft, one node) of the chaos run's own, from the jars scripts/infra installs:
// a fault test stops and restarts it for real without touching the shared broker that every
// other test file and the dev stack use.
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { Kafka, logLevel } from "kafkajs";
import { eventually, freePort } from "@shopmesh/platform/testing";

const LIBS = join(process.env["SHOPMESH_TOOLS"] ?? join(homedir(), ".cache", "shopmesh", "tools"), "kafka", "libs");

export interface KafkaBroker {
  brokers: string;
  output: string[];
  /** Starts it again on the same ports and data (after `stop` or `kill`). */
  start(): Promise<void>;
  /** SIGTERM: a controlled shutdown, as an operator or a rolling update stops a broker. */
  stop(): Promise<void>;
  /** Stops it and deletes its data. */
  destroy(): Promise<void>;
}

/**
 * `advertise` puts something in front of the broker (a Toxiproxy proxy, so the network to it
 * can be cut or throttled): given the broker's port it returns the port clients must use,
 * which the broker then advertises, so no client bypasses it after bootstrapping.
 */
export async function startKafkaBroker(options: { advertise?: (port: number) => Promise<number> } = {}): Promise<KafkaBroker> {
  const dir = await mkdtemp(join(tmpdir(), "chaos-kafka-"));
  const port = await freePort();
  const controllerPort = await freePort();
  const advertisedPort = options.advertise ? await options.advertise(port) : port;
  const brokers = `127.0.0.1:${advertisedPort}`;
  const properties = join(dir, "server.properties");
  await writeFile(
    properties,
    [
      "process.roles=broker,controller",
      "node.id=1",
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${advertisedPort}`,
      "controller.listener.names=CONTROLLER",
      "inter.broker.listener.name=PLAINTEXT",
      "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
      `log.dirs=${join(dir, "data")}`,
      "num.partitions=3",
      "default.replication.factor=1",
      "min.insync.replicas=1",
      "offsets.topic.replication.factor=1",
      "offsets.topic.num.partitions=3",
      "transaction.state.log.replication.factor=1",
      "transaction.state.log.min.isr=1",
      "group.initial.rebalance.delay.ms=0",
      "auto.create.topics.enable=false",
      "num.network.threads=2",
      "num.io.threads=2",
      "",
    ].join("\n"),
  );
  // Kafka 4 logs with log4j 2.
  await writeFile(
    join(dir, "log4j2.properties"),
    [
      "appender.stdout.type = Console",
      "appender.stdout.name = STDOUT",
      "appender.stdout.layout.type = PatternLayout",
      "appender.stdout.layout.pattern = [%d] %p %m (%c)%n",
      "rootLogger.level = warn",
      "rootLogger.appenderRef.stdout.ref = STDOUT",
      "",
    ].join("\n"),
  );
  const javaOptions = [`-Dlog4j2.configurationFile=${join(dir, "log4j2.properties")}`, "-XX:+UseSerialGC", "-Djava.awt.headless=true", "-cp", `${LIBS}/*`];
  const clusterId = randomBytes(16).toString("base64url");
  await promisify(execFile)(
    "java",
    ["-Xmx256m", "-XX:TieredStopAtLevel=1", ...javaOptions, "kafka.tools.StorageTool", "format", "-t", clusterId, "-c", properties],
    {
      timeout: 60_000,
    },
  );

  const output: string[] = [];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  async function start(): Promise<void> {
    const process_ = spawn("java", ["-Xms128m", "-Xmx384m", "-XX:+ExitOnOutOfMemoryError", ...javaOptions, "kafka.Kafka", properties], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = process_;
    exited = new Promise((resolve) => process_.once("exit", () => resolve()));
    for (const stream of [process_.stdout, process_.stderr]) createInterface({ input: stream }).on("line", (line) => output.push(line));
    // Ready when it answers metadata and its group coordinator works (consumers need it).
    const kafka = new Kafka({ clientId: "chaos-broker-probe", brokers: [brokers], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    await eventually(
      async () => {
        if (process_.exitCode !== null) throw new Error(`chaos broker exited with ${process_.exitCode}:\n${output.slice(-20).join("\n")}`);
        const admin = kafka.admin();
        try {
          await admin.connect();
          await admin.listTopics();
          await admin.describeGroups(["chaos-probe"]);
          return true;
        } catch {
          return undefined;
        } finally {
          await admin.disconnect().catch(() => undefined);
        }
      },
      { timeoutMs: 90_000, intervalMs: 500, what: `chaos Kafka broker on ${brokers}` },
    );
  }

  async function stop(): Promise<void> {
    const running = child;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    running.kill("SIGTERM");
    const timer = setTimeout(() => running.kill("SIGKILL"), 30_000);
    await exited;
    clearTimeout(timer);
  }

  try {
    await start();
  } catch (err) {
    await stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    brokers,
    output,
    start,
    stop,
    async destroy() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
