import nodemailer from "nodemailer";
import { PermanentDeliveryError, type ChannelProvider, type OutgoingMessage } from "./provider.js";

export interface SmtpOptions {
  host: string;
  port: number;
  /** STARTTLS is used when the server offers it; `secure` means TLS from the first byte (port 465). */
  secure: boolean;
  user?: string | undefined;
  password?: string | undefined;
  from: string;
  timeoutMs: number;
}

/** Email over SMTP (Mailpit locally). Bodies are HTML; the notification id travels in a header. */
export function createSmtpEmailProvider(options: SmtpOptions): ChannelProvider {
  const transport = nodemailer.createTransport({
    host: options.host,
    port: options.port,
    secure: options.secure,
    ...(options.user ? { auth: { user: options.user, pass: options.password ?? "" } } : {}),
    pool: true,
    maxConnections: 2,
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  });
  return {
    channel: "email",
    async send(message: OutgoingMessage) {
      try {
        await transport.sendMail({
          from: options.from,
          to: message.recipient,
          subject: message.subject,
          html: message.body,
          headers: { "X-Shopmesh-Notification-Id": message.notificationId },
        });
      } catch (err) {
        // A 5xx reply is the server's final word on this message; 4xx and network errors may pass.
        const responseCode = (err as { responseCode?: number }).responseCode;
        if (responseCode !== undefined && responseCode >= 500)
          throw new PermanentDeliveryError(`SMTP ${responseCode}: ${(err as Error).message}`, { cause: err });
        throw err;
      }
    },
    async close() {
      transport.close();
    },
  };
}
