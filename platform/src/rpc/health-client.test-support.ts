import * as grpc from "@grpc/grpc-js";
import { Health, type HealthCheckResponse } from "@shopmesh/gen/grpc/health/v1/health_pb.js";
import { grpcServiceDefinition } from "./grpc-transport.js";

/** A grpc-js client of grpc.health.v1, the one service the platform serves itself. */
export interface HealthClient extends grpc.Client {
  check(request: { service: string }, callback: (err: grpc.ServiceError | null, response?: HealthCheckResponse) => void): void;
  list(request: object, callback: (err: grpc.ServiceError | null, response?: { statuses: Record<string, HealthCheckResponse> }) => void): void;
  watch(request: { service: string }): grpc.ClientReadableStream<HealthCheckResponse>;
}

const HealthClient = grpc.makeGenericClientConstructor(grpcServiceDefinition(Health), "Health") as unknown as new (
  address: string,
  credentials: grpc.ChannelCredentials,
) => HealthClient;

/** A grpc-js server on a free port with what `register` adds, and a Health client to it; `close` ends both. */
export async function serveHealthForTest(register: (server: grpc.Server, shutdownSignal: AbortSignal) => void) {
  const shutdown = new AbortController();
  const server = new grpc.Server();
  register(server, shutdown.signal);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  const client = new HealthClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return {
    client,
    close() {
      client.close();
      shutdown.abort();
      server.forceShutdown();
    },
  };
}
