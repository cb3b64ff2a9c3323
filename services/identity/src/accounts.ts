import { create } from "@bufbuild/protobuf";
import { timestampFromDate, timestampNow } from "@bufbuild/protobuf/wkt";
import { v7 as uuidv7 } from "uuid";
import { SignInFailuresDetectedSchema, UserRegisteredSchema } from "@shopmesh/gen/shopmesh/events/v1/identity_events_pb.js";
import { NotFoundError, ResourceExhaustedError, TOPICS, UnauthenticatedError, type Logger } from "@shopmesh/platform";
import { appendToOutbox, withTransaction, type Pool } from "@shopmesh/platform/data";
import { hashPassword, verifyPassword } from "./domain/passwords.js";
import { hashRefreshToken, newRefreshToken, type TokenIssuer } from "./domain/tokens.js";
import { CUSTOMER_ROLE, normalizeEmail, type UserRecord } from "./domain/user.js";
import type { LoginThrottle } from "./store/login-throttle.js";
import type { RefreshTokenStore } from "./store/refresh-tokens.js";
import type { UserStore } from "./store/users.js";

export interface AccountsDeps {
  pool: Pool;
  users: UserStore;
  refreshTokens: RefreshTokenStore;
  throttle: LoginThrottle;
  issuer: TokenIssuer;
  logger: Logger;
  /** Called after a commit that wrote outbox rows, so the relay publishes without waiting. */
  onOutboxWrite: () => void;
  /** Failed sign-ins to one account (from any address) in the window that make the owner hear of it. */
  burstFailures: number;
  /** The throttle's window, reported with the burst. */
  failureWindowSeconds: number;
}

/** A signed-in session: a short-lived access token and the refresh token that renews it. */
export interface Session {
  accessToken: string;
  accessExpiresAt: Date;
  refreshToken: string;
  refreshExpiresAt: Date;
}

/** One message for every sign-in failure, so a caller cannot tell which part was wrong. */
const BAD_CREDENTIALS = "email or password is incorrect";
const BAD_REFRESH = "refresh token is invalid, expired or revoked";

/** The identity use cases: accounts, sign-in and sessions. */
export function createAccounts(deps: AccountsDeps) {
  const { users, refreshTokens, throttle, issuer } = deps;

  async function session(user: { id: string; roles: readonly string[] }, refreshToken: string, refreshExpiresAt: Date): Promise<Session> {
    const access = await issuer.accessToken({ userId: user.id, roles: user.roles });
    return { accessToken: access.token, accessExpiresAt: access.expiresAt, refreshToken, refreshExpiresAt };
  }

  /** A new session family for `user` (rotation and reuse detection work per family). */
  async function signIn(user: UserRecord): Promise<Session> {
    const refreshToken = newRefreshToken();
    const expiresAt = issuer.refreshExpiry();
    await withTransaction(deps.pool, (connection) =>
      refreshTokens.startFamily(connection, { userId: user.id, tokenHash: hashRefreshToken(refreshToken), expiresAt }),
    );
    return session(user, refreshToken, expiresAt);
  }

  async function reportBurst(user: UserRecord, failures: number, addresses: number): Promise<void> {
    deps.logger.warn({ user_id: user.id, failures, addresses }, "burst of failed sign-ins; telling the owner");
    await withTransaction(deps.pool, (connection) =>
      appendToOutbox(connection, {
        topic: TOPICS.identity,
        key: user.id,
        schema: SignInFailuresDetectedSchema,
        event: create(SignInFailuresDetectedSchema, {
          userId: user.id,
          failures,
          addresses,
          windowSeconds: deps.failureWindowSeconds,
          occurredTime: timestampNow(),
        }),
      }),
    );
    deps.onOutboxWrite();
  }

  return {
    /** A new customer account, signed in; UserRegistered commits with it. */
    async register(input: { email: string; password: string; displayName: string }): Promise<{ user: UserRecord; session: Session }> {
      const user: UserRecord = {
        id: uuidv7(),
        email: normalizeEmail(input.email),
        displayName: input.displayName.trim(),
        roles: [CUSTOMER_ROLE],
        passwordHash: await hashPassword(input.password),
        createdAt: new Date(),
      };
      const refreshToken = newRefreshToken();
      const refreshExpiresAt = issuer.refreshExpiry();
      await withTransaction(deps.pool, async (connection) => {
        await users.insert(connection, user);
        await refreshTokens.startFamily(connection, { userId: user.id, tokenHash: hashRefreshToken(refreshToken), expiresAt: refreshExpiresAt });
        await appendToOutbox(connection, {
          topic: TOPICS.identity,
          key: user.id,
          schema: UserRegisteredSchema,
          event: create(UserRegisteredSchema, {
            userId: user.id,
            email: user.email,
            displayName: user.displayName,
            occurredTime: timestampFromDate(user.createdAt),
          }),
        });
      });
      deps.onOutboxWrite();
      deps.logger.info({ user_id: user.id }, "user registered");
      return { user, session: await session(user, refreshToken, refreshExpiresAt) };
    },

    /** Signs in; `source` is the client's address, which the failure throttle is kept per. */
    async login(email: string, password: string, source: string): Promise<{ user: UserRecord; session: Session }> {
      const normalized = normalizeEmail(email);
      const wait = await throttle.retryAfterSeconds(normalized, source);
      if (wait > 0) throw new ResourceExhaustedError(`too many failed sign-in attempts from this address; try again in ${wait} s`);
      const user = await users.findByEmail(normalized);
      // Verify even for unknown emails so both failures cost the same time.
      const valid = await verifyPassword(user?.passwordHash, password);
      if (!user || !valid) {
        const { accountFailures, addresses } = await throttle.recordFailure(normalized, source);
        // Once per window, when the account-wide count reaches the threshold: the owner hears of it.
        if (user && accountFailures === deps.burstFailures) await reportBurst(user, accountFailures, addresses);
        throw new UnauthenticatedError(BAD_CREDENTIALS);
      }
      await throttle.clear(normalized, source);
      return { user, session: await signIn(user) };
    },

    /** Rotates a refresh token; a reused one revokes its whole family. */
    async refresh(refreshToken: string): Promise<Session> {
      const next = newRefreshToken();
      const expiresAt = issuer.refreshExpiry();
      const result = await refreshTokens.rotate(hashRefreshToken(refreshToken), hashRefreshToken(next), expiresAt);
      if (result.kind === "reused") {
        deps.logger.warn({ user_id: result.userId }, "refresh token reused; session family revoked");
      }
      if (result.kind !== "rotated") throw new UnauthenticatedError(BAD_REFRESH);
      const user = await users.findById(result.userId);
      if (!user) throw new UnauthenticatedError(BAD_REFRESH);
      return session(user, next, expiresAt);
    },

    logout(refreshToken: string): Promise<void> {
      return refreshTokens.revokeFamilyOf(hashRefreshToken(refreshToken));
    },

    async user(userId: string): Promise<UserRecord> {
      const user = await users.findById(userId);
      if (!user) throw new NotFoundError(`user ${userId} not found`);
      return user;
    },
  };
}

export type Accounts = ReturnType<typeof createAccounts>;
