import type { Pool, RowDataPacket } from "@shopmesh/platform/data";
import type { ChannelName, TemplateRecord } from "../domain/notification.js";

interface TemplateRow extends RowDataPacket {
  template_key: string;
  channel: ChannelName;
  subject: string;
  body: string;
  updated_at: Date;
}

const COLUMNS = "template_key, channel, subject, body, updated_at";

function toRecord(row: TemplateRow): TemplateRecord {
  return { key: row.template_key, channel: row.channel, subject: row.subject, body: row.body, updatedAt: row.updated_at };
}

/** The `templates` table. */
export function createTemplateStore(pool: Pool) {
  async function get(key: string): Promise<TemplateRecord | undefined> {
    const [rows] = await pool.execute<TemplateRow[]>(`SELECT ${COLUMNS} FROM templates WHERE template_key = ?`, [key]);
    return rows[0] ? toRecord(rows[0]) : undefined;
  }

  return {
    get,

    /** Creates or replaces the template with this key; returns it as stored. */
    async upsert(template: Omit<TemplateRecord, "updatedAt">): Promise<TemplateRecord> {
      await pool.execute(
        `INSERT INTO templates (template_key, channel, subject, body) VALUES (?, ?, ?, ?)
         ON DUPLICATE KEY UPDATE channel = VALUES(channel), subject = VALUES(subject), body = VALUES(body), updated_at = CURRENT_TIMESTAMP(3)`,
        [template.key, template.channel, template.subject, template.body],
      );
      return (await get(template.key))!;
    },

    /** Ordered by key; `afterKey` is the previous page's last key. */
    async list(filter: { channel?: ChannelName | undefined; afterKey?: string | undefined; limit: number }): Promise<TemplateRecord[]> {
      const where: string[] = [];
      const params: Array<string | number> = [];
      if (filter.channel) {
        where.push("channel = ?");
        params.push(filter.channel);
      }
      if (filter.afterKey) {
        where.push("template_key > ?");
        params.push(filter.afterKey);
      }
      const [rows] = await pool.query<TemplateRow[]>(
        `SELECT ${COLUMNS} FROM templates ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY template_key LIMIT ?`,
        [...params, filter.limit],
      );
      return rows.map(toRecord);
    },
  };
}

export type TemplateStore = ReturnType<typeof createTemplateStore>;
