import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMysqlPool, openServiceDatabase, runMigrations, type Pool, type RowDataPacket } from "@shopmesh/platform/data";
import { dropDatabase, TEST_MYSQL, testDatabaseName, testLogger } from "@shopmesh/platform/testing";

const logger = testLogger("platform-migrations");
const REPLICAS = 4;
const settings = {
  MYSQL_HOST: TEST_MYSQL.host,
  MYSQL_PORT: TEST_MYSQL.port,
  MYSQL_USER: TEST_MYSQL.user,
  MYSQL_PASSWORD: TEST_MYSQL.password,
  MYSQL_POOL_SIZE: 2,
};

// None of these may run twice: a second CREATE TABLE or ADD COLUMN fails, a second INSERT
// shows up as a second row.
const MIGRATIONS = {
  "0001_create_widgets.sql": "CREATE TABLE widgets (\n  id INT AUTO_INCREMENT PRIMARY KEY,\n  name VARCHAR(40) NOT NULL\n);\n",
  "0002_add_widget_colour.sql": "ALTER TABLE widgets ADD COLUMN colour VARCHAR(20) NULL;\n",
  "0003_seed_widget.sql": "INSERT INTO widgets (name, colour) VALUES ('first', 'blue');\n",
};

let directory: string;
const databases: string[] = [];
const pools: Pool[] = [];

function freshDatabase(): string {
  const database = testDatabaseName("platform");
  databases.push(database);
  return database;
}

async function rows<T extends RowDataPacket>(pool: Pool, sql: string, params: unknown[] = []): Promise<T[]> {
  const [result] = await pool.query<T[]>(sql, params);
  return result;
}

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "shopmesh-migrations-"));
  for (const [file, sql] of Object.entries(MIGRATIONS)) await writeFile(join(directory, file), sql);
});

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
  for (const database of databases) await dropDatabase(database);
  await rm(directory, { recursive: true, force: true });
});

describe("migrations when replicas start together", () => {
  test(`when ${REPLICAS} replicas open one fresh database at once, then all start and each migration is applied exactly once`, async () => {
    const database = freshDatabase();
    const opened = await Promise.allSettled(
      Array.from({ length: REPLICAS }, () => openServiceDatabase(settings, { database, migrations: directory, logger, consumesEvents: true })),
    );
    for (const result of opened) if (result.status === "fulfilled") pools.push(result.value);
    expect(opened.filter((result) => result.status === "rejected")).toEqual([]);
    const pool = pools.at(-1)!;

    const applied = await rows(pool, "SELECT version, name FROM schema_migrations ORDER BY version");
    expect(applied.map((row) => [row["version"], row["name"]])).toEqual(Object.keys(MIGRATIONS).map((name, index) => [index + 1, name]));
    expect(await rows(pool, "SELECT name, colour FROM widgets")).toEqual([{ name: "first", colour: "blue" }]);
    // The platform's own tables came up beside them, each under its own migrations table.
    for (const table of ["platform_outbox_migrations", "platform_consumer_migrations"]) {
      expect((await rows(pool, `SELECT version FROM ${table}`)).map((row) => row["version"])).toEqual([1]);
    }
    const tables = (await rows(pool, "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ?", [database])).map((row) => row["name"]);
    expect(tables).toEqual(expect.arrayContaining(["widgets", "outbox", "processed_events"]));
  });

  test(`when ${REPLICAS} replicas run the same migrations at once, then between them they apply each migration once, and a replica started later applies none`, async () => {
    const database = freshDatabase();
    const replicaPools = await Promise.all(Array.from({ length: REPLICAS }, () => createMysqlPool({ ...TEST_MYSQL, database, poolSize: 1 })));
    pools.push(...replicaPools);
    const appliedCounts = await Promise.all(replicaPools.map((pool) => runMigrations(pool, directory, logger)));
    expect(appliedCounts.reduce((sum, count) => sum + count, 0)).toBe(Object.keys(MIGRATIONS).length);
    expect(await rows(replicaPools[0]!, "SELECT COUNT(*) AS n FROM widgets")).toEqual([{ n: 1 }]);

    expect(await runMigrations(replicaPools[0]!, directory, logger)).toBe(0);
  });
});
