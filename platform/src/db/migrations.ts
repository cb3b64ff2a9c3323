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

// Own splitter, not umzug/postgrator: neither splits MySQL scripts itself, so this is the smaller change.

/** Stored programs: their BEGIN ... END bodies hold `;` that do not end the CREATE statement. */
const STORED_PROGRAMS = new Set(["PROCEDURE", "FUNCTION", "TRIGGER", "EVENT"]);
/** What CREATE can make; the first of these after CREATE says what the statement creates. */
const CREATED_KINDS = new Set([
  ...STORED_PROGRAMS,
  "TABLE",
  "TEMPORARY",
  "INDEX",
  "UNIQUE",
  "FULLTEXT",
  "SPATIAL",
  "VIEW",
  "DATABASE",
  "SCHEMA",
  "USER",
  "ROLE",
  "SEQUENCE",
  "SERVER",
]);
/** `END IF`, `END LOOP`, ... close blocks that are not counted: they only ever sit inside a BEGIN ... END. */
const UNCOUNTED_BLOCK_ENDS = new Set(["IF", "LOOP", "WHILE", "REPEAT"]);

/**
 * Splits a migration file into statements at each `;` that ends one, as the mysql client
 * does: a `;` inside a string, a quoted identifier or a comment (`-- `, `#`, `/* *\/`) does
 * not count, nor one inside the BEGIN ... END body (or a CASE) of a CREATE PROCEDURE,
 * FUNCTION, TRIGGER or EVENT, which needs no DELIMITER here. Comments before a statement are
 * dropped; comments inside one are left to MySQL.
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let start = -1; // where the current statement's first token begins; -1 before it
  let kind: "unknown" | "stored program" | "other" = "unknown";
  let depth = 0; // BEGIN and CASE blocks open in a stored program's body
  let i = 0;
  while (i < sql.length) {
    const char = sql[i]!;
    const next = sql[i + 1];
    if ((char === "-" && next === "-" && (i + 2 === sql.length || /\s/.test(sql[i + 2]!))) || char === "#") {
      const lineEnd = sql.indexOf("\n", i);
      i = lineEnd < 0 ? sql.length : lineEnd + 1;
    } else if (char === "/" && next === "*") {
      const close = sql.indexOf("*/", i + 2);
      if (close < 0) throw new Error("unterminated /* comment in migration");
      if (sql[i + 2] === "!" && start < 0) start = i; // an executable comment (/*! ... */) is SQL
      i = close + 2;
    } else if (/\s/.test(char)) {
      i++;
    } else if (char === ";" && depth === 0) {
      if (start >= 0) statements.push(sql.slice(start, i).trim());
      [start, kind] = [-1, "unknown"];
      i++;
    } else {
      if (start < 0) {
        start = i;
        if (startsWithWord(sql, i, "DELIMITER"))
          throw new Error("DELIMITER is a mysql client command: write the body between BEGIN and END with plain semicolons");
        kind = startsWithWord(sql, i, "CREATE") ? "unknown" : "other";
      }
      if (char === "'" || char === '"' || char === "`") {
        i = endOfQuoted(sql, i);
        continue;
      }
      const word = /[A-Za-z_][A-Za-z0-9_$]*/y;
      word.lastIndex = i;
      const keyword = word.exec(sql)?.[0].toUpperCase();
      if (keyword === undefined) {
        i++;
        continue;
      }
      i = word.lastIndex;
      if (kind === "unknown" && CREATED_KINDS.has(keyword)) kind = STORED_PROGRAMS.has(keyword) ? "stored program" : "other";
      else if (kind === "stored program") {
        if (keyword === "BEGIN" || keyword === "CASE") depth++;
        else if (keyword === "END" && depth > 0) {
          const after = /\s*([A-Za-z]+)/y;
          after.lastIndex = i;
          const closes = after.exec(sql)?.[1]?.toUpperCase();
          if (closes === "CASE") i = after.lastIndex; // END CASE closes a CASE; this CASE opens nothing
          if (closes === undefined || !UNCOUNTED_BLOCK_ENDS.has(closes)) depth--;
        }
      }
    }
  }
  if (start >= 0) statements.push(sql.slice(start).trim());
  return statements;
}

function startsWithWord(sql: string, at: number, word: string): boolean {
  return new RegExp(`${word}\\b`, "iy").test(sql.slice(at, at + word.length + 1));
}

/** The index just past the string or quoted identifier opening at `open`: a doubled quote or (in strings) a backslash escapes. */
function endOfQuoted(sql: string, open: number): number {
  const quote = sql[open]!;
  for (let i = open + 1; i < sql.length; i++) {
    if (sql[i] === "\\" && quote !== "`") i++;
    else if (sql[i] === quote) {
      if (sql[i + 1] !== quote) return i + 1;
      i++;
    }
  }
  throw new Error(`unterminated ${quote === "`" ? "quoted identifier" : "string"} in migration`);
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
