import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createFileRegistry, fromBinary, type DescFile } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/**
 * The shopmesh files of the buf workspace (proto/ and third_party/), compiled by buf with their
 * source info: the generated code leaves comments out, and the comments are the reference.
 * Sorted by file name so the output is stable.
 */
export function loadContractFiles(): DescFile[] {
  const image = execFileSync(`${REPO_ROOT}node_modules/.bin/buf`, ["build", "--as-file-descriptor-set", "-o", "-"], {
    cwd: REPO_ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, image));
  return [...registry.files].filter((file) => file.proto.package.startsWith("shopmesh.")).sort((a, b) => a.name.localeCompare(b.name));
}
