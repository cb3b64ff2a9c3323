import type { ChannelName } from "../domain/notification.js";

/** One rendered message, ready for a provider. */
export interface OutgoingMessage {
  notificationId: string;
  recipient: string;
  /** Email only; empty for SMS. */
  subject: string;
  body: string;
}

/**
 * A channel's provider (SMTP server, SMS gateway). `send` resolves once the provider
 * accepted the message. It throws PermanentDeliveryError when retrying cannot help (the
 * provider rejected the recipient); any other error is treated as transient and retried.
 */
export interface ChannelProvider {
  readonly channel: ChannelName;
  send(message: OutgoingMessage): Promise<void>;
  close(): Promise<void>;
}

/** The provider refused the message for good (e.g. SMTP 5xx); it is dead-lettered at once. */
export class PermanentDeliveryError extends Error {
  override name = "PermanentDeliveryError";
}
