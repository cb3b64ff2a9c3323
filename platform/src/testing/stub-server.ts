import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import { createRpcServer, registration, type RpcServer, type RpcServerOptions } from "../rpc/server.js";
import { testLogger } from "./index.js";

export interface StubServer {
  port: number;
  server: RpcServer;
  stop(): Promise<void>;
}

/**
 * A real platform server (createRpcServer, the whole pipeline) on a free port of 127.0.0.1,
 * serving `impl` for a generated `service`; methods left out answer UNIMPLEMENTED. For tests
 * whose subject is the client, health or the pipeline rather than a service's logic.
 */
export async function startStubServer<S extends DescService>(
  service: S,
  impl: Partial<ServiceImpl<S>>,
  options: Partial<Omit<RpcServerOptions, "services">> = {},
): Promise<StubServer> {
  const unimplemented = () => {
    throw new ConnectError("not implemented by this stub", Code.Unimplemented);
  };
  const full = Object.fromEntries(service.methods.map((method) => [method.localName, unimplemented]));
  Object.assign(full, impl);
  const name = options.name ?? `stub-${service.name}`;
  const server = createRpcServer({ logger: testLogger(name), ...options, name, services: [registration(service, full as unknown as ServiceImpl<S>)] });
  const port = await server.listen(0, "127.0.0.1");
  return { port, server, stop: () => server.shutdown(0) };
}
