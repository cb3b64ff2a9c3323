import * as grpc from "@grpc/grpc-js";
import { StringValueSchema } from "@bufbuild/protobuf/wkt";
import { Code, type ServiceImpl } from "@connectrpc/connect";
import { findTrailerError } from "@connectrpc/connect/protocol-grpc";
import { Health } from "@shopmesh/gen/grpc/health/v1/health_pb.js";
import { errorDetail, FailedPreconditionError, toConnectError } from "../errors.js";
import { grpcHandlers, grpcServiceDefinition } from "./grpc-transport.js";
import { serveHealthForTest } from "./health-client.test-support.js";

// The pipeline hands grpc-js what toConnectError made of the domain's error; so does this stand-in.
const failing = {
  check: async () => {
    const shortage = new FailedPreconditionError("insufficient stock", {
      details: [errorDetail(StringValueSchema, { value: "product-1" }), errorDetail(StringValueSchema, { value: "product-2" })],
    });
    throw toConnectError(shortage, () => undefined);
  },
} as unknown as ServiceImpl<typeof Health>;

let served: Awaited<ReturnType<typeof serveHealthForTest>>;

beforeAll(async () => {
  served = await serveHealthForTest((server, shutdownSignal) =>
    server.addService(grpcServiceDefinition(Health), grpcHandlers(Health, failing, shutdownSignal)),
  );
});

afterAll(() => served.close());

test("when a domain error carries details, then a grpc-js client receives them as google.rpc.Status in grpc-status-details-bin", async () => {
  const err = await new Promise<grpc.ServiceError>((resolve, reject) =>
    served.client.check({ service: "" }, (error) => (error ? resolve(error) : reject(new Error("no error")))),
  );
  expect(err.code).toBe(grpc.status.FAILED_PRECONDITION);
  const [encoded] = err.metadata.get("grpc-status-details-bin");
  expect(Buffer.isBuffer(encoded)).toBe(true);
  // Read back with connect's own decoder: the bytes are what the Connect path would have sent.
  const trailer = new Headers({
    "grpc-status": String(err.code),
    "grpc-message": "insufficient stock",
    "grpc-status-details-bin": (encoded as Buffer).toString("base64"),
  });
  const decoded = findTrailerError(trailer);
  expect(decoded?.code).toBe(Code.FailedPrecondition);
  expect(decoded?.findDetails(StringValueSchema).map((detail) => detail.value)).toEqual(["product-1", "product-2"]);
});
