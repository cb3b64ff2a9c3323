/**
 * A local certificate authority for the mesh, on openssl: a CA, and per identity a P-256 key
 * and a certificate naming it by SPIFFE URI, valid for an exact window (minutes, for rotation
 * tests, or already over, for an expired one). Files are replaced by rename, so a watcher
 * never reads half of one.
 */
import { execFileSync } from "node:child_process";
import { randomBytes, X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { meshIdentityUri, type MeshTlsFiles } from "./rpc/mesh-tls.js";

const openssl = (args: string[], cwd?: string) => execFileSync("openssl", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });

/** openssl ca's time format: YYYYMMDDHHMMSSZ. */
const asn1Time = (at: Date) => `${at.toISOString().replace(/[-:T]/g, "").slice(0, 14)}Z`;

export interface MeshCa {
  dir: string;
  caFile: string;
  /** Issues `name` a certificate valid from `notBefore` for `lifetimeSeconds`, and returns its files (`<file>.crt`, `<file>.key`; `file` defaults to the name). */
  issue(name: string, options?: { lifetimeSeconds?: number; notBefore?: Date; file?: string }): MeshTlsFiles;
  /** `name`'s files, issued anew only when missing or within the last third of `lifetimeSeconds` (idempotent on every start). */
  ensure(name: string, lifetimeSeconds: number): MeshTlsFiles;
}

/** A CA in `dir` (created when missing, reused when present). */
export function createMeshCa(dir: string, subject = "/O=shopmesh/CN=shopmesh mesh CA"): MeshCa {
  mkdirSync(dir, { recursive: true });
  const caFile = join(dir, "ca.crt");
  const caKey = join(dir, "ca.key");
  if (!existsSync(caFile)) {
    openssl([
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
      "-keyout", caKey, "-out", caFile, "-days", "365", "-subj", subject,
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    ]); // prettier-ignore
  }
  const ca: MeshCa = {
    dir,
    caFile,
    ensure(name, lifetimeSeconds) {
      const files = { caFile, certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`) };
      if (existsSync(files.certFile) && existsSync(files.keyFile)) {
        const validTo = new Date(new X509Certificate(readFileSync(files.certFile)).validTo).getTime();
        if (validTo - Date.now() > (lifetimeSeconds * 1000) / 3) return files;
      }
      return ca.issue(name, { lifetimeSeconds });
    },
    issue(name, options = {}) {
      const work = mkdtempSync(join(dir, `.issue-${name}-`));
      try {
        const key = join(work, "key.pem");
        const csr = join(work, "req.csr");
        const cert = join(work, "cert.pem");
        openssl(["ecparam", "-genkey", "-name", "prime256v1", "-noout", "-out", join(work, "ec.pem")]);
        openssl(["pkcs8", "-topk8", "-nocrypt", "-in", join(work, "ec.pem"), "-out", key]);
        openssl(["req", "-new", "-key", key, "-subj", `/O=shopmesh/CN=${name}`, "-out", csr]);
        writeFileSync(join(work, "index.txt"), "");
        writeFileSync(join(work, "serial"), randomBytes(8).toString("hex"));
        writeFileSync(
          join(work, "ca.cnf"),
          [
            "[ca]",
            "default_ca = mesh",
            "[mesh]",
            `database = ${join(work, "index.txt")}`,
            `new_certs_dir = ${work}`,
            `serial = ${join(work, "serial")}`,
            "default_md = sha256",
            "policy = any",
            "unique_subject = no",
            "[any]",
            "commonName = supplied",
            "organizationName = optional",
            "[leaf]",
            "basicConstraints = critical,CA:FALSE",
            "keyUsage = critical,digitalSignature",
            "extendedKeyUsage = serverAuth,clientAuth",
            `subjectAltName = URI:${meshIdentityUri(name)},DNS:localhost,IP:127.0.0.1`,
            "",
          ].join("\n"),
        );
        const from = options.notBefore ?? new Date(Date.now() - 60_000);
        const until = new Date(from.getTime() + (options.lifetimeSeconds ?? 24 * 3600) * 1000);
        openssl([
          "ca", "-batch", "-config", join(work, "ca.cnf"), "-extensions", "leaf", "-notext",
          "-cert", caFile, "-keyfile", caKey, "-in", csr, "-out", cert,
          "-startdate", asn1Time(from), "-enddate", asn1Time(until),
        ]); // prettier-ignore
        const base = options.file ?? name;
        const files = { caFile, certFile: join(dir, `${base}.crt`), keyFile: join(dir, `${base}.key`) };
        renameSync(key, files.keyFile);
        renameSync(cert, files.certFile);
        return files;
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
  };
  return ca;
}
