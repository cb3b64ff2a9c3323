import { isDuplicateKey, type PoolConnection } from "@shopmesh/platform/data";

/** Provider webhook events seen, by the provider's event id: each is applied once. */
export const providerEventStore = {
  /** Records the event as pending; false when it was seen before (a redelivery). */
  async claim(connection: PoolConnection, event: { id: string; type: string; intentId: string }): Promise<boolean> {
    try {
      await connection.execute("INSERT INTO provider_events (event_id, event_type, provider_intent_id, outcome) VALUES (?, ?, ?, 'pending')", [
        event.id,
        event.type,
        event.intentId,
      ]);
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  },

  /** What applying it did, for operators (bounded). */
  async recordOutcome(connection: PoolConnection, eventId: string, outcome: string): Promise<void> {
    await connection.execute("UPDATE provider_events SET outcome = ? WHERE event_id = ?", [outcome.slice(0, 300), eventId]);
  },
};
