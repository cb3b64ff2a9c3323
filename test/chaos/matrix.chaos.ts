// The fault matrix, run by `npm run chaos` (scripts/chaos.mjs), not by `npm test`: every fault
// the issue names, one after another on one chaos mesh, each under open-model checkout load.
// Writes chaos/results/<date>.json and chaos/results/latest.md after every row.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { FAILPOINTS } from "../../platform/src/failpoint.js";
import { TOPICS } from "@shopmesh/platform";
import { MESH_SLOT_TIMEOUT_MS } from "@shopmesh/platform/testing";
import { REPO_ROOT } from "../edge/harness.js";
import {
  brokerDown,
  crashAt,
  cut,
  hang,
  killNine,
  noFault,
  poisonThenReplay,
  runFault,
  sigterm,
  restartDuringBrokerOutage,
  slow,
  startChaosMesh,
  throttle,
  webhooks,
  webhooksAfterExpiry,
  type ChaosMesh,
  type Fault,
  type FaultRow,
} from "./harness.js";
import { renderReport } from "./report.js";

const QUICK = process.env["CHAOS_QUICK"] === "1";
// The floor: 20 checkouts/s (this 2-core machine is saturated there, without client errors in the baseline).
const RATE_PER_SECOND = Number(process.env["CHAOS_RATE"] ?? 20);
const ONLY = process.env["CHAOS_ONLY"];
const RESULTS = join(REPO_ROOT, "chaos", "results");

const FULL: Fault[] = [
  noFault(),
  ...["order", "payment", "inventory", "cart", "notification"].map((service) => killNine(service)),
  crashAt("order", FAILPOINTS.outboxAfterPublish, 5),
  crashAt("inventory", FAILPOINTS.consumerAfterCommit, 5),
  crashAt("order", FAILPOINTS.consumerAfterCommit, 5),
  brokerDown(30_000),
  restartDuringBrokerOutage("order"),
  cut("kafka", 10_000),
  throttle("kafka", 16, 10_000),
  cut("mysql", 10_000),
  slow("mysql", 500, 10_000),
  cut("redis", 10_000),
  cut("opensearch", 10_000),
  hang("inventory", 10_000),
  slow("provider", 2_000, 10_000),
  ...["identity", "catalog", "inventory", "cart", "order", "payment", "delivery", "notification"].map((service) => sigterm(service)),
  webhooks("duplicated", { duplicate_webhooks: 3 }, 10_000),
  webhooks("reordered", { out_of_order: true }, 10_000),
  webhooksAfterExpiry(5, 10_000),
  poisonThenReplay("inventory", TOPICS.order, 3),
];
const QUICK_SET: Fault[] = [
  noFault(),
  killNine("order"),
  crashAt("order", FAILPOINTS.outboxAfterPublish, 3),
  brokerDown(10_000),
  restartDuringBrokerOutage("order", 10_000),
  cut("kafka", 5_000),
  cut("mysql", 5_000),
  sigterm("order"),
];

const progress = (line: string) => process.stderr.write(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const rows: FaultRow[] = [];
const startedAt = new Date();
let chaos: ChaosMesh;

beforeAll(async () => {
  progress(`starting the chaos mesh (${QUICK ? "quick" : "full"} matrix at ${RATE_PER_SECOND} checkouts/s)`);
  chaos = await startChaosMesh();
}, MESH_SLOT_TIMEOUT_MS);

afterAll(async () => {
  await chaos?.stop();
}, 120_000);

async function record(): Promise<void> {
  await mkdir(RESULTS, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, "-");
  const result = { startedAt: startedAt.toISOString(), quick: QUICK, ratePerSecond: RATE_PER_SECOND, rows };
  // A filtered run (--only) keeps its JSON and prints its table, leaving the matrix's report be.
  await writeFile(join(RESULTS, `${stamp}${ONLY ? "-only" : ""}.json`), `${JSON.stringify(result, null, 2)}\n`);
  if (!ONLY) await writeFile(join(RESULTS, "latest.md"), renderReport(result));
}

afterAll(() => {
  if (ONLY && rows.length > 0)
    process.stderr.write(`\n${renderReport({ startedAt: startedAt.toISOString(), quick: QUICK, ratePerSecond: RATE_PER_SECOND, rows })}\n`);
});

for (const fault of (QUICK ? QUICK_SET : FULL).filter((candidate) => !ONLY || candidate.name.includes(ONLY))) {
  test(
    fault.name,
    async () => {
      const row = await runFault(chaos, fault, { ratePerSecond: RATE_PER_SECOND, progress });
      rows.push(row);
      await record();
      expect({
        lost: row.lost,
        duplicated: row.duplicated,
        oversold: row.oversold,
        doubleCharged: row.doubleCharged,
        ledgerImbalance: row.ledgerImbalance,
      }).toEqual({
        lost: 0,
        duplicated: 0,
        oversold: 0,
        doubleCharged: 0,
        ledgerImbalance: 0,
      });
    },
    600_000,
  );
}
