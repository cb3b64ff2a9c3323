import { AlreadyExistsError } from "@shopmesh/platform";
import { isDuplicateKey, type Pool, type PoolConnection, type RowDataPacket } from "@shopmesh/platform/data";
import type { UserRecord } from "../domain/user.js";

interface UserRow extends RowDataPacket {
  id: string;
  email: string;
  display_name: string;
  roles: string[] | string;
  password_hash: string;
  created_at: Date;
}

function toRecord(row: UserRow): UserRecord {
  return {
    id: row.id,
    email: row.email,
    displayName: row.display_name,
    roles: typeof row.roles === "string" ? (JSON.parse(row.roles) as string[]) : row.roles,
    passwordHash: row.password_hash,
    createdAt: row.created_at,
  };
}

const COLUMNS = "id, email, display_name, roles, password_hash, created_at";

/** The `users` table. */
export function createUserStore(pool: Pool) {
  return {
    async insert(connection: PoolConnection, user: UserRecord): Promise<void> {
      try {
        await connection.execute("INSERT INTO users (id, email, display_name, roles, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)", [
          user.id,
          user.email,
          user.displayName,
          JSON.stringify(user.roles),
          user.passwordHash,
          user.createdAt,
        ]);
      } catch (err) {
        if (isDuplicateKey(err)) throw new AlreadyExistsError("an account with this email already exists");
        throw err;
      }
    },
    async findByEmail(email: string): Promise<UserRecord | undefined> {
      const [rows] = await pool.execute<UserRow[]>(`SELECT ${COLUMNS} FROM users WHERE email = ?`, [email]);
      return rows[0] ? toRecord(rows[0]) : undefined;
    },
    async findById(id: string): Promise<UserRecord | undefined> {
      const [rows] = await pool.execute<UserRow[]>(`SELECT ${COLUMNS} FROM users WHERE id = ?`, [id]);
      return rows[0] ? toRecord(rows[0]) : undefined;
    },
  };
}

export type UserStore = ReturnType<typeof createUserStore>;
