import { createTestTokens } from "../testing/index.js";
import { authorize } from "./auth.js";
import { Auth, type MethodPolicy } from "./policy.js";

const policy = (overrides: Partial<MethodPolicy>): MethodPolicy => ({
  auth: Auth.PUBLIC,
  roles: [],
  rateLimit: "",
  idempotent: false,
  timeoutMs: 0,
  ...overrides,
});

describe("authorize (the policy option applied to a request)", () => {
  let tokens: Awaited<ReturnType<typeof createTestTokens>>;
  beforeAll(async () => {
    tokens = await createTestTokens();
  });

  test("a public method needs no token, and names the caller when one is sent", async () => {
    await expect(authorize(policy({}), null, "connect", tokens.verifier)).resolves.toBeUndefined();
    const caller = await authorize(policy({}), `Bearer ${await tokens.token("u1")}`, "connect", tokens.verifier);
    expect(caller?.userId).toBe("u1");
  });

  test("a user method without a token is UNAUTHENTICATED; with a forged or expired one too", async () => {
    await expect(authorize(policy({ auth: Auth.USER }), null, "connect", tokens.verifier)).rejects.toMatchObject({ name: "UnauthenticatedError" });
    const other = await createTestTokens();
    await expect(authorize(policy({ auth: Auth.USER }), `Bearer ${await other.token("u1")}`, "connect", tokens.verifier)).rejects.toMatchObject({
      name: "UnauthenticatedError",
    });
    await expect(
      authorize(policy({ auth: Auth.USER }), `Bearer ${await tokens.token("u1", ["customer"], -60)}`, "connect", tokens.verifier),
    ).rejects.toMatchObject({ name: "UnauthenticatedError" });
    await expect(authorize(policy({ auth: Auth.USER }), "Basic abc", "connect", tokens.verifier)).rejects.toMatchObject({ name: "UnauthenticatedError" });
  });

  test("a role-restricted method refuses a signed-in caller without the role with PERMISSION_DENIED", async () => {
    const admin = policy({ auth: Auth.USER, roles: ["admin"] });
    await expect(authorize(admin, `Bearer ${await tokens.token("u1", ["customer"])}`, "connect", tokens.verifier)).rejects.toMatchObject({
      name: "PermissionDeniedError",
    });
    await expect(authorize(admin, `Bearer ${await tokens.token("u2", ["customer", "admin"])}`, "connect", tokens.verifier)).resolves.toMatchObject({
      userId: "u2",
    });
  });

  test("an internal method is refused on the edge transport and allowed on gRPC", async () => {
    await expect(authorize(policy({ auth: Auth.INTERNAL }), null, "connect", tokens.verifier)).rejects.toMatchObject({ name: "PermissionDeniedError" });
    await expect(authorize(policy({ auth: Auth.INTERNAL }), null, "grpc", tokens.verifier)).resolves.toBeUndefined();
  });
});
