import { platformMetrics } from "@shopmesh/platform";
import { createMysqlPool, type Pool, type PoolConnection } from "@shopmesh/platform/data";
import { dropDatabase, TEST_MYSQL, testDatabaseName } from "@shopmesh/platform/testing";

const database = testDatabaseName("platform");
let pool: Pool;

beforeAll(async () => {
  pool = await createMysqlPool({ ...TEST_MYSQL, database, poolSize: 2 });
});

afterAll(async () => {
  await pool.end();
  await dropDatabase(database);
});

/** This database's pool gauges as a scrape would read them. */
async function scrape(): Promise<Record<string, number>> {
  const gauges: Record<string, number> = {};
  for (const metric of await platformMetrics.registry.getMetricsAsJSON()) {
    for (const value of metric.values) {
      if (value.labels["database"] !== database) continue;
      if (metric.name === "shopmesh_db_pool_connections") gauges[String(value.labels["state"])] = value.value;
      if (metric.name === "shopmesh_db_pool_waiting_requests") gauges["waiting"] = value.value;
    }
  }
  return gauges;
}

test("when both connections of a pool of two are held and a third caller asks, then the gauges show two in use, none idle and one waiting, and all idle once they are back", async () => {
  const held: PoolConnection[] = [await pool.getConnection(), await pool.getConnection()];
  const third = pool.query("SELECT 1");
  expect(await scrape()).toEqual({ max: 2, open: 2, idle: 0, in_use: 2, waiting: 1 });

  for (const connection of held) connection.release();
  await third;
  expect(await scrape()).toEqual({ max: 2, open: 2, idle: 2, in_use: 0, waiting: 0 });
});

test("when a held connection is destroyed, then it no longer counts as open or in use", async () => {
  const connection = await pool.getConnection();
  expect(await scrape()).toMatchObject({ open: 2, in_use: 1 });
  const closed = new Promise((resolve) => connection.connection.once("end", resolve));
  connection.destroy();
  await closed;
  expect(await scrape()).toEqual({ max: 2, open: 1, idle: 1, in_use: 0, waiting: 0 });
});
