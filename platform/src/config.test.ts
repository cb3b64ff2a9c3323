import { z } from "zod";
import { ConfigError, devDefault, loadConfig, port } from "./config.js";

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
});
