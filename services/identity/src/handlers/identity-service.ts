import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { type IdentityService, TokenPairSchema, UserSchema, type TokenPair, type User } from "@shopmesh/gen/shopmesh/identity/v1/identity_pb.js";
import { clientAddress, requireCaller } from "@shopmesh/platform";
import type { Accounts, Session } from "../accounts.js";
import type { UserRecord } from "../domain/user.js";

export interface IdentityServiceDeps {
  /** The use cases (../accounts.ts). */
  accounts: Accounts;
}

function toUser(record: UserRecord): User {
  return create(UserSchema, {
    id: record.id,
    email: record.email,
    displayName: record.displayName,
    roles: record.roles,
    createTime: timestampFromDate(record.createdAt),
  });
}

function toTokenPair(session: Session): TokenPair {
  return create(TokenPairSchema, {
    accessToken: session.accessToken,
    refreshToken: session.refreshToken,
    accessTokenExpireTime: timestampFromDate(session.accessExpiresAt),
    refreshTokenExpireTime: timestampFromDate(session.refreshExpiresAt),
    tokenType: "Bearer",
  });
}

/** Translates the contract to the account use cases; auth and validation ran before. */
export function createIdentityService({ accounts }: IdentityServiceDeps): ServiceImpl<typeof IdentityService> {
  return {
    async register(request) {
      const { user, session } = await accounts.register({ email: request.email, password: request.password, displayName: request.displayName });
      return { user: toUser(user), tokens: toTokenPair(session) };
    },

    async login(request, ctx) {
      const { user, session } = await accounts.login(request.email, request.password, clientAddress(ctx));
      return { user: toUser(user), tokens: toTokenPair(session) };
    },

    async refresh(request) {
      return { tokens: toTokenPair(await accounts.refresh(request.refreshToken)) };
    },

    async logout(request) {
      await accounts.logout(request.refreshToken);
      return {};
    },

    async getMe(_request, ctx) {
      return { user: toUser(await accounts.user(requireCaller(ctx).userId)) };
    },

    async getUser(request) {
      return { user: toUser(await accounts.user(request.userId)) };
    },
  };
}
