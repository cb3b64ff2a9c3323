import { fileURLToPath } from "node:url";
import { consumerGroup, createJwtVerifier, TOPICS, type Logger, type RpcServer, type TokenVerifier, meshTlsFiles } from "@shopmesh/platform";
import { createEventConsumer, openServiceDatabase, startEventPublishing } from "@shopmesh/platform/data";
import { createSmtpEmailProvider } from "./channels/email.js";
import type { ChannelProvider } from "./channels/provider.js";
import { createSinkSmsProvider } from "./channels/sms-sink.js";
import type { NotificationConfig } from "./config.js";
import { parseAddressList } from "./domain/messages.js";
import type { ChannelName } from "./domain/notification.js";
import { createTokenBucket } from "./domain/token-bucket.js";
import { createEventHandlers } from "./events/consumers.js";
import { createNotificationServer } from "./server.js";
import { createNotificationStore } from "./store/notifications.js";
import { createRecipientStore } from "./store/recipients.js";
import { createTemplateStore } from "./store/templates.js";
import { createChannelWorker, type ChannelWorker } from "./workers/channel-worker.js";

const MIGRATIONS = fileURLToPath(new URL("../migrations", import.meta.url));

/** The topics whose events become customer (or admin) notifications. */
export const CONSUMED_TOPICS = [TOPICS.identity, TOPICS.order, TOPICS.payment, TOPICS.delivery, TOPICS.inventory];

export interface NotificationApp {
  server: RpcServer;
  workers: Record<ChannelName, ChannelWorker>;
  /** Resources to close after the server drained, in order. */
  closers: Array<{ name: string; close: () => Promise<unknown> | unknown }>;
}

export interface NotificationOverrides {
  /** Replaces the JWKS-backed verifier (tests use `createTestTokens().verifier`). */
  verifier?: TokenVerifier;
  /** Replaces a channel's provider (a real SMS gateway, or a test double). */
  providers?: Partial<Record<ChannelName, ChannelProvider>>;
  /** False serves RPCs and runs workers without consuming events (tests of one instance's sending). */
  consumeEvents?: boolean;
}

/** Wires the notification service: database, Kafka relay and consumer, per-channel workers, server. */
export async function buildNotification(config: NotificationConfig, logger: Logger, overrides: NotificationOverrides = {}): Promise<NotificationApp> {
  const pool = await openServiceDatabase(config, { database: config.NOTIFICATION_DATABASE, migrations: MIGRATIONS, logger, consumesEvents: true });

  const publishing = await startEventPublishing(config, { service: "notification", pool, logger });
  const { kafka, producer, relay } = publishing;

  const notifications = createNotificationStore(pool);
  const templates = createTemplateStore(pool);
  const providers: Record<ChannelName, ChannelProvider> = {
    email:
      overrides.providers?.email ??
      createSmtpEmailProvider({
        host: config.SMTP_HOST,
        port: config.SMTP_PORT,
        secure: config.SMTP_SECURE === "true",
        user: config.SMTP_USER,
        password: config.SMTP_PASSWORD,
        from: config.SMTP_FROM,
        timeoutMs: config.SMTP_TIMEOUT_MS,
      }),
    sms: overrides.providers?.sms ?? createSinkSmsProvider(pool),
  };
  // In-process buckets: the limit is per replica (see the README for why that is enough).
  const rates: Record<ChannelName, number> = { email: config.EMAIL_RATE_PER_SECOND, sms: config.SMS_RATE_PER_SECOND };
  const workerFor = (channel: ChannelName) =>
    createChannelWorker({
      provider: providers[channel],
      pool,
      notifications,
      templates,
      bucket: createTokenBucket({ ratePerSecond: rates[channel], burst: Math.max(1, Math.ceil(rates[channel])) }),
      retry: { maxAttempts: config.NOTIFICATION_MAX_ATTEMPTS, baseDelayMs: config.NOTIFICATION_RETRY_BASE_MS, maxDelayMs: config.NOTIFICATION_RETRY_MAX_MS },
      leaseMs: config.NOTIFICATION_LEASE_MS,
      pollIntervalMs: config.NOTIFICATION_POLL_INTERVAL_MS,
      batchSize: config.NOTIFICATION_BATCH_SIZE,
      logger,
      onOutboxWrite: () => relay.nudge(),
    });
  const workers: Record<ChannelName, ChannelWorker> = { email: workerFor("email"), sms: workerFor("sms") };
  workers.email.start();
  workers.sms.start();

  const consumer =
    overrides.consumeEvents === false
      ? undefined
      : createEventConsumer({
          kafka,
          pool,
          logger,
          producer,
          groupId: consumerGroup("notification", config),
          topics: CONSUMED_TOPICS,
          startAt: config.KAFKA_CONSUMER_START,
          handlers: createEventHandlers({
            notifications,
            recipients: createRecipientStore(),
            adminEmails: parseAddressList(config.NOTIFICATION_ADMIN_EMAILS),
            onQueued: () => workers.email.nudge(),
          }),
        });
  await consumer?.start();

  const verifier = overrides.verifier ?? createJwtVerifier({ issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, jwks: new URL(config.JWKS_URL) });
  const server = createNotificationServer({
    meshTls: meshTlsFiles(config),
    pool,
    notifications,
    templates,
    logger,
    verifier,
    onQueued: (channel) => workers[channel].nudge(),
    extraReadiness: [publishing.readiness, ...(consumer ? [consumer.readiness] : [])],
  });
  return {
    server,
    workers,
    closers: [
      ...(consumer ? [{ name: "event consumer", close: () => consumer.stop() }] : []),
      { name: "email worker", close: () => workers.email.stop() },
      { name: "sms worker", close: () => workers.sms.stop() },
      { name: "email provider", close: () => providers.email.close() },
      { name: "sms provider", close: () => providers.sms.close() },
      { name: "event publishing", close: () => publishing.close() },
      { name: "mysql", close: () => pool.end() },
    ],
  };
}
