import type { ServiceImpl } from "@connectrpc/connect";
import type { NotificationService } from "@shopmesh/gen/shopmesh/notification/v1/notification_pb.js";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, withTransaction, type Logger, type Pool } from "@shopmesh/platform";
import { v7 as uuidv7 } from "uuid";
import type { ChannelName } from "../domain/notification.js";
import { fromProtoChannel, fromProtoStatus, toNotification, toTemplate } from "../proto-mapping.js";
import type { NotificationStore } from "../store/notifications.js";
import type { TemplateStore } from "../store/templates.js";

export interface NotificationDeps {
  pool: Pool;
  notifications: NotificationStore;
  templates: TemplateStore;
  logger: Logger;
  /** Called after a new notification committed, so its channel's worker picks it up now. */
  onQueued: (channel: ChannelName) => void;
}

const DEFAULT_NOTIFICATION_PAGE = 50;
const DEFAULT_TEMPLATE_PAGE = 100;

/** Page tokens are opaque to clients: base64url JSON of the last item's sort key. */
function encodePageToken(position: string): string {
  return Buffer.from(JSON.stringify({ after: position })).toString("base64url");
}

function decodePageToken(token: string): string | undefined {
  if (!token) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { after?: unknown };
    if (typeof parsed.after === "string" && parsed.after.length > 0) return parsed.after;
  } catch {
    // fall through: a token we did not issue
  }
  throw new InvalidArgumentError("page_token is not a token this service issued");
}

export function createNotificationService(deps: NotificationDeps): ServiceImpl<typeof NotificationService> {
  const { notifications, templates } = deps;

  return {
    async notify(request) {
      // Validation guarantees a defined, non-zero channel.
      const channel = fromProtoChannel(request.channel)!;
      const existing = await notifications.findByIdempotencyKey(request.idempotencyKey);
      if (existing) return { notification: toNotification(existing) };
      const template = await templates.get(request.templateKey);
      if (!template) throw new NotFoundError(`template ${request.templateKey} not found`);
      if (template.channel !== channel) throw new FailedPreconditionError(`template ${request.templateKey} is for ${template.channel}, not ${channel}`);
      const { record, created } = await withTransaction(deps.pool, (connection) =>
        notifications.enqueue(connection, {
          id: uuidv7(),
          idempotencyKey: request.idempotencyKey,
          channel,
          recipient: request.recipient.trim(),
          templateKey: request.templateKey,
          data: { ...request.data },
        }),
      );
      if (created) deps.onQueued(channel);
      return { notification: toNotification(record) };
    },

    async getNotification(request) {
      const record = await notifications.findById(request.notificationId);
      if (!record) throw new NotFoundError(`notification ${request.notificationId} not found`);
      return { notification: toNotification(record) };
    },

    async listNotifications(request) {
      const limit = request.pageSize || DEFAULT_NOTIFICATION_PAGE;
      const records = await notifications.list({
        status: fromProtoStatus(request.status),
        recipient: request.recipient || undefined,
        beforeId: decodePageToken(request.pageToken),
        limit: limit + 1,
      });
      const page = records.slice(0, limit);
      return {
        notifications: page.map(toNotification),
        nextPageToken: records.length > limit ? encodePageToken(page[page.length - 1]!.id) : "",
      };
    },

    async upsertTemplate(request) {
      // Validation guarantees the template is present and its channel defined and non-zero.
      const template = request.template!;
      const channel = fromProtoChannel(template.channel)!;
      if (channel === "email" && !template.subject.trim()) throw new InvalidArgumentError("template.subject: an email template needs a subject");
      if (channel === "sms" && template.subject) throw new InvalidArgumentError("template.subject: an SMS template has no subject");
      const stored = await templates.upsert({ key: template.key, channel, subject: template.subject, body: template.body });
      deps.logger.info({ template_key: stored.key, channel }, "template stored");
      return { template: toTemplate(stored) };
    },

    async listTemplates(request) {
      const limit = request.pageSize || DEFAULT_TEMPLATE_PAGE;
      const records = await templates.list({ channel: fromProtoChannel(request.channel), afterKey: decodePageToken(request.pageToken), limit: limit + 1 });
      const page = records.slice(0, limit);
      return {
        templates: page.map(toTemplate),
        nextPageToken: records.length > limit ? encodePageToken(page[page.length - 1]!.key) : "",
      };
    },
  };
}
