// The chaos report as Markdown: one row per fault, the counts the invariant checker found.
import type { FaultRow } from "./harness.js";

export interface ChaosResult {
  startedAt: string;
  quick: boolean;
  ratePerSecond: number;
  rows: FaultRow[];
}

const errors = (row: FaultRow) =>
  Object.entries(row.clientErrors)
    .map(([code, count]) => `${code} ×${count}`)
    .join(", ") || "0";

export function renderReport(result: ChaosResult): string {
  const lines = [
    `# Faults we survive (${result.quick ? "quick subset" : "full matrix"}, ${result.startedAt.slice(0, 16).replace("T", " ")} UTC)`,
    "",
    `Open-model checkout load at ${result.ratePerSecond}/s through the edge; each fault injected after 3 s, then recovery, then the invariant checker on the real databases. Rerun: \`npm run chaos\` (\`-- --quick\` for the short subset).`,
    "",
    "| fault | sent | acknowledged | refused (sold out) | client retries | client errors | searches degraded | lost | duplicated | oversold | double-charged | ledger imbalance | leaked reservations | paid, cancelled late, refunded | emails delivered twice | recovered in |",
    "| --- | --: | --: | --: | --: | --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |",
    ...result.rows.map(
      (row) =>
        `| ${row.fault} | ${row.sent} | ${row.acknowledged} | ${row.refused} | ${row.retries} | ${errors(row)} | ${row.degradedSearches} | ${row.lost} | ${row.duplicated} | ${row.oversold} | ${row.doubleCharged} | ${row.ledgerImbalance} | ${row.leakedReservations} | ${row.refundedAfterCancel} | ${row.emailsDeliveredTwice} | ${row.quiet ? `${(row.recoverMs / 1000).toFixed(1)} s` : "never"} |`,
    ),
    "",
  ];
  const twice = result.rows.reduce((sum, row) => sum + row.emailsDeliveredTwice, 0);
  const orders = result.rows.reduce((sum, row) => sum + row.acknowledged, 0);
  lines.push(
    "## Where a guarantee does not hold",
    "",
    `Email is at-least-once: a notification service killed after the SMTP server accepted a message and before it recorded the send sends it again when the claim's lease runs out (same Message-ID, so a receiver can drop it). Measured in this run: ${twice} repeated email(s) over ${orders} acknowledged orders.`,
    "",
  );
  const findings = result.rows.flatMap((row) => row.details.map((detail) => `- ${row.fault}: ${detail}`));
  if (findings.length > 0) lines.push("## Findings", "", ...findings, "");
  return lines.join("\n");
}
