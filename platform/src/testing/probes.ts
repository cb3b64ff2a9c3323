import * as grpc from "@grpc/grpc-js";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus, type HealthCheckResponse } from "@shopmesh/gen/grpc/health/v1/health_pb.js";
import { grpcServiceDefinition } from "../rpc/grpc-transport.js";

type HealthStatus = keyof typeof ServingStatus;

interface HealthClient extends grpc.Client {
  check(request: { service: string }, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null, response?: HealthCheckResponse) => void): void;
}
const HealthClient = grpc.makeGenericClientConstructor(grpcServiceDefinition(Health), "Health") as unknown as new (
  address: string,
  credentials: grpc.ChannelCredentials,
) => HealthClient;

/** What `grpc.health.v1.Health/Check` answers for `service` ("" is the whole server), as a kubelet probe asks it. */
export async function grpcHealthStatus(port: number, service = ""): Promise<HealthStatus> {
  const client = new HealthClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  try {
    return await new Promise<HealthStatus>((resolve, reject) =>
      client.check({ service }, { deadline: Date.now() + 5_000 }, (err, response) =>
        err ? reject(err) : resolve(ServingStatus[response!.status] as HealthStatus),
      ),
    );
  } finally {
    client.close();
  }
}

/** The HTTP status of `GET /readyz` (200 ready, 503 not), as a compose health check asks it. */
export async function readyzStatus(port: number): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(5_000) });
  await response.arrayBuffer();
  return response.status;
}
