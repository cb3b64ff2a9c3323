import type { ServiceImpl } from "@connectrpc/connect";
import type { NotificationService } from "@shopmesh/gen/shopmesh/notification/v1/notification_pb.js";
import { createPageTokenCodec, FailedPreconditionError, InvalidArgumentError, NotFoundError, type Logger } from "@shopmesh/platform";
import { withTransaction, type Pool } from "@shopmesh/platform/data";
import { v7 as uuidv7 } from "uuid";
import { z } from "zod";
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

/** Where the previous page ended: notifications newest first by id, templates by key. */
const notificationPageTokens = createPageTokenCodec("notification.notifications", z.object({ beforeId: z.guid() }));
const templatePageTokens = createPageTokenCodec("notification.templates", z.object({ afterKey: z.string().min(1).max(256) }));

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
      const scope = [request.status, request.recipient];
      const records = await notifications.list({
        status: fromProtoStatus(request.status),
        recipient: request.recipient || undefined,
        beforeId: notificationPageTokens.decode(request.pageToken, scope)?.beforeId,
        limit: limit + 1,
      });
      const { items, nextPageToken } = notificationPageTokens.page(records, limit, (last) => ({ beforeId: last.id }), scope);
      return { notifications: items.map(toNotification), nextPageToken };
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
      const scope = [request.channel];
      const afterKey = templatePageTokens.decode(request.pageToken, scope)?.afterKey;
      const records = await templates.list({ channel: fromProtoChannel(request.channel), afterKey, limit: limit + 1 });
      const { items, nextPageToken } = templatePageTokens.page(records, limit, (last) => ({ afterKey: last.key }), scope);
      return { templates: items.map(toTemplate), nextPageToken };
    },
  };
}
