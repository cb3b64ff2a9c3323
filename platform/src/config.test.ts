import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { ConfigError, DEVELOPMENT_SECRETS, devDefault, devSecret, loadConfig, port, redisConfig } from "./config.js";

const shape = { DB_HOST: devDefault("127.0.0.1"), APP_PORT: port(50051), LIMIT: z.coerce.number().int().min(1) };

describe("loadConfig", () => {
  test("when variables are missing outside production, then local defaults apply", () => {
    expect(loadConfig(shape, { LIMIT: "3" })).toEqual({ DB_HOST: "127.0.0.1", APP_PORT: 50051, LIMIT: 3 });
  });

  test("when a variable is invalid, then the error names it", () => {
    expect(() => loadConfig(shape, { APP_PORT: "99999", LIMIT: "0" })).toThrow(ConfigError);
    try {
      loadConfig(shape, { APP_PORT: "99999", LIMIT: "0" });
    } catch (err) {
      const message = (err as Error).message;
      expect(message).toContain("APP_PORT");
      expect(message).toContain("LIMIT");
    }
  });

  test("when running in production, then a missing dev-default variable is an error, not a fallback to loopback", () => {
    expect(() => loadConfig(shape, { NODE_ENV: "production", LIMIT: "1" })).toThrow(/DB_HOST: required in production/);
    expect(loadConfig(shape, { NODE_ENV: "production", LIMIT: "1", DB_HOST: "mysql.prod" }).DB_HOST).toBe("mysql.prod");
  });

  test("in production a secret must be set, and to none of the development values the repository ships, wherever it came from", () => {
    const secrets = { ADMIN_PASSWORD: devSecret("admin-password"), WEBHOOK_SECRET: devSecret("whsec_dev_shopmesh") };
    expect(loadConfig(secrets, {}).ADMIN_PASSWORD).toBe("admin-password");
    expect(() => loadConfig(secrets, { NODE_ENV: "production", WEBHOOK_SECRET: "Zq3v9-real-secret" })).toThrow(/ADMIN_PASSWORD: required in production/);
    // Set is not enough: any shipped value is refused, not only the variable's own default.
    for (const known of DEVELOPMENT_SECRETS) {
      expect(() => loadConfig(secrets, { NODE_ENV: "production", ADMIN_PASSWORD: known, WEBHOOK_SECRET: "Zq3v9-real-secret" })).toThrow(
        /ADMIN_PASSWORD: a development value/,
      );
    }
    expect(loadConfig(secrets, { NODE_ENV: "production", ADMIN_PASSWORD: "k2#Lw9-own", WEBHOOK_SECRET: "Zq3v9-real-secret" })).toEqual({
      ADMIN_PASSWORD: "k2#Lw9-own",
      WEBHOOK_SECRET: "Zq3v9-real-secret",
    });
  });

  test("a secret is read from <NAME>_FILE when given (a mounted secret), and an unreadable file is named", () => {
    const dir = mkdtempSync(join(tmpdir(), "config-test-"));
    writeFileSync(join(dir, "admin"), "from-a-file-7Hq\n");
    const secrets = { ADMIN_PASSWORD: devSecret("admin-password") };
    expect(loadConfig(secrets, { NODE_ENV: "production", ADMIN_PASSWORD_FILE: join(dir, "admin") }).ADMIN_PASSWORD).toBe("from-a-file-7Hq");
    expect(() => loadConfig(secrets, { ADMIN_PASSWORD_FILE: join(dir, "missing") })).toThrow(/ADMIN_PASSWORD_FILE: cannot read .*missing \(ENOENT\)/);
  });

  test("in production a Redis URL carrying a development password is refused", () => {
    const env = { NODE_ENV: "production" };
    expect(() => loadConfig(redisConfig, { ...env, REDIS_URL: "redis://:shopmesh@redis:6379" })).toThrow(/REDIS_URL: its password is a development value/);
    expect(loadConfig(redisConfig, { ...env, REDIS_URL: "redis://:x8Jd2-own@redis:6379" }).REDIS_URL).toContain("redis:6379");
  });
});
