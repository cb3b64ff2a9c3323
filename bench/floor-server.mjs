// The physical floor: a bare server answering catalog's GetProduct with the very Product
// message the real catalog returned (same bytes once serialized), and nothing else: no
// validation, auth, tracing, metrics, cache or database. `FLOOR_KIND=grpc` is @grpc/grpc-js,
// `FLOOR_KIND=connect` is @connectrpc/connect-node on HTTP/2 (h2c) plus HTTP/1.1.
import http2 from "node:http2";
import * as grpc from "@grpc/grpc-js";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { CatalogService, GetProductResponseSchema } from "@shopmesh/gen/shopmesh/catalog/v1/catalog_pb.js";

const kind = process.env["FLOOR_KIND"] ?? "grpc";
const response = fromBinary(GetProductResponseSchema, Buffer.from(process.env["FLOOR_RESPONSE_B64"] ?? "", "base64"));
const method = CatalogService.method.getProduct;

function listening(port) {
  console.log(JSON.stringify({ msg: "listening", kind, port }));
}

if (kind === "grpc") {
  const server = new grpc.Server();
  server.addService(
    {
      GetProduct: {
        path: `/${CatalogService.typeName}/${method.name}`,
        requestStream: false,
        responseStream: false,
        requestSerialize: (message) => Buffer.from(toBinary(method.input, message)),
        requestDeserialize: (bytes) => fromBinary(method.input, bytes),
        responseSerialize: (message) => Buffer.from(toBinary(method.output, message)),
        responseDeserialize: (bytes) => fromBinary(method.output, bytes),
      },
    },
    { GetProduct: (_call, callback) => callback(null, response) },
  );
  server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) throw err;
    listening(port);
  });
  process.once("SIGTERM", () => server.tryShutdown(() => process.exit(0)));
} else {
  const handler = connectNodeAdapter({ routes: (router) => router.service(CatalogService, { getProduct: () => response }) });
  const server = http2.createServer({}, handler);
  server.listen(0, "127.0.0.1", () => listening(server.address().port));
  process.once("SIGTERM", () => server.close(() => process.exit(0)));
}
