import * as http from "node:http";
import * as net from "node:net";
import type { DescService } from "@bufbuild/protobuf";
import { createContextValues, type ServiceImpl } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import type { Logger } from "../logger.js";
import { createServiceMetrics, type ServiceMetrics } from "../metrics.js";
import type { TokenVerifier } from "./auth.js";
import { grpcHandlers, grpcServiceDefinition } from "./grpc-transport.js";
import { peerAddressKey } from "./context.js";
import { meshServerCredentials, type MeshTlsFiles } from "./mesh-tls.js";
import { wrapServiceImpl } from "./pipeline.js";
import { createHealthService } from "./health.js";
import { addReflectionToServer, createReflection } from "./reflection.js";
import { createRequestValidator } from "./validation.js";

/** A service implementation to serve, typed against its generated descriptor. */
export interface ServiceRegistration<S extends DescService = DescService> {
  service: S;
  impl: ServiceImpl<S>;
}

export function registration<S extends DescService>(service: S, impl: ServiceImpl<S>): ServiceRegistration {
  return { service, impl } as unknown as ServiceRegistration;
}

/** A plain HTTP endpoint served beside the RPCs on the HTTP/1.1 side (JWKS, webhooks). */
export interface HttpRoute {
  method: "GET" | "POST";
  path: string;
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>;
}

/**
 * A dependency health watches. Readiness is false while any critical check fails or has not
 * answered within the server's `readinessTimeoutMs`. Every check's own state is also reported
 * under its name (grpc.health.v1 `Check({service: "<name>"})`, and /readyz's body).
 */
export interface ReadinessCheck {
  name: string;
  check: () => Promise<void>;
  /**
   * false: the service keeps serving without it (the broker: events wait in the outbox and
   * consumers catch up), so its failure degrades, rather than fails, readiness. Default true.
   */
  critical?: boolean;
}

export interface RpcServerOptions {
  name: string;
  services: ServiceRegistration[];
  logger: Logger;
  verifier?: TokenVerifier;
  httpRoutes?: HttpRoute[];
  readiness?: ReadinessCheck[];
  readinessIntervalMs?: number;
  /**
   * A check that has not answered within this fails (default 2 s): a dependency behind a
   * network partition hangs rather than refuses, and must still turn health NOT_SERVING.
   */
  readinessTimeoutMs?: number;
  metrics?: ServiceMetrics;
  /** How long a new connection may stay silent before it is closed (default 10 s). */
  firstByteTimeoutMs?: number;
  /**
   * Mutual TLS on the gRPC side: every HTTP/2 caller must present a certificate of the mesh
   * CA, internal methods check its name against the contract's callers, and plaintext HTTP/2
   * is refused. HTTP/1.1 (Connect and gRPC-Web from the edge, /metrics, health) stays plain.
   */
  meshTls?: MeshTlsFiles;
}

export interface RpcServer {
  /** Binds one port for both transports; resolves with the bound port (0 picks a free one). */
  listen(port: number, host: string): Promise<number>;
  /** Runs the readiness checks now and reports the result through health. */
  checkReadiness(): Promise<boolean>;
  /** NOT_SERVING first, then stop accepting, drain in-flight calls up to `graceMs`, then close. */
  shutdown(graceMs: number): Promise<void>;
  readonly metrics: ServiceMetrics;
}

const H2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
/** The first byte of a TLS record carrying a handshake (a ClientHello opens every TLS connection). */
const TLS_HANDSHAKE = 0x16;

/**
 * Serves each registered implementation over two transports on one port:
 *   - HTTP/2 prior knowledge -> @grpc/grpc-js (internal stubs, grpcurl), with
 *     grpc.health.v1 (real readiness) and server reflection;
 *   - HTTP/1.1 -> @connectrpc/connect-node (Connect JSON/binary, gRPC-Web) plus plain
 *     HTTP routes: /healthz, /readyz, /metrics and any `httpRoutes`.
 * Both transports call the same wrapped implementation, so the pipeline is identical.
 */
export function createRpcServer(options: RpcServerOptions): RpcServer {
  const { logger } = options;
  const metrics = options.metrics ?? createServiceMetrics(options.name);
  const shutdownController = new AbortController();
  let inFlightCount = 0;
  let idleWaiters: Array<() => void> = [];
  const inFlight = {
    enter: () => void inFlightCount++,
    leave: () => {
      inFlightCount--;
      if (inFlightCount === 0) {
        idleWaiters.forEach((wake) => wake());
        idleWaiters = [];
      }
    },
  };
  const validator = createRequestValidator();
  const wrapped = options.services.map(({ service, impl }) => ({
    service,
    impl: wrapServiceImpl(service, impl, {
      serviceName: options.name,
      logger,
      validator,
      verifier: options.verifier,
      metrics,
      inFlight,
      requireMeshIdentity: options.meshTls !== undefined,
    }),
  }));

  // gRPC side
  // Streams per connection are capped too, so one connection cannot hold unbounded server work.
  const grpcServer = new grpc.Server({
    "grpc.keepalive_permit_without_calls": 1,
    "grpc.max_receive_message_length": 4 * 1024 * 1024,
    "grpc.max_concurrent_streams": 100,
  });
  for (const { service, impl } of wrapped) {
    grpcServer.addService(grpcServiceDefinition(service), grpcHandlers(service, impl as ServiceImpl<DescService>, shutdownController.signal));
  }
  const serviceNames = wrapped.map(({ service }) => service.typeName);
  const health = createHealthService(Object.fromEntries([["", "NOT_SERVING"], ...serviceNames.map((name) => [name, "NOT_SERVING"] as const)]));
  health.addToServer(grpcServer, shutdownController.signal);
  addReflectionToServer(grpcServer, createReflection(wrapped.map(({ service }) => service)));
  const injector = grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const tlsInjector = options.meshTls ? grpcServer.createConnectionInjector(meshServerCredentials(options.meshTls)) : undefined;

  // HTTP/1.1 side
  let ready = false;
  /** Non-critical dependencies failing their check right now (see ReadinessCheck.critical). */
  let degraded: string[] = [];
  let shuttingDown = false;
  const routes = new Map<string, HttpRoute>();
  const addRoute = (route: HttpRoute) => routes.set(`${route.method} ${route.path}`, route);
  addRoute({ method: "GET", path: "/healthz", handler: (_req, res) => void res.writeHead(200, { "content-type": "text/plain" }).end("ok\n") });
  addRoute({
    method: "GET",
    path: "/readyz",
    handler: (_req, res) =>
      void res
        .writeHead(ready ? 200 : 503, { "content-type": "text/plain" })
        .end(`${ready ? "ready" : "not ready"}${degraded.length > 0 ? ` (degraded: ${degraded.join(", ")})` : ""}\n`),
  });
  addRoute({
    method: "GET",
    path: "/metrics",
    handler: async (_req, res) => void res.writeHead(200, { "content-type": metrics.registry.contentType }).end(await metrics.registry.metrics()),
  });
  options.httpRoutes?.forEach(addRoute);

  const connectHandler = connectNodeAdapter({
    routes: (router) => {
      for (const { service, impl } of wrapped) router.service(service, impl as ServiceImpl<DescService>);
    },
    shutdownSignal: shutdownController.signal,
    readMaxBytes: 4 * 1024 * 1024,
    contextValues: (request) => createContextValues().set(peerAddressKey, (request as http.IncomingMessage).socket.remoteAddress),
    // Only HTTP/1.1 reaches connect-node here (HTTP/2 goes to grpc-js), so these are http1 objects.
    fallback: (request, response) => {
      const req = request as http.IncomingMessage;
      const res = response as http.ServerResponse;
      const route = routes.get(`${req.method ?? "GET"} ${(req.url ?? "/").split("?")[0]}`);
      if (!route) {
        res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
        return;
      }
      Promise.resolve(route.handler(req, res)).catch((err: unknown) => {
        logger.error({ err, path: route.path }, "http route failed");
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end("internal error\n");
      });
    },
  });
  const httpServer = http.createServer({ keepAliveTimeout: 65_000 }, connectHandler);

  // One port: sniff the first bytes of each connection.
  const sockets = new Set<net.Socket>();
  const netServer = net.createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    // A connection that sends nothing holds a socket open for free (slowloris): it gets a
    // short while to say which protocol it speaks, then it is closed.
    const silent = setTimeout(() => socket.destroy(), options.firstByteTimeoutMs ?? 10_000);
    socket.once("close", () => clearTimeout(silent));
    socket.once("data", (first: Buffer) => {
      clearTimeout(silent);
      socket.pause();
      socket.unshift(first);
      const probe = first.subarray(0, Math.min(first.length, H2_PREFACE.length));
      const h2 = probe.equals(H2_PREFACE.subarray(0, probe.length)) && probe.length >= 3;
      if (first[0] === TLS_HANDSHAKE && tlsInjector) {
        tlsInjector.injectConnection(socket);
      } else if (h2 && tlsInjector) {
        // With mesh TLS, an HTTP/2 caller without a certificate gets no stream at all.
        logger.debug({ peer: socket.remoteAddress }, "plaintext HTTP/2 refused: the mesh requires mutual TLS");
        socket.destroy();
        return;
      } else if (h2) {
        injector.injectConnection(socket);
      } else {
        httpServer.emit("connection", socket);
      }
      process.nextTick(() => socket.resume());
    });
  });

  const checks = options.readiness ?? [];
  const readinessTimeoutMs = options.readinessTimeoutMs ?? 2_000;
  // A check still running from an earlier round (a hung query) is awaited again rather than
  // started anew, so a partition does not pile up one stuck probe per round.
  const outstanding = new Map<ReadinessCheck, Promise<void>>();
  function runCheck(readiness: ReadinessCheck): Promise<void> {
    let running = outstanding.get(readiness);
    if (!running) {
      running = readiness.check().finally(() => outstanding.delete(readiness));
      outstanding.set(readiness, running);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${readinessTimeoutMs} ms`)), readinessTimeoutMs);
      timer.unref();
    });
    return Promise.race([running, timeout]).finally(() => clearTimeout(timer));
  }
  async function checkReadiness(): Promise<boolean> {
    if (shuttingDown) return false;
    const failures: string[] = [];
    await Promise.all(
      checks.map(async (readiness) => {
        try {
          await runCheck(readiness);
          health.setStatus(readiness.name, "SERVING");
        } catch (err) {
          failures.push(readiness.name);
          health.setStatus(readiness.name, "NOT_SERVING");
          logger.warn({ err, dependency: readiness.name, critical: readiness.critical !== false }, "readiness check failed");
        }
      }),
    );
    degraded = checks.filter((readiness) => readiness.critical === false && failures.includes(readiness.name)).map(({ name }) => name);
    const nowReady = !shuttingDown && checks.every((readiness) => readiness.critical === false || !failures.includes(readiness.name));
    if (nowReady !== ready) logger.info({ ready: nowReady, failing: failures }, "readiness changed");
    ready = nowReady;
    const status = ready ? "SERVING" : "NOT_SERVING";
    health.setStatus("", status);
    serviceNames.forEach((name) => health.setStatus(name, status));
    return ready;
  }
  let readinessTimer: NodeJS.Timeout | undefined;

  return {
    metrics,
    checkReadiness,
    async listen(port, host) {
      await new Promise<void>((resolve, reject) => {
        netServer.once("error", reject);
        netServer.listen(port, host, () => {
          netServer.off("error", reject);
          resolve();
        });
      });
      await checkReadiness();
      readinessTimer = setInterval(() => void checkReadiness(), options.readinessIntervalMs ?? 5_000);
      readinessTimer.unref();
      const address = netServer.address() as net.AddressInfo;
      logger.info({ port: address.port, host, services: serviceNames }, "listening (gRPC over h2c, Connect/gRPC-Web over HTTP/1.1)");
      return address.port;
    },
    async shutdown(graceMs) {
      shuttingDown = true;
      ready = false;
      clearInterval(readinessTimer);
      health.setStatus("", "NOT_SERVING");
      serviceNames.forEach((name) => health.setStatus(name, "NOT_SERVING"));
      netServer.close();
      injector.drain(graceMs);
      httpServer.closeIdleConnections();
      if (inFlightCount > 0) {
        await Promise.race([new Promise<void>((resolve) => idleWaiters.push(resolve)), new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref())]);
      }
      shutdownController.abort(new Error("server shutting down"));
      grpcServer.forceShutdown();
      httpServer.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      logger.info({ abandoned: inFlightCount }, "server stopped");
    },
  };
}
