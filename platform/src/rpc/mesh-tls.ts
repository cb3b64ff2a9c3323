/**
 * Service identity on internal hops: mutual TLS with certificates from the mesh's CA, each
 * naming its holder by a SPIFFE-style URI (spiffe://shopmesh.local/service/<name>). Servers
 * require a client certificate on gRPC; stubs present theirs and check the server's name.
 * Both read their files through grpc-js's file watcher, so a rotated certificate is used for
 * new connections without a restart.
 */
import type { PeerCertificate } from "node:tls";
import type { DescService } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";

export const TRUST_DOMAIN = "shopmesh.local";

/** The URI a mesh identity's certificate carries. */
export const meshIdentityUri = (name: string) => `spiffe://${TRUST_DOMAIN}/service/${name}`;

/** A holder's files: the mesh CA (trust), its certificate and its key, all PEM. */
export interface MeshTlsFiles {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** How often the files are read again for a rotated certificate (default 60 s). */
  refreshIntervalMs?: number;
}

const IDENTITY = new RegExp(`URI:spiffe://${TRUST_DOMAIN.replace(/\./g, "\\.")}/service/([a-z][a-z0-9-]*)(?:,|$)`);

/** The mesh name in a certificate's subject alternative names, or undefined when it has none. */
export function meshIdentityOf(certificate: Pick<PeerCertificate, "subjectaltname"> | undefined): string | undefined {
  return IDENTITY.exec(certificate?.subjectaltname ?? "")?.[1];
}

/** The mesh name of the service a shopmesh contract describes: shopmesh.inventory.v1.InventoryService is `inventory`. */
export function meshNameOf(service: DescService): string {
  const name = /^shopmesh\.([a-z][a-z0-9]*)\.v\d+$/.exec(service.file.proto.package)?.[1];
  if (!name) throw new Error(`${service.typeName} is not a shopmesh service: name the server's mesh identity`);
  return name;
}

/** The variables a process reads its mesh TLS files from (the config's MESH_* keys). */
export function meshTlsEnv(files: MeshTlsFiles): Record<"MESH_CA_FILE" | "MESH_CERT_FILE" | "MESH_KEY_FILE", string> {
  return { MESH_CA_FILE: files.caFile, MESH_CERT_FILE: files.certFile, MESH_KEY_FILE: files.keyFile };
}

function provider(files: MeshTlsFiles) {
  return new grpc.experimental.FileWatcherCertificateProvider({
    caCertificateFile: files.caFile,
    certificateFile: files.certFile,
    privateKeyFile: files.keyFile,
    refreshIntervalMs: files.refreshIntervalMs ?? 60_000,
  });
}

/** A gRPC server's credentials: its own certificate, and a client certificate from the mesh CA required of every caller. */
export function meshServerCredentials(files: MeshTlsFiles): grpc.ServerCredentials {
  const own = provider(files);
  return grpc.experimental.createCertificateProviderServerCredentials(own, own, true);
}

/**
 * A stub's credentials: its own certificate, trust in the mesh CA only, and the server must
 * be `server` (its certificate's SPIFFE name, whatever address it was reached at).
 */
export function meshChannelCredentials(files: MeshTlsFiles, server: string): grpc.ChannelCredentials {
  const own = provider(files);
  return grpc.experimental.createCertificateProviderChannelCredentials(own, own, {
    checkServerIdentity: (_host, certificate) => {
      const name = meshIdentityOf(certificate);
      return name === server ? undefined : new Error(`expected the mesh identity ${server}, the server presented ${name ?? "none"}`);
    },
  });
}
