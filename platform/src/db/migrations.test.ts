import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readMigrations, splitStatements } from "./migrations.js";

describe("migrations", () => {
  test("a file splits into statements at semicolons; comments before a statement are dropped, those inside it kept", () => {
    const sql = "-- users\nCREATE TABLE a (\n  x INT -- the value\n);\n\nINSERT INTO a VALUES (1); -- one\nCREATE INDEX i ON a (x)\n";
    expect(splitStatements(sql)).toEqual(["CREATE TABLE a (\n  x INT -- the value\n)", "INSERT INTO a VALUES (1)", "CREATE INDEX i ON a (x)"]);
  });

  test("when a string, a quoted identifier or a comment holds a semicolon, then it does not end the statement", () => {
    const sql = [
      "INSERT INTO notes (body) VALUES ('a; b'), ('it''s; fine'), ('back\\'slash; too'), (\"double; quoted\");",
      "ALTER TABLE `odd;name` ADD COLUMN x INT; -- trailing; comment",
      "/* block; comment */ SELECT 1 # hash; comment",
      ";",
      "SELECT 2--1;",
    ].join("\n");
    expect(splitStatements(sql)).toEqual([
      "INSERT INTO notes (body) VALUES ('a; b'), ('it''s; fine'), ('back\\'slash; too'), (\"double; quoted\")",
      "ALTER TABLE `odd;name` ADD COLUMN x INT",
      "SELECT 1 # hash; comment",
      "SELECT 2--1",
    ]);
  });

  test("when a procedure body holds BEGIN ... END with IF, CASE and a labelled loop, then the whole CREATE is one statement", () => {
    const procedure = [
      "CREATE DEFINER = CURRENT_USER PROCEDURE restock(IN amount INT)",
      "BEGIN",
      "  DECLARE i INT DEFAULT 0;",
      "  IF amount > 0 THEN",
      "    SET i = CASE WHEN amount > 10 THEN 10 ELSE amount END;",
      "  END IF;",
      "  CASE i WHEN 0 THEN SET i = 1; ELSE BEGIN SET i = i + 1; END; END CASE;",
      "  fill: LOOP",
      "    SET i = i - 1;",
      "    IF i <= 0 THEN LEAVE fill; END IF;",
      "  END LOOP fill;",
      "END",
    ].join("\n");
    const sql = `${procedure};\nCALL restock(3);\n`;
    expect(splitStatements(sql)).toEqual([procedure, "CALL restock(3)"]);
  });

  test("when triggers and functions are created, then bodies with BEGIN ... END stay whole and single-statement bodies end at their semicolon", () => {
    const trigger = "CREATE TRIGGER notes_stamp BEFORE INSERT ON notes FOR EACH ROW\nBEGIN\n  SET NEW.body = CONCAT(NEW.body, ';');\nEND";
    const fn = "CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2";
    expect(splitStatements(`${trigger};\n${fn};\nSELECT twice(2);`)).toEqual([trigger, fn, "SELECT twice(2)"]);
  });

  test("when a table has columns named begin and end, then they open no block", () => {
    expect(splitStatements("CREATE TABLE shifts (begin INT, end INT);\nINSERT INTO shifts VALUES (1, 2);")).toEqual([
      "CREATE TABLE shifts (begin INT, end INT)",
      "INSERT INTO shifts VALUES (1, 2)",
    ]);
  });

  test("when a file uses DELIMITER or leaves a string open, then splitting fails with the reason", () => {
    expect(() => splitStatements("DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END//")).toThrow(/DELIMITER is a mysql client command/);
    expect(() => splitStatements("INSERT INTO notes VALUES ('open;")).toThrow(/unterminated string/);
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
