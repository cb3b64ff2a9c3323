// grpc.health.v1 served from the generated descriptor, like every other service here, so no
// .proto file is parsed at run time (grpc-health-check did, through proto-loader and
// protobufjs). Kubelet's gRPC probe and grpcurl ask Check; load balancers may Watch.
import { EventEmitter } from "node:events";
import type * as grpc from "@grpc/grpc-js";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "@shopmesh/gen/grpc/health/v1/health_pb.js";
import { grpcHandlers, grpcServiceDefinition } from "./grpc-transport.js";

export type HealthStatus = "SERVING" | "NOT_SERVING";

/** The health of the server ("") and of each name set so far (services and readiness checks). */
export function createHealthService(initial: Record<string, HealthStatus>) {
  const statuses = new Map<string, ServingStatus>(Object.entries(initial).map(([name, status]) => [name, ServingStatus[status]]));
  const changes = new EventEmitter().setMaxListeners(0);
  /** Resolves on the next status change, or when `signal` aborts. */
  const nextChange = (signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      const done = () => {
        changes.off("change", done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      changes.once("change", done);
      signal.addEventListener("abort", done, { once: true });
    });

  const impl: ServiceImpl<typeof Health> = {
    async check(request) {
      const status = statuses.get(request.service);
      if (status === undefined) throw new ConnectError(`unknown service ${request.service.slice(0, 200)}`, Code.NotFound);
      return { status };
    },
    async list() {
      return { statuses: Object.fromEntries([...statuses].map(([name, status]) => [name, { status }])) };
    },
    async *watch(request, ctx) {
      // The current status first, then each change; an unknown name may become known later.
      let sent: ServingStatus | undefined;
      while (!ctx.signal.aborted) {
        const status = statuses.get(request.service) ?? ServingStatus.SERVICE_UNKNOWN;
        if (status !== sent) {
          sent = status;
          yield { status };
          continue;
        }
        await nextChange(ctx.signal);
      }
    },
  };

  return {
    setStatus(name: string, status: HealthStatus): void {
      if (statuses.get(name) === ServingStatus[status]) return;
      statuses.set(name, ServingStatus[status]);
      changes.emit("change");
    },
    addToServer(server: grpc.Server, shutdownSignal: AbortSignal): void {
      server.addService(grpcServiceDefinition(Health), grpcHandlers(Health, impl as unknown as Parameters<typeof grpcHandlers>[1], shutdownSignal));
    },
  };
}
