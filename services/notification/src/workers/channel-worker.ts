import { create } from "@bufbuild/protobuf";
import { timestampNow } from "@bufbuild/protobuf/wkt";
import { NotificationFailedSchema, NotificationSentSchema } from "@shopmesh/gen/shopmesh/events/v1/notification_events_pb.js";
import { createBackgroundLoop, TOPICS, type Logger } from "@shopmesh/platform";
import { appendToOutbox, withTransaction, type Pool } from "@shopmesh/platform/data";
import { PermanentDeliveryError, type ChannelProvider } from "../channels/provider.js";
import { outcomeOfFailure, type RetryPolicy } from "../domain/delivery-policy.js";
import type { NotificationRecord } from "../domain/notification.js";
import { MissingTemplateVariablesError, renderTemplate, type TemplateText } from "../domain/template.js";
import type { TokenBucket } from "../domain/token-bucket.js";
import { toProtoChannel } from "../proto-mapping.js";
import type { NotificationStore } from "../store/notifications.js";
import type { TemplateStore } from "../store/templates.js";

export interface ChannelWorkerOptions {
  provider: ChannelProvider;
  pool: Pool;
  notifications: NotificationStore;
  templates: TemplateStore;
  /** The provider's rate limit; every send takes a token. */
  bucket: TokenBucket;
  retry: RetryPolicy;
  /** How long a claimed notification is reserved for this worker before others may take it. */
  leaseMs: number;
  pollIntervalMs: number;
  batchSize: number;
  logger: Logger;
  /** Called after a commit that wrote outbox rows. */
  onOutboxWrite: () => void;
}

export interface ChannelWorker {
  start(): void;
  /** Look for work now (call after queueing) instead of at the next poll. */
  nudge(): void;
  /** Finishes the send in hand, hands unsent claims back, then stops. */
  stop(): Promise<void>;
}

/** A failure that no retry can fix: the template is missing, for another channel, or cannot render. */
class UnsendableError extends Error {
  override name = "UnsendableError";
}

/** Name of an error, by shape rather than instanceof: provider libraries may throw from another realm. */
function errorName(err: unknown): string {
  const name = (err as { name?: unknown } | null)?.name;
  return typeof name === "string" ? name : "Error";
}

function describe(err: unknown): string {
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === "string" ? `${errorName(err)}: ${message}` : String(err);
}

/**
 * Sends one channel's due notifications: claims a batch (SKIP LOCKED, so replicas share the
 * queue), renders each from its template, waits for a rate-limit token, sends, and records the
 * outcome with its NotificationSent / NotificationFailed event in one transaction.
 */
export function createChannelWorker(options: ChannelWorkerOptions): ChannelWorker {
  const { provider, pool, notifications, templates, bucket, logger } = options;
  const channel = provider.channel;
  const log = logger.child({ component: "notification-worker", channel });

  /** Sleeps `ms`, or less when the worker stops. */
  function sleep(ms: number, stopping: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const sleeper = setTimeout(done, ms);
      stopping.addEventListener("abort", done, { once: true });
      function done() {
        clearTimeout(sleeper);
        stopping.removeEventListener("abort", done);
        resolve();
      }
    });
  }

  /** Waits for a send token; false when the worker stopped meanwhile. */
  async function takeToken(stopping: AbortSignal): Promise<boolean> {
    while (!bucket.tryTake()) {
      if (stopping.aborted) return false;
      await sleep(bucket.msUntilNext(), stopping);
    }
    return !stopping.aborted;
  }

  async function render(notification: NotificationRecord): Promise<TemplateText> {
    const template = await templates.get(notification.templateKey);
    if (!template) throw new UnsendableError(`template ${notification.templateKey} does not exist`);
    if (template.channel !== notification.channel)
      throw new UnsendableError(`template ${notification.templateKey} is for ${template.channel}, not ${notification.channel}`);
    try {
      return renderTemplate(template, notification.data, { html: notification.channel === "email" });
    } catch (err) {
      if (err instanceof MissingTemplateVariablesError) throw new UnsendableError(`template ${notification.templateKey}: ${err.message}`);
      throw err;
    }
  }

  async function recordSent(notification: NotificationRecord): Promise<void> {
    await withTransaction(pool, async (connection) => {
      await notifications.markSent(connection, notification.id);
      await appendToOutbox(connection, {
        topic: TOPICS.notification,
        key: notification.id,
        schema: NotificationSentSchema,
        event: create(NotificationSentSchema, {
          notificationId: notification.id,
          occurredTime: timestampNow(),
          channel: toProtoChannel(notification.channel),
          templateKey: notification.templateKey,
          attempts: notification.attempts,
        }),
      });
    });
  }

  async function recordFailure(notification: NotificationRecord, err: unknown): Promise<void> {
    const permanent = err instanceof UnsendableError || err instanceof PermanentDeliveryError;
    const outcome = outcomeOfFailure(notification.attempts, permanent, options.retry);
    const error = describe(err);
    await withTransaction(pool, async (connection) => {
      await notifications.markFailed(connection, notification.id, { error, retryInMs: outcome.kind === "retry" ? outcome.delayMs : undefined });
      await appendToOutbox(connection, {
        topic: TOPICS.notification,
        key: notification.id,
        schema: NotificationFailedSchema,
        event: create(NotificationFailedSchema, {
          notificationId: notification.id,
          occurredTime: timestampNow(),
          channel: toProtoChannel(notification.channel),
          templateKey: notification.templateKey,
          attempts: notification.attempts,
          error: error.slice(0, 2000),
          deadLettered: outcome.kind === "dead-letter",
        }),
      });
    });
    // The error text may quote the recipient; the log keeps to ids and the error class.
    const fields = { notification_id: notification.id, attempts: notification.attempts, error: errorName(err) };
    if (outcome.kind === "dead-letter") log.error(fields, "notification dead-lettered");
    else log.warn({ ...fields, retry_in_ms: outcome.delayMs }, "notification failed; will retry");
  }

  /** Renders and sends one claimed notification; false when the worker stopped before sending. */
  async function deliver(notification: NotificationRecord, stopping: AbortSignal): Promise<boolean> {
    let message: TemplateText;
    try {
      message = await render(notification);
    } catch (err) {
      await recordFailure(notification, err);
      return true;
    }
    if (!(await takeToken(stopping))) return false;
    try {
      await provider.send({ notificationId: notification.id, recipient: notification.recipient, subject: message.subject, body: message.body });
    } catch (err) {
      await recordFailure(notification, err);
      return true;
    }
    try {
      await recordSent(notification);
    } catch (err) {
      // Not handed back: the lease delays the re-send. At-least-once, like any mail queue.
      log.error({ err, notification_id: notification.id }, "notification sent but not recorded; it is re-sent when its lease ends");
    }
    return true;
  }

  /** One claim-and-send round; true when the queue may hold more due work. */
  async function runBatch(stopping: AbortSignal): Promise<boolean> {
    const limit = Math.max(1, Math.min(options.batchSize, bucket.available()));
    const claimed = await notifications.claimDue(channel, limit, options.leaseMs);
    let handled = 0;
    try {
      for (const notification of claimed) {
        if (stopping.aborted || !(await deliver(notification, stopping))) break;
        handled++;
        options.onOutboxWrite();
      }
    } finally {
      // Claims not tried (stopping, or an error mid-batch) go back at once rather than after the lease.
      const untried = claimed.slice(handled).map((notification) => notification.id);
      if (untried.length > 0) await notifications.release(untried).catch((err: unknown) => log.warn({ err }, "could not hand back claimed notifications"));
    }
    return claimed.length === limit;
  }

  const loop = createBackgroundLoop({ name: `${channel} notifications`, intervalMs: options.pollIntervalMs, logger: log, runOnStart: true, round: runBatch });
  return { start: () => loop.start(), nudge: () => loop.nudge(), stop: () => loop.stop() };
}
