import { createHash, randomBytes } from "node:crypto";
import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, importPKCS8, SignJWT, type CryptoKey, type JSONWebKeySet } from "jose";
import { v7 as uuidv7 } from "uuid";

export interface SigningKey {
  privateKey: CryptoKey;
  /** The public half as a JWKS, what identity publishes and every verifier reads. */
  jwks: JSONWebKeySet;
  kid: string;
}

export async function generateSigningKeyPem(): Promise<string> {
  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  return exportPKCS8(privateKey);
}

/** Loads an ES256 key from PKCS#8 PEM and derives its public JWK and key id (RFC 7638 thumbprint). */
export async function loadSigningKey(pem: string): Promise<SigningKey> {
  const privateKey = await importPKCS8(pem, "ES256", { extractable: true });
  const { d: _private, ...publicJwk } = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return { privateKey, kid, jwks: { keys: [{ ...publicJwk, kid, alg: "ES256", use: "sig" }] } };
}

export interface AccessTokenClaims {
  userId: string;
  roles: readonly string[];
}

export interface TokenIssuerOptions {
  key: SigningKey;
  issuer: string;
  audience: string;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
}

export interface IssuedAccessToken {
  token: string;
  expiresAt: Date;
}

export function createTokenIssuer(options: TokenIssuerOptions) {
  return {
    async accessToken(claims: AccessTokenClaims, now = new Date()): Promise<IssuedAccessToken> {
      const issuedAt = Math.floor(now.getTime() / 1000);
      const expiresAt = new Date((issuedAt + options.accessTtlSeconds) * 1000);
      const token = await new SignJWT({ roles: [...claims.roles] })
        .setProtectedHeader({ alg: "ES256", kid: options.key.kid, typ: "JWT" })
        .setSubject(claims.userId)
        .setIssuer(options.issuer)
        .setAudience(options.audience)
        .setIssuedAt(issuedAt)
        .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
        .setJti(uuidv7())
        .sign(options.key.privateKey);
      return { token, expiresAt };
    },
    refreshExpiry(now = new Date()): Date {
      return new Date(now.getTime() + options.refreshTtlSeconds * 1000);
    },
  };
}

export type TokenIssuer = ReturnType<typeof createTokenIssuer>;

/** Opaque refresh token: 256 random bits. Only its SHA-256 is stored. */
export function newRefreshToken(): string {
  return randomBytes(32).toString("base64url");
}

export function hashRefreshToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}
