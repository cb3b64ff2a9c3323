import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import {
  Channel,
  NotificationSchema,
  NotificationStatus,
  TemplateSchema,
  type Notification,
  type Template,
} from "@shopmesh/gen/shopmesh/notification/v1/notification_pb.js";
import type { ChannelName, NotificationRecord, NotificationState, TemplateRecord } from "./domain/notification.js";

const CHANNELS: Record<ChannelName, Channel> = { email: Channel.EMAIL, sms: Channel.SMS };
const STATES: Record<NotificationState, NotificationStatus> = {
  QUEUED: NotificationStatus.QUEUED,
  SENT: NotificationStatus.SENT,
  FAILED: NotificationStatus.FAILED,
  DEAD_LETTERED: NotificationStatus.DEAD_LETTERED,
};

export const toProtoChannel = (channel: ChannelName): Channel => CHANNELS[channel];

/** The stored channel for a contract value; undefined for UNSPECIFIED (validation rejects it where required). */
export function fromProtoChannel(channel: Channel): ChannelName | undefined {
  return (Object.keys(CHANNELS) as ChannelName[]).find((name) => CHANNELS[name] === channel);
}

export function fromProtoStatus(status: NotificationStatus): NotificationState | undefined {
  return (Object.keys(STATES) as NotificationState[]).find((name) => STATES[name] === status);
}

export function toNotification(record: NotificationRecord): Notification {
  return create(NotificationSchema, {
    id: record.id,
    channel: toProtoChannel(record.channel),
    recipient: record.recipient,
    templateKey: record.templateKey,
    status: STATES[record.status],
    attempts: record.attempts,
    lastError: record.lastError ?? "",
    createTime: timestampFromDate(record.createdAt),
    ...(record.sentAt ? { sentTime: timestampFromDate(record.sentAt) } : {}),
  });
}

export function toTemplate(record: TemplateRecord): Template {
  return create(TemplateSchema, {
    key: record.key,
    channel: toProtoChannel(record.channel),
    subject: record.subject,
    body: record.body,
    updateTime: timestampFromDate(record.updatedAt),
  });
}
