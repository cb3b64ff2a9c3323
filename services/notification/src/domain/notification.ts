/** Channels as stored; the handlers map them to and from shopmesh.notification.v1.Channel. */
export type ChannelName = "email" | "sms";

/** Lifecycle: QUEUED -> SENT, or -> FAILED (retried later) -> ... -> DEAD_LETTERED. */
export type NotificationState = "QUEUED" | "SENT" | "FAILED" | "DEAD_LETTERED";

export interface NotificationRecord {
  id: string;
  idempotencyKey: string;
  channel: ChannelName;
  recipient: string;
  templateKey: string;
  data: Record<string, string>;
  status: NotificationState;
  attempts: number;
  lastError: string | undefined;
  nextAttemptAt: Date;
  createdAt: Date;
  sentAt: Date | undefined;
}

export interface TemplateRecord {
  key: string;
  channel: ChannelName;
  subject: string;
  body: string;
  updatedAt: Date;
}

/** A new notification before it is stored. */
export interface NewNotification {
  id: string;
  idempotencyKey: string;
  channel: ChannelName;
  recipient: string;
  templateKey: string;
  data: Record<string, string>;
}
