import * as grpc from "@grpc/grpc-js";
import { HealthCheckResponse_ServingStatus as ServingStatus, type HealthCheckResponse } from "@shopmesh/gen/grpc/health/v1/health_pb.js";
import { createHealthService } from "./health.js";
import { serveHealthForTest, type HealthClient } from "./health-client.test-support.js";

const health = createHealthService({ "": "NOT_SERVING", "shopmesh.test.v1.TestService": "NOT_SERVING" });
let served: Awaited<ReturnType<typeof serveHealthForTest>>;
let client: HealthClient;

beforeAll(async () => {
  served = await serveHealthForTest((server, shutdownSignal) => health.addToServer(server, shutdownSignal));
  client = served.client;
});

afterAll(() => served.close());

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
