import type { Pool } from "@shopmesh/platform/data";

/** A text message "sent" by the local SMS sink: a row developers and tests read. */
export async function saveSinkSms(pool: Pool, message: { notificationId: string; recipient: string; body: string }): Promise<void> {
  await pool.execute("INSERT INTO sms_sink (notification_id, recipient, body) VALUES (?, ?, ?)", [message.notificationId, message.recipient, message.body]);
}
