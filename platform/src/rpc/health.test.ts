import * as grpc from "@grpc/grpc-js";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus, type HealthCheckResponse } from "@shopmesh/gen/grpc/health/v1/health_pb.js";
import { grpcServiceDefinition } from "./grpc-transport.js";
import { createHealthService } from "./health.js";

interface HealthClient extends grpc.Client {
  check(request: { service: string }, callback: (err: grpc.ServiceError | null, response?: HealthCheckResponse) => void): void;
  list(request: object, callback: (err: grpc.ServiceError | null, response?: { statuses: Record<string, HealthCheckResponse> }) => void): void;
  watch(request: { service: string }): grpc.ClientReadableStream<HealthCheckResponse>;
}
const HealthClient = grpc.makeGenericClientConstructor(grpcServiceDefinition(Health), "Health") as unknown as new (
  address: string,
  credentials: grpc.ChannelCredentials,
) => HealthClient;

const shutdown = new AbortController();
const server = new grpc.Server();
const health = createHealthService({ "": "NOT_SERVING", "shopmesh.test.v1.TestService": "NOT_SERVING" });
let client: HealthClient;

beforeAll(async () => {
  health.addToServer(server, shutdown.signal);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  client = new HealthClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});

afterAll(() => {
  client.close();
  shutdown.abort();
  server.forceShutdown();
});

const check = (service: string) =>
  new Promise<string>((resolve) => client.check({ service }, (err, response) => resolve(err ? grpc.status[err.code] : ServingStatus[response!.status])));

test("Check answers the status of a known name and NOT_FOUND for an unknown one; List has them all", async () => {
  health.setStatus("", "SERVING");
  expect(await check("")).toBe("SERVING");
  expect(await check("shopmesh.test.v1.TestService")).toBe("NOT_SERVING");
  expect(await check("nobody")).toBe("NOT_FOUND");
  const listed = await new Promise<Record<string, HealthCheckResponse>>((resolve, reject) =>
    client.list({}, (err, response) => (err ? reject(err) : resolve(response!.statuses))),
  );
  expect(Object.fromEntries(Object.entries(listed).map(([name, { status }]) => [name, ServingStatus[status]]))).toEqual({
    "": "SERVING",
    "shopmesh.test.v1.TestService": "NOT_SERVING",
  });
});

test("Watch sends the current status, then each change; a name set later goes from SERVICE_UNKNOWN to its status", async () => {
  const seen: string[] = [];
  const stream = client.watch({ service: "kafka" });
  const arrived = (count: number) =>
    new Promise<void>((resolve) => {
      const poll = () => (seen.length >= count ? resolve() : setTimeout(poll, 10));
      poll();
    });
  stream.on("data", (response: HealthCheckResponse) => seen.push(ServingStatus[response.status]));
  stream.on("error", () => undefined);
  await arrived(1);
  health.setStatus("kafka", "SERVING");
  await arrived(2);
  health.setStatus("kafka", "SERVING"); // no change, nothing sent
  health.setStatus("kafka", "NOT_SERVING");
  await arrived(3);
  stream.cancel();
  expect(seen).toEqual(["SERVICE_UNKNOWN", "SERVING", "NOT_SERVING"]);
});
