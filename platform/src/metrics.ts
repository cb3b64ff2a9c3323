import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/**
 * One Prometheus registry per service process, passed to whatever records metrics.
 * Names follow `shopmesh_<thing>` and are listed in docs/telemetry.md.
 */
export interface ServiceMetrics {
  registry: Registry;
  rpcDuration: Histogram<"service" | "method" | "code" | "transport">;
  rpcInFlight: Gauge<"service" | "transport">;
  clientDuration: Histogram<"target" | "method" | "code">;
}

export function createServiceMetrics(service: string): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service_name: service });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    rpcDuration: new Histogram({
      name: "shopmesh_rpc_server_duration_seconds",
      help: "Server-side RPC latency by method and status code.",
      labelNames: ["service", "method", "code", "transport"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    rpcInFlight: new Gauge({
      name: "shopmesh_rpc_server_in_flight",
      help: "RPCs being served right now.",
      labelNames: ["service", "transport"],
      registers: [registry],
    }),
    clientDuration: new Histogram({
      name: "shopmesh_rpc_client_duration_seconds",
      help: "Outgoing RPC latency by target service, method and status code.",
      labelNames: ["target", "method", "code"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}

export { Counter, Gauge, Histogram, Registry };
