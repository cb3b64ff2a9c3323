import * as grpc from "@grpc/grpc-js";
import { create, toBinary, type DescFile, type DescService, type MessageInitShape } from "@bufbuild/protobuf";
import { nestedTypes } from "@bufbuild/protobuf/reflect";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Health } from "@shopmesh/gen/grpc/health/v1/health_pb.js";
import {
  ServerReflection,
  ServerReflectionResponseSchema,
  type ServerReflectionRequest,
  type ServerReflectionResponse,
} from "@shopmesh/gen/grpc/reflection/v1/reflection_pb.js";
import { grpcMethodDefinition } from "./grpc-transport.js";

/** Answers one server reflection request; the stream carries one answer per request. */
export type ReflectionAnswer = (request: ServerReflectionRequest) => ServerReflectionResponse;

type Answer = MessageInitShape<typeof ServerReflectionResponseSchema>["messageResponse"];

/**
 * Server reflection over the generated descriptors of `services`, grpc.health.v1 and
 * grpc.reflection.v1. Files are served as the generated code embeds them, which is byte for
 * byte what buf or protoc compile (custom options included, source info left out), so strict
 * clients (grpcurl, buf curl, protobuf-es' createFileRegistry) load them. A file answer carries
 * the file first, then its transitive imports.
 */
export function createReflection(services: DescService[]): ReflectionAnswer {
  const served = [...services, Health, ServerReflection];
  const files = new Map<string, DescFile>();
  const visit = (file: DescFile) => {
    if (files.has(file.proto.name)) return;
    files.set(file.proto.name, file);
    file.dependencies.forEach(visit);
  };
  served.forEach((service) => visit(service.file));

  const symbols = new Map<string, DescFile>();
  /** extendee type name -> field number -> the file declaring the extension */
  const extensions = new Map<string, Map<number, DescFile>>();
  for (const file of files.values()) {
    for (const type of nestedTypes(file)) {
      symbols.set(type.typeName, file);
      switch (type.kind) {
        case "message":
          type.fields.forEach((field) => symbols.set(`${type.typeName}.${field.name}`, file));
          type.oneofs.forEach((oneof) => symbols.set(`${type.typeName}.${oneof.name}`, file));
          break;
        case "enum": {
          // Enum values are scoped like their enum, not inside it.
          const scope = type.typeName.slice(0, type.typeName.length - type.name.length);
          type.values.forEach((value) => symbols.set(`${scope}${value.name}`, file));
          break;
        }
        case "service":
          type.methods.forEach((method) => symbols.set(`${type.typeName}.${method.name}`, file));
          break;
        case "extension": {
          const numbers = extensions.get(type.extendee.typeName) ?? new Map<number, DescFile>();
          extensions.set(type.extendee.typeName, numbers.set(type.number, file));
          break;
        }
      }
    }
  }

  const withImports = (file: DescFile): Uint8Array[] => {
    const ordered = new Map<string, DescFile>();
    const add = (current: DescFile) => {
      if (ordered.has(current.proto.name)) return;
      ordered.set(current.proto.name, current);
      current.dependencies.forEach(add);
    };
    add(file);
    return [...ordered.values()].map((current) => toBinary(FileDescriptorProtoSchema, current.proto));
  };
  const notFound = (errorMessage: string): Answer => ({
    case: "errorResponse",
    value: { errorCode: grpc.status.NOT_FOUND, errorMessage },
  });
  const fileAnswer = (file: DescFile | undefined, what: string): Answer =>
    file ? { case: "fileDescriptorResponse", value: { fileDescriptorProto: withImports(file) } } : notFound(`${what} not found`);

  const answer = (request: ServerReflectionRequest): Answer => {
    const { messageRequest } = request;
    switch (messageRequest.case) {
      case "listServices":
        return {
          case: "listServicesResponse",
          value: {
            service: served.map((service) => ({ name: service.typeName })),
          },
        };
      case "fileByFilename":
        return fileAnswer(files.get(messageRequest.value), `file ${messageRequest.value}`);
      case "fileContainingSymbol":
        return fileAnswer(symbols.get(messageRequest.value), `symbol ${messageRequest.value}`);
      case "fileContainingExtension": {
        const { containingType, extensionNumber } = messageRequest.value;
        return fileAnswer(extensions.get(containingType)?.get(extensionNumber), `extension ${extensionNumber} of ${containingType}`);
      }
      case "allExtensionNumbersOfType": {
        const type = messageRequest.value;
        if (!symbols.has(type)) return notFound(`type ${type} not found`);
        return {
          case: "allExtensionNumbersResponse",
          value: {
            baseTypeName: type,
            extensionNumber: [...(extensions.get(type)?.keys() ?? [])].sort((a, b) => a - b),
          },
        };
      }
      default:
        return {
          case: "errorResponse",
          value: { errorCode: grpc.status.UNIMPLEMENTED, errorMessage: "unknown reflection request" },
        };
    }
  };
  return (request) => create(ServerReflectionResponseSchema, { validHost: request.host, originalRequest: request, messageResponse: answer(request) });
}

/**
 * Serves `answer` as grpc.reflection.v1 and as v1alpha, which has the same messages on the
 * wire under another package, for clients that only speak the older one.
 */
export function addReflectionToServer(server: grpc.Server, answer: ReflectionAnswer): void {
  const method = ServerReflection.method.serverReflectionInfo;
  const v1 = grpcMethodDefinition(method);
  const handler = (call: grpc.ServerDuplexStream<ServerReflectionRequest, ServerReflectionResponse>) => {
    call.on("data", (request: ServerReflectionRequest) => call.write(answer(request)));
    call.on("end", () => call.end());
  };
  for (const path of [v1.path, v1.path.replace("grpc.reflection.v1.", "grpc.reflection.v1alpha.")]) {
    server.addService({ [method.localName]: { ...v1, path } }, { [method.localName]: handler as grpc.handleBidiStreamingCall<unknown, unknown> });
  }
}
