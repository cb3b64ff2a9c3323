import { v7 as uuidv7 } from "uuid";
import type { PoolConnection } from "@shopmesh/platform/data";
import { isBalanced, type Posting } from "../domain/ledger.js";

/** Appends one balanced group of entries (one money movement); refuses an unbalanced one. */
export async function postLedgerGroup(
  connection: PoolConnection,
  group: { paymentId: string; currency: string; movement: "capture" | "refund"; providerEventId: string | null; postings: Posting[] },
): Promise<string> {
  if (!isBalanced(group.postings)) throw new Error(`unbalanced ledger group for payment ${group.paymentId}`);
  const groupId = uuidv7();
  for (const posting of group.postings) {
    await connection.execute(
      "INSERT INTO ledger_entries (id, payment_id, entry_group_id, account, amount_minor, currency, movement, provider_event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      [uuidv7(), group.paymentId, groupId, posting.account, posting.amountMinor.toString(), group.currency, group.movement, group.providerEventId],
    );
  }
  return groupId;
}
