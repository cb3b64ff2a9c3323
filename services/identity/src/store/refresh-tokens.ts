import { v7 as uuidv7 } from "uuid";
import { withTransaction, type Pool, type PoolConnection, type RowDataPacket } from "@shopmesh/platform/data";

interface TokenRow extends RowDataPacket {
  id: string;
  family_id: string;
  user_id: string;
  expires_at: Date;
  rotated_at: Date | null;
  revoked_at: Date | null;
}

export type RotationResult =
  | { kind: "rotated"; userId: string }
  | { kind: "invalid" }
  /** A rotated token came back: its whole family has just been revoked. */
  | { kind: "reused"; userId: string };

/** The `refresh_tokens` table: one family per sign-in, one row per rotation. */
/**
 * `reuseGraceMs`: how long after its rotation a refresh token may still be exchanged (a client
 * retrying a refresh whose answer it lost) before a presentation counts as reuse.
 */
export function createRefreshTokenStore(pool: Pool, reuseGraceMs = 0) {
  async function insert(connection: PoolConnection, token: { familyId: string; userId: string; tokenHash: string; expiresAt: Date }): Promise<void> {
    await connection.execute("INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, expires_at) VALUES (?, ?, ?, ?, ?)", [
      uuidv7(),
      token.familyId,
      token.userId,
      token.tokenHash,
      token.expiresAt,
    ]);
  }

  /** Whether a token of the family issued by the rotation at `rotatedAt` (or later) was itself rotated. */
  async function successorUsed(connection: PoolConnection, familyId: string, rotatedAt: Date): Promise<boolean> {
    const [rows] = await connection.execute<RowDataPacket[]>("SELECT 1 FROM refresh_tokens WHERE family_id = ? AND rotated_at > ? LIMIT 1", [
      familyId,
      rotatedAt,
    ]);
    return rows.length > 0;
  }

  return {
    /** Starts a new family (a new sign-in) inside the caller's transaction. */
    startFamily(connection: PoolConnection, token: { userId: string; tokenHash: string; expiresAt: Date }): Promise<void> {
      return insert(connection, { ...token, familyId: uuidv7() });
    },

    /**
     * Swaps `presentedHash` for `nextHash` atomically. The row lock makes two concurrent
     * refreshes with the same token serialize: one rotates, the other is seen as reuse.
     */
    rotate(presentedHash: string, nextHash: string, nextExpiresAt: Date, now = new Date()): Promise<RotationResult> {
      return withTransaction(pool, async (connection) => {
        const [rows] = await connection.execute<TokenRow[]>(
          "SELECT id, family_id, user_id, expires_at, rotated_at, revoked_at FROM refresh_tokens WHERE token_hash = ? FOR UPDATE",
          [presentedHash],
        );
        const row = rows[0];
        if (!row || row.revoked_at !== null || row.expires_at <= now) return { kind: "invalid" } as const;
        // A client whose page unloaded mid-refresh never stored the new token and presents the
        // old one again a moment later: within the grace period that is a retry, not a theft,
        // as long as the successor it lost was never used itself.
        const inGrace = row.rotated_at !== null && now.getTime() - row.rotated_at.getTime() <= reuseGraceMs;
        const retry = inGrace && !(await successorUsed(connection, row.family_id, row.rotated_at!));
        if (row.rotated_at !== null && !retry) {
          await connection.execute("UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL", [now, row.family_id]);
          return { kind: "reused", userId: row.user_id } as const;
        }
        if (retry) {
          // The retry replaces the successor instead of adding one: a family never holds two
          // live tokens, so the grace window cannot mint a parallel session.
          await connection.execute("UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND rotated_at IS NULL AND revoked_at IS NULL", [
            now,
            row.family_id,
          ]);
        } else {
          await connection.execute("UPDATE refresh_tokens SET rotated_at = ? WHERE id = ?", [now, row.id]);
        }
        await insert(connection, { familyId: row.family_id, userId: row.user_id, tokenHash: nextHash, expiresAt: nextExpiresAt });
        return { kind: "rotated", userId: row.user_id } as const;
      });
    },

    /** Ends the session the token belongs to. Unknown tokens are ignored (logout is idempotent). */
    async revokeFamilyOf(tokenHash: string, now = new Date()): Promise<void> {
      await pool.execute(
        "UPDATE refresh_tokens t JOIN refresh_tokens f ON f.family_id = t.family_id SET f.revoked_at = ? WHERE t.token_hash = ? AND f.revoked_at IS NULL",
        [now, tokenHash],
      );
    },
  };
}

export type RefreshTokenStore = ReturnType<typeof createRefreshTokenStore>;
