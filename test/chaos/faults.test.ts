// The fast subset of the fault matrix (`npm run chaos` runs all of it): a crash, a broker
// outage and a rolling restart, each under checkout load through the real edge, each followed
// by the invariant checker on the real databases.
import { MESH_SLOT_TIMEOUT_MS } from "@shopmesh/platform/testing";
import { brokerDown, killNine, runFault, sigterm, startChaosMesh, type ChaosMesh, type FaultRow } from "./harness.js";

const RATE_PER_SECOND = 4;
let chaos: ChaosMesh;

beforeAll(async () => {
  chaos = await startChaosMesh();
}, MESH_SLOT_TIMEOUT_MS);

afterAll(async () => {
  await chaos?.stop();
}, 120_000);

/** The row's guarantees, as one object, so a failure shows every count and the checker's findings. */
const guarantees = (row: FaultRow) => ({
  lost: row.lost,
  duplicated: row.duplicated,
  oversold: row.oversold,
  doubleCharged: row.doubleCharged,
  ledgerImbalance: row.ledgerImbalance,
  leakedReservations: row.leakedReservations,
  details: row.details,
});
const CLEAN = { lost: 0, duplicated: 0, oversold: 0, doubleCharged: 0, ledgerImbalance: 0, leakedReservations: 0, details: [] };

test("kill -9 of order mid-checkout: nothing acknowledged is lost, nothing is applied twice", async () => {
  const row = await runFault(chaos, killNine("order"), { ratePerSecond: RATE_PER_SECOND });
  expect(row.acknowledged).toBeGreaterThan(0);
  expect(guarantees(row)).toEqual(CLEAN);
}, 300_000);

test("the Kafka broker stopped under load: events wait in the outboxes and are applied once when it returns", async () => {
  const row = await runFault(chaos, brokerDown(10_000), { ratePerSecond: RATE_PER_SECOND });
  expect(row.acknowledged).toBeGreaterThan(0);
  expect(guarantees(row)).toEqual(CLEAN);
  // Checkout never waits for the broker (the outbox does), so customers saw no error.
  expect(row.clientErrors).toEqual({});
}, 300_000);

test("SIGTERM to order under load (a rolling restart): no client sees an error", async () => {
  const row = await runFault(chaos, sigterm("order"), { ratePerSecond: RATE_PER_SECOND });
  expect(row.acknowledged).toBeGreaterThan(0);
  expect(row.clientErrors).toEqual({});
  expect(guarantees(row)).toEqual(CLEAN);
}, 300_000);
