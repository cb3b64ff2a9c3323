import type { PoolConnection, RowDataPacket } from "@shopmesh/platform/data";

export interface Recipient {
  userId: string;
  email: string;
  displayName: string;
}

interface RecipientRow extends RowDataPacket {
  user_id: string;
  email: string;
  display_name: string;
}

/**
 * The `recipients` and `order_recipients` tables: who to write to, learned from events
 * (UserRegistered, OrderPlaced) rather than asked of identity or order.
 */
export function createRecipientStore() {
  return {
    /** Records a user's address; an empty display name keeps the one already known. */
    async rememberUser(connection: PoolConnection, recipient: Recipient): Promise<void> {
      await connection.execute(
        `INSERT INTO recipients (user_id, email, display_name) VALUES (?, ?, ?)
         ON DUPLICATE KEY UPDATE email = VALUES(email), display_name = IF(VALUES(display_name) = '', display_name, VALUES(display_name))`,
        [recipient.userId, recipient.email, recipient.displayName],
      );
    },

    async rememberOrder(connection: PoolConnection, order: { orderId: string; userId: string; email: string }): Promise<void> {
      await connection.execute("INSERT IGNORE INTO order_recipients (order_id, user_id, email) VALUES (?, ?, ?)", [order.orderId, order.userId, order.email]);
    },

    async findUser(connection: PoolConnection, userId: string): Promise<Recipient | undefined> {
      const [rows] = await connection.execute<RecipientRow[]>("SELECT user_id, email, display_name FROM recipients WHERE user_id = ?", [userId]);
      const row = rows[0];
      return row ? { userId: row.user_id, email: row.email, displayName: row.display_name } : undefined;
    },

    /** The customer of an order: their address as the order carried it, and their name when known. */
    async findByOrder(connection: PoolConnection, orderId: string): Promise<Recipient | undefined> {
      const [rows] = await connection.execute<RecipientRow[]>(
        `SELECT o.user_id, COALESCE(r.email, o.email) AS email, COALESCE(r.display_name, '') AS display_name
         FROM order_recipients o LEFT JOIN recipients r ON r.user_id = o.user_id WHERE o.order_id = ?`,
        [orderId],
      );
      const row = rows[0];
      return row ? { userId: row.user_id, email: row.email, displayName: row.display_name } : undefined;
    },
  };
}

export type RecipientStore = ReturnType<typeof createRecipientStore>;
