import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Pool, RowDataPacket } from "mysql2/promise";
import type { Logger } from "../logger.js";

const FILE_PATTERN = /^(\d{4})_[a-z0-9_]+\.sql$/;

export interface Migration {
  version: number;
  name: string;
  checksum: string;
  statements: string[];
}

/**
 * Splits a migration file into statements at a `;` that ends a line (a trailing `-- comment`
 * may follow it). Whole-line comments are dropped; comments inside a statement are left to MySQL.
 * Migrations hold no procedures, so no statement contains a line-ending `;` of its own.
 */
export function splitStatements(sql: string): string[] {
  return sql
    .replace(/^\s*--.*$/gm, "")
    .split(/;[ \t]*(?:--[^\n]*)?(?:\r?\n|$)/)
    .map((statement) => statement.trim())
    .filter((statement) => statement.length > 0);
}

export async function readMigrations(directory: string): Promise<Migration[]> {
  const files = (await readdir(directory)).filter((file) => file.endsWith(".sql")).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const match = FILE_PATTERN.exec(file);
    if (!match) throw new Error(`migration file name must look like 0001_create_users.sql: ${file}`);
    const sql = await readFile(join(directory, file), "utf8");
    migrations.push({
      version: Number(match[1]),
      name: file,
      checksum: createHash("sha256").update(sql).digest("hex"),
      statements: splitStatements(sql),
    });
  }
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) throw new Error(`migrations must be numbered 0001, 0002, ... without gaps: ${migration.name}`);
  });
  return migrations;
}

/**
 * Applies the not-yet-applied migrations of `directory`, forward only. An applied file that
 * was edited afterwards is an error (its checksum changed). Concurrent replicas serialise on a
 * named lock, so only one applies each migration.
 */
export async function runMigrations(pool: Pool, directory: string, logger: Logger, options: { table?: string } = {}): Promise<number> {
  const table = options.table ?? "schema_migrations";
  if (!/^[a-z_]+$/.test(table)) throw new Error(`unsafe migrations table ${table}`);
  const migrations = await readMigrations(directory);
  const connection = await pool.getConnection();
  const lockName = `shopmesh_${table}_${(connection.config.database ?? "").slice(0, 30)}`;
  try {
    const [lockRows] = await connection.query<RowDataPacket[]>("SELECT GET_LOCK(?, 60) AS acquired", [lockName]);
    if (lockRows[0]?.["acquired"] !== 1) throw new Error("could not acquire the migration lock within 60 s");
    await connection.query(`CREATE TABLE IF NOT EXISTS ${table} (
      version INT PRIMARY KEY,
      name VARCHAR(255) NOT NULL,
      checksum CHAR(64) NOT NULL,
      applied_at TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
    )`);
    const [appliedRows] = await connection.query<RowDataPacket[]>(`SELECT version, name, checksum FROM ${table} ORDER BY version`);
    const applied = new Map(appliedRows.map((row) => [row["version"] as number, row]));
    let count = 0;
    for (const migration of migrations) {
      const done = applied.get(migration.version);
      if (done) {
        if (done["checksum"] !== migration.checksum) {
          throw new Error(`migration ${migration.name} was changed after it was applied; add a new migration instead`);
        }
        continue;
      }
      // MySQL commits DDL implicitly, so a failed multi-statement migration is reported
      // with the statement that failed; keep migrations to one concern each.
      for (const statement of migration.statements) {
        await connection.query(statement);
      }
      await connection.query(`INSERT INTO ${table} (version, name, checksum) VALUES (?, ?, ?)`, [migration.version, migration.name, migration.checksum]);
      logger.info({ migration: migration.name }, "migration applied");
      count++;
    }
    return count;
  } finally {
    await connection.query("SELECT RELEASE_LOCK(?)", [lockName]).catch(() => undefined);
    connection.release();
  }
}
