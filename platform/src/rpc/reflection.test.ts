import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { create, createFileRegistry, fromBinary, toBinary, type DescService, type MessageInitShape } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema, type FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import {
  ServerReflection,
  ServerReflectionRequestSchema,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from "@shopmesh/gen/grpc/reflection/v1/reflection_pb.js";
import { CartService } from "@shopmesh/gen/shopmesh/cart/v1/cart_pb.js";
import { startStubServer } from "../testing/stub-server.js";
import { grpcMethodDefinition } from "./grpc-transport.js";
import { createReflection, type ReflectionAnswer } from "./reflection.js";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const GEN_SRC = `${REPO_ROOT}gen/src/`;

/** Every service the generated code declares: what the mesh's servers register between them. */
async function contractServices(): Promise<DescService[]> {
  const services: DescService[] = [];
  for (const entry of readdirSync(GEN_SRC, { recursive: true, encoding: "utf8" }).sort()) {
    if (!entry.endsWith("_pb.js")) continue;
    const module = (await import(`@shopmesh/gen/${entry}`)) as Record<string, unknown>;
    services.push(...Object.values(module).filter((value): value is DescService => (value as { kind?: unknown } | null)?.kind === "service"));
  }
  return services.filter((service) => !service.typeName.startsWith("grpc."));
}

type RequestKind = MessageInitShape<typeof ServerReflectionRequestSchema>["messageRequest"];
const request = (messageRequest: RequestKind) => create(ServerReflectionRequestSchema, { host: "test", messageRequest });

/** What grpcurl and buf curl do: list the services, take each one's file, then every import by name. */
function resolveAll(answer: ReflectionAnswer): { services: string[]; files: Map<string, Uint8Array> } {
  const list = answer(request({ case: "listServices", value: "*" })).messageResponse;
  if (list.case !== "listServicesResponse") throw new Error(`listServices answered ${list.case}`);
  const services = list.value.service.map((service) => service.name);
  const files = new Map<string, Uint8Array>();
  const receive = (response: ServerReflectionResponse) => {
    if (response.messageResponse.case !== "fileDescriptorResponse") throw new Error(`answered ${response.messageResponse.case}`);
    for (const bytes of response.messageResponse.value.fileDescriptorProto) files.set(fromBinary(FileDescriptorProtoSchema, bytes).name, bytes);
  };
  services.forEach((name) => receive(answer(request({ case: "fileContainingSymbol", value: name }))));
  for (let missing = missingImports(files); missing.length > 0; missing = missingImports(files)) {
    missing.forEach((name) => receive(answer(request({ case: "fileByFilename", value: name }))));
  }
  return { services, files };
}

function missingImports(files: Map<string, Uint8Array>): string[] {
  return [...files.values()].flatMap((bytes) => fromBinary(FileDescriptorProtoSchema, bytes).dependency).filter((name) => !files.has(name));
}

/** A file set lists imports before the files that import them; reflection answers the other way round. */
function inImportOrder(files: Map<string, Uint8Array>): FileDescriptorProto[] {
  const ordered = new Map<string, FileDescriptorProto>();
  const add = (name: string) => {
    if (ordered.has(name)) return;
    const file = fromBinary(FileDescriptorProtoSchema, files.get(name)!);
    file.dependency.forEach(add);
    ordered.set(name, file);
  };
  [...files.keys()].forEach(add);
  return [...ordered.values()];
}

/** buf's compile of proto/ and third_party/, without source info: what protoc would embed. */
function bufCompiled(): Map<string, FileDescriptorProto> {
  const bytes = execFileSync(`${REPO_ROOT}node_modules/.bin/buf`, ["build", "--exclude-source-info", "--as-file-descriptor-set", "-o", "-"], {
    cwd: REPO_ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  return new Map(fromBinary(FileDescriptorSetSchema, bytes).file.map((file) => [file.name, file]));
}

describe("server reflection (grpc.reflection.v1 over the generated descriptors)", () => {
  test("when a client resolves every service of each server and their imports, then protobuf-es loads them into one registry", async () => {
    const services = await contractServices();
    expect(services.length).toBeGreaterThanOrEqual(9);
    for (const service of services) {
      const { services: listed, files } = resolveAll(createReflection([service]));
      expect(listed).toEqual([service.typeName, "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection"]);
      const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: inImportOrder(files) }));
      for (const name of listed) {
        const loaded = registry.getService(name);
        expect(loaded?.methods.length).toBeGreaterThan(0);
        loaded?.methods.forEach((method) => expect(registry.getMessage(method.input.typeName)).toBeDefined());
      }
    }
  });

  test("every file is served byte for byte as buf compiles it, custom options included", async () => {
    const compiled = bufCompiled();
    const { files } = resolveAll(createReflection(await contractServices()));
    // descriptor.proto is @bufbuild/protobuf's own copy, of whichever protobuf release it bundles.
    const ours = [...files.keys()].filter((name) => name !== "google/protobuf/descriptor.proto");
    expect(ours).toEqual(expect.arrayContaining(["grpc/health/v1/health.proto", "buf/validate/validate.proto", "shopmesh/policy/v1/policy.proto"]));
    for (const name of ours) {
      expect({ name, bytes: Buffer.from(files.get(name)!).toString("base64") }).toEqual({
        name,
        bytes: Buffer.from(toBinary(FileDescriptorProtoSchema, compiled.get(name)!)).toString("base64"),
      });
    }
  });

  test("methods, extensions and unknown symbols are answered as the reflection protocol says", () => {
    const answer = createReflection([CartService]);
    const fileOf = (messageRequest: RequestKind) => {
      const response = answer(request(messageRequest)).messageResponse;
      return response.case === "fileDescriptorResponse" ? fromBinary(FileDescriptorProtoSchema, response.value.fileDescriptorProto[0]!).name : response.case;
    };
    expect(fileOf({ case: "fileContainingSymbol", value: "shopmesh.cart.v1.CartService.GetCart" })).toBe("shopmesh/cart/v1/cart.proto");
    expect(fileOf({ case: "fileContainingSymbol", value: "grpc.health.v1.HealthCheckResponse.SERVING" })).toBe("grpc/health/v1/health.proto");
    expect(fileOf({ case: "fileContainingExtension", value: { containingType: "google.protobuf.MethodOptions", extensionNumber: 51234 } })).toBe(
      "shopmesh/policy/v1/policy.proto",
    );
    expect(fileOf({ case: "fileContainingSymbol", value: "shopmesh.cart.v1.Nothing" })).toBe("errorResponse");
    const numbers = answer(request({ case: "allExtensionNumbersOfType", value: "google.protobuf.MethodOptions" })).messageResponse;
    expect(numbers.case === "allExtensionNumbersResponse" && numbers.value.extensionNumber).toContain(51234);
  });

  test("when a client calls ServerReflectionInfo over gRPC, v1 or v1alpha, then the server answers each request on the stream", async () => {
    const stub = await startStubServer(CartService, {});
    try {
      const v1 = grpcMethodDefinition(ServerReflection.method.serverReflectionInfo);
      for (const path of [v1.path, v1.path.replace(".v1.", ".v1alpha.")]) {
        const Client = grpc.makeGenericClientConstructor({ info: { ...v1, path } }, "ServerReflection");
        const client = new Client(`127.0.0.1:${stub.port}`, grpc.credentials.createInsecure());
        try {
          const call = (client as unknown as { info(): grpc.ClientDuplexStream<ServerReflectionRequest, ServerReflectionResponse> }).info();
          const answers: ServerReflectionResponse[] = [];
          const done = new Promise<void>((resolve, reject) => {
            call.on("data", (response: ServerReflectionResponse) => answers.push(response));
            call.on("end", resolve);
            call.on("error", reject);
          });
          call.write(request({ case: "listServices", value: "*" }));
          call.write(request({ case: "fileContainingSymbol", value: CartService.typeName }));
          call.end();
          await done;
          expect(answers.map((answer) => answer.messageResponse.case)).toEqual(["listServicesResponse", "fileDescriptorResponse"]);
        } finally {
          client.close();
        }
      }
    } finally {
      await stub.stop();
    }
  });
});
