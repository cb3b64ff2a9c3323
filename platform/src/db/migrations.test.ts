import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readMigrations, splitStatements } from "./migrations.js";

describe("migrations", () => {
  test("a file splits into statements at semicolons that end a line; comments are dropped", () => {
    const sql = "-- users\nCREATE TABLE a (\n  x INT -- the value\n);\n\nINSERT INTO a VALUES (1); -- one\nCREATE INDEX i ON a (x)\n";
    expect(splitStatements(sql)).toEqual(["CREATE TABLE a (\n  x INT -- the value\n)", "INSERT INTO a VALUES (1)", "CREATE INDEX i ON a (x)"]);
  });

  test("when numbering has a gap, then reading fails with the file name", async () => {
    const dir = await mkdtemp(join(tmpdir(), "migrations-"));
    await writeFile(join(dir, "0001_a.sql"), "SELECT 1;");
    await writeFile(join(dir, "0003_c.sql"), "SELECT 3;");
    await expect(readMigrations(dir)).rejects.toThrow(/0003_c.sql/);
  });

  test("migrations come back in order with a checksum of their text", async () => {
    const dir = await mkdtemp(join(tmpdir(), "migrations-"));
    await writeFile(join(dir, "0002_b.sql"), "SELECT 2;");
    await writeFile(join(dir, "0001_a.sql"), "SELECT 1;");
    const migrations = await readMigrations(dir);
    expect(migrations.map((m) => m.version)).toEqual([1, 2]);
    expect(migrations[0]!.checksum).toMatch(/^[0-9a-f]{64}$/);
  });
});
