// Production refuses the secrets the repository ships: a real service process, started in
// production mode with a development secret, exits before it listens and names the variable.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { DEVELOPMENT_SECRETS } from "@shopmesh/platform";
import { REPO_ROOT } from "../edge/harness.js";

/** Starts `service` with `env` and resolves with how it ended (it must end: no port is ever awaited). */
function runToExit(service: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, "services", service, "dist", "main.js")], {
      cwd: REPO_ROOT,
      env: { PATH: process.env["PATH"] ?? "", OTEL_SDK_DISABLED: "true", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${service} still ran after 15 s:\n${output}`));
    }, 15_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** Everything payment needs in production except a real secret: addresses that are never reached. */
const PRODUCTION = {
  NODE_ENV: "production",
  HOST: "127.0.0.1",
  MYSQL_HOST: "127.0.0.1",
  MYSQL_USER: "shopmesh",
  MYSQL_PASSWORD: "Pq7-not-a-shipped-value",
  KAFKA_BROKERS: "127.0.0.1:1",
  JWT_ISSUER: "shopmesh-identity",
  JWT_AUDIENCE: "shopmesh",
  JWKS_URL: "http://127.0.0.1:1/.well-known/jwks.json",
  IDENTITY_ADDR: "127.0.0.1:1",
  PAYMENT_PROVIDER_URL: "http://127.0.0.1:1",
};

test("payment in production with the development webhook secret exits at once, naming the variable, without listening", async () => {
  expect(DEVELOPMENT_SECRETS.has("whsec_dev_shopmesh")).toBe(true);
  const { code, output } = await runToExit("payment", { ...PRODUCTION, PAYMENT_WEBHOOK_SECRET: "whsec_dev_shopmesh" });
  expect(code).not.toBe(0);
  expect(output).toContain("PAYMENT_WEBHOOK_SECRET: a development value the repository ships");
  expect(output).not.toMatch(/listening/i);
});

test("a development database password is refused the same way, even when every other secret is real", async () => {
  const { code, output } = await runToExit("payment", { ...PRODUCTION, MYSQL_PASSWORD: "shopmesh", PAYMENT_WEBHOOK_SECRET: "whsec_Zk29-own" });
  expect(code).not.toBe(0);
  expect(output).toContain("MYSQL_PASSWORD: a development value the repository ships");
});
