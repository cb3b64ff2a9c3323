import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { v7 as uuidv7 } from "uuid";
import { type IdentityService, TokenPairSchema, UserSchema, type TokenPair, type User } from "@shopmesh/gen/shopmesh/identity/v1/identity_pb.js";
import { UserRegisteredSchema } from "@shopmesh/gen/shopmesh/events/v1/identity_events_pb.js";
import { NotFoundError, requireCaller, ResourceExhaustedError, TOPICS, UnauthenticatedError, type Logger } from "@shopmesh/platform";
import { appendToOutbox, withTransaction, type Pool } from "@shopmesh/platform/data";
import { hashPassword, verifyPassword } from "../domain/passwords.js";
import { hashRefreshToken, newRefreshToken, type TokenIssuer } from "../domain/tokens.js";
import { CUSTOMER_ROLE, normalizeEmail, type UserRecord } from "../domain/user.js";
import type { LoginThrottle } from "../store/login-throttle.js";
import type { RefreshTokenStore } from "../store/refresh-tokens.js";
import type { UserStore } from "../store/users.js";

export interface IdentityDeps {
  pool: Pool;
  users: UserStore;
  refreshTokens: RefreshTokenStore;
  throttle: LoginThrottle;
  issuer: TokenIssuer;
  logger: Logger;
  /** Called after a commit that wrote outbox rows, so the relay publishes without waiting. */
  onOutboxWrite: () => void;
}

/** One message for every sign-in failure, so a caller cannot tell which part was wrong. */
const BAD_CREDENTIALS = "email or password is incorrect";

function toUser(record: UserRecord): User {
  return create(UserSchema, {
    id: record.id,
    email: record.email,
    displayName: record.displayName,
    roles: record.roles,
    createTime: timestampFromDate(record.createdAt),
  });
}

export function createIdentityService(deps: IdentityDeps): ServiceImpl<typeof IdentityService> {
  const { users, refreshTokens, throttle, issuer } = deps;

  async function tokenPair(user: { id: string; roles: readonly string[] }, refreshToken: string, refreshExpiresAt: Date): Promise<TokenPair> {
    const access = await issuer.accessToken({ userId: user.id, roles: user.roles });
    return create(TokenPairSchema, {
      accessToken: access.token,
      refreshToken,
      accessTokenExpireTime: timestampFromDate(access.expiresAt),
      refreshTokenExpireTime: timestampFromDate(refreshExpiresAt),
      tokenType: "Bearer",
    });
  }

  async function signIn(user: UserRecord) {
    const refreshToken = newRefreshToken();
    const expiresAt = issuer.refreshExpiry();
    await withTransaction(deps.pool, (connection) =>
      refreshTokens.startFamily(connection, { userId: user.id, tokenHash: hashRefreshToken(refreshToken), expiresAt }),
    );
    return tokenPair(user, refreshToken, expiresAt);
  }

  return {
    async register(request) {
      const record: UserRecord = {
        id: uuidv7(),
        email: normalizeEmail(request.email),
        displayName: request.displayName.trim(),
        roles: [CUSTOMER_ROLE],
        passwordHash: await hashPassword(request.password),
        createdAt: new Date(),
      };
      const refreshToken = newRefreshToken();
      const refreshExpiresAt = issuer.refreshExpiry();
      await withTransaction(deps.pool, async (connection) => {
        await users.insert(connection, record);
        await refreshTokens.startFamily(connection, { userId: record.id, tokenHash: hashRefreshToken(refreshToken), expiresAt: refreshExpiresAt });
        await appendToOutbox(connection, {
          topic: TOPICS.identity,
          key: record.id,
          schema: UserRegisteredSchema,
          event: create(UserRegisteredSchema, {
            userId: record.id,
            email: record.email,
            displayName: record.displayName,
            occurredTime: timestampFromDate(record.createdAt),
          }),
        });
      });
      deps.onOutboxWrite();
      deps.logger.info({ user_id: record.id }, "user registered");
      return { user: toUser(record), tokens: await tokenPair(record, refreshToken, refreshExpiresAt) };
    },

    async login(request) {
      const email = normalizeEmail(request.email);
      if (await throttle.isLocked(email)) {
        throw new ResourceExhaustedError("too many failed sign-in attempts; try again later");
      }
      const user = await users.findByEmail(email);
      // Verify even for unknown emails so both failures cost the same time.
      const valid = await verifyPassword(user?.passwordHash, request.password);
      if (!user || !valid) {
        await throttle.recordFailure(email);
        throw new UnauthenticatedError(BAD_CREDENTIALS);
      }
      await throttle.clear(email);
      return { user: toUser(user), tokens: await signIn(user) };
    },

    async refresh(request) {
      const next = newRefreshToken();
      const expiresAt = issuer.refreshExpiry();
      const result = await refreshTokens.rotate(hashRefreshToken(request.refreshToken), hashRefreshToken(next), expiresAt);
      if (result.kind === "reused") {
        deps.logger.warn({ user_id: result.userId }, "refresh token reused; session family revoked");
      }
      if (result.kind !== "rotated") throw new UnauthenticatedError("refresh token is invalid, expired or revoked");
      const user = await users.findById(result.userId);
      if (!user) throw new UnauthenticatedError("refresh token is invalid, expired or revoked");
      return { tokens: await tokenPair(user, next, expiresAt) };
    },

    async logout(request) {
      await refreshTokens.revokeFamilyOf(hashRefreshToken(request.refreshToken));
      return {};
    },

    async getMe(_request, ctx) {
      const caller = requireCaller(ctx);
      const user = await users.findById(caller.userId);
      if (!user) throw new NotFoundError("user not found");
      return { user: toUser(user) };
    },

    async getUser(request) {
      const user = await users.findById(request.userId);
      if (!user) throw new NotFoundError(`user ${request.userId} not found`);
      return { user: toUser(user) };
    },
  };
}
