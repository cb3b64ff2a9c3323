import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMysqlPool, runMigrations, type Pool, type RowDataPacket } from "@shopmesh/platform/data";
import { dropDatabase, TEST_MYSQL, testDatabaseName, testLogger } from "@shopmesh/platform/testing";

const logger = testLogger("platform-migrations-sql");

// What MariaDB must accept statement by statement as the splitter cuts it: semicolons in
// strings and comments, and a procedure and a trigger whose bodies hold semicolons of their own.
const MIGRATIONS = {
  "0001_create_notes.sql": [
    "-- Notes; the first table.",
    "CREATE TABLE notes (",
    "  id INT AUTO_INCREMENT PRIMARY KEY,",
    "  body VARCHAR(200) NOT NULL -- may hold ';'",
    ");",
    "INSERT INTO notes (body) VALUES ('one; two'), ('it''s; three'); /* a; comment */",
  ].join("\n"),
  "0002_create_note_procedure.sql": [
    "CREATE PROCEDURE add_notes(IN how_many INT)",
    "BEGIN",
    "  DECLARE i INT DEFAULT 0;",
    "  fill: LOOP",
    "    IF i >= how_many THEN LEAVE fill; END IF;",
    "    SET i = i + 1;",
    "    INSERT INTO notes (body) VALUES (CONCAT('added; ', CASE WHEN i = 1 THEN 'first' ELSE 'more' END));",
    "  END LOOP fill;",
    "END;",
    "CREATE TRIGGER notes_trim BEFORE INSERT ON notes FOR EACH ROW",
    "BEGIN",
    "  SET NEW.body = TRIM(NEW.body);",
    "END;",
  ].join("\n"),
};

let directory: string;
let database: string;
let pool: Pool;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), "shopmesh-migrations-sql-"));
  for (const [file, sql] of Object.entries(MIGRATIONS)) await writeFile(join(directory, file), sql);
  database = testDatabaseName("platform");
  pool = await createMysqlPool({ ...TEST_MYSQL, database, poolSize: 1 });
});

afterAll(async () => {
  await pool.end();
  await dropDatabase(database);
  await rm(directory, { recursive: true, force: true });
});

test("when migrations hold semicolons in strings and comments, a procedure and a trigger, then MariaDB applies each statement whole and the procedure runs", async () => {
  expect(await runMigrations(pool, directory, logger)).toBe(2);
  await pool.query("CALL add_notes(2)");
  await pool.query("INSERT INTO notes (body) VALUES ('  padded; ')");
  const [notes] = await pool.query<RowDataPacket[]>("SELECT body FROM notes ORDER BY id");
  expect(notes.map((note) => note["body"])).toEqual(["one; two", "it's; three", "added; first", "added; more", "padded;"]);
});
