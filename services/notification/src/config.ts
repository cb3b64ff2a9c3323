import { z } from "zod";
import { authConfig, commonConfig, devDefault, infraPort, kafkaConfig, loadConfig, mysqlConfig, serviceDatabase, servicePort } from "@shopmesh/platform";

const positiveInt = (fallback: number, max: number) => z.coerce.number().int().min(1).max(max).default(fallback);

/** Environment of the notification service. */
export const notificationConfigShape = {
  ...commonConfig,
  ...mysqlConfig,
  ...kafkaConfig,
  ...authConfig,
  NOTIFICATION_PORT: servicePort("notification"),
  NOTIFICATION_DATABASE: serviceDatabase("notification"),
  /** Who receives operational emails (StockLow): comma- or space-separated addresses. */
  NOTIFICATION_ADMIN_EMAILS: z.string().min(3).default("admin@shopmesh.local"),
  /** Send attempts before a notification is dead-lettered. */
  NOTIFICATION_MAX_ATTEMPTS: positiveInt(5, 100),
  /** Backoff after the first failed attempt; it doubles per attempt up to the maximum. */
  NOTIFICATION_RETRY_BASE_MS: positiveInt(2_000, 3_600_000),
  NOTIFICATION_RETRY_MAX_MS: positiveInt(600_000, 86_400_000),
  /** How long a worker owns a claimed notification before another replica may retry it. */
  NOTIFICATION_LEASE_MS: positiveInt(60_000, 3_600_000),
  NOTIFICATION_POLL_INTERVAL_MS: positiveInt(500, 60_000),
  NOTIFICATION_BATCH_SIZE: positiveInt(20, 500),
  /** Per-replica provider rate limits (token buckets); burst equals one second's worth. */
  EMAIL_RATE_PER_SECOND: z.coerce.number().positive().max(10_000).default(20),
  SMS_RATE_PER_SECOND: z.coerce.number().positive().max(10_000).default(5),
  SMTP_HOST: devDefault("127.0.0.1"),
  SMTP_PORT: infraPort("smtp"),
  /** "true" for TLS from the first byte (port 465); otherwise STARTTLS when offered. */
  SMTP_SECURE: z.enum(["true", "false"]).default("false"),
  SMTP_USER: z.string().optional(),
  SMTP_PASSWORD: z.string().optional(),
  SMTP_FROM: z.string().min(3).default("shopmesh <no-reply@shopmesh.local>"),
  SMTP_TIMEOUT_MS: positiveInt(10_000, 120_000),
  /** The SMS provider adapter. `sink` writes to the sms_sink table (local and tests). */
  SMS_PROVIDER: z.enum(["sink"]).default("sink"),
};

export type NotificationConfig = ReturnType<typeof loadNotificationConfig>;

export function loadNotificationConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(notificationConfigShape, env);
}
