/**
 * A real SMTP server on a free port of 127.0.0.1, speaking just enough SMTP for nodemailer
 * (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT; no STARTTLS, no AUTH). Tests choose its reply to
 * each recipient and message, count what reached it, and can hold its answer to a message's
 * end, so a sender stays in the middle of a send for as long as a test needs.
 */
import * as net from "node:net";

/** One transaction that reached the end of DATA. */
export interface ReceivedMail {
  /** The MAIL FROM address: tells apart instances configured with different SMTP_FROM. */
  from: string;
  recipients: string[];
  /** The X-Shopmesh-Notification-Id header. */
  notificationId: string | undefined;
  /** The reply it got (or will get, while held). */
  reply: string;
}

/** A reply line such as "550 5.1.1 no such user", or undefined for the usual 250. */
export type SmtpRule = (stage: "RCPT" | "DATA", recipient: string) => string | undefined;

export interface SmtpFake {
  readonly port: number;
  /** Every RCPT TO, in order, whatever it was answered. */
  readonly rcpts: string[];
  /** Every message whose DATA ended, whatever it was answered. */
  readonly mails: ReceivedMail[];
  /** Messages whose final reply is being held (see `hold`). */
  readonly held: ReceivedMail[];
  /** Messages a 250 accepted, addressed to `recipient`. */
  accepted(recipient: string): ReceivedMail[];
  /** From now on the reply to a message's end waits until `release`. */
  hold(): void;
  /** Sends every held reply and stops holding. */
  release(): void;
  close(): Promise<void>;
}

const NOTIFICATION_ID = /^x-shopmesh-notification-id:\s*(\S+)/im;
const address = (argument: string) => /<([^>]*)>/.exec(argument)?.[1] ?? argument.trim();

export async function startSmtpFake(rule: SmtpRule = () => undefined): Promise<SmtpFake> {
  const rcpts: string[] = [];
  const mails: ReceivedMail[] = [];
  let holding = false;
  let waiting: Array<{ mail: ReceivedMail; answer: () => void }> = [];
  const sockets = new Set<net.Socket>();

  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
    let from = "";
    let recipients: string[] = [];
    let data: string[] | undefined;
    let buffered = "";
    const reply = (line: string) => {
      if (!socket.destroyed) socket.write(`${line}\r\n`);
    };

    const endOfData = (lines: string[]) => {
      const text = lines.join("\r\n");
      const verdict = recipients.map((recipient) => rule("DATA", recipient)).find((line) => line !== undefined) ?? "250 2.0.0 queued";
      const mail: ReceivedMail = { from, recipients, notificationId: NOTIFICATION_ID.exec(text)?.[1], reply: verdict };
      mails.push(mail);
      from = "";
      recipients = [];
      if (holding) waiting.push({ mail, answer: () => reply(verdict) });
      else reply(verdict);
    };

    const command = (line: string) => {
      const [verb = "", ...rest] = line.split(" ");
      const argument = rest.join(" ");
      switch (verb.toUpperCase()) {
        case "EHLO":
          return reply("250-smtp-fake\r\n250 8BITMIME");
        case "HELO":
          return reply("250 smtp-fake");
        case "MAIL":
          from = address(argument.replace(/^FROM:/i, ""));
          recipients = [];
          return reply("250 2.1.0 ok");
        case "RCPT": {
          const recipient = address(argument.replace(/^TO:/i, ""));
          rcpts.push(recipient);
          const verdict = rule("RCPT", recipient);
          if (verdict === undefined) recipients.push(recipient);
          return reply(verdict ?? "250 2.1.5 ok");
        }
        case "DATA":
          if (recipients.length === 0) return reply("554 5.5.1 no valid recipients");
          data = [];
          return reply("354 end with <CR><LF>.<CR><LF>");
        case "RSET":
          from = "";
          recipients = [];
          return reply("250 2.0.0 ok");
        case "NOOP":
          return reply("250 2.0.0 ok");
        case "QUIT":
          reply("221 2.0.0 bye");
          return socket.end();
        default:
          return reply("502 5.5.2 not implemented");
      }
    };

    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      buffered += chunk;
      for (let end = buffered.indexOf("\r\n"); end >= 0; end = buffered.indexOf("\r\n")) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (data === undefined) {
          command(line);
        } else if (line === ".") {
          const lines = data;
          data = undefined;
          endOfData(lines);
        } else {
          data.push(line.startsWith(".") ? line.slice(1) : line);
        }
      }
    });
    reply("220 smtp-fake ESMTP");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });

  return {
    port: (server.address() as net.AddressInfo).port,
    rcpts,
    mails,
    get held() {
      return waiting.map(({ mail }) => mail);
    },
    accepted: (recipient) => mails.filter((mail) => mail.reply.startsWith("250") && mail.recipients.includes(recipient)),
    hold() {
      holding = true;
    },
    release() {
      holding = false;
      const answers = waiting;
      waiting = [];
      answers.forEach(({ answer }) => answer());
    },
    async close() {
      sockets.forEach((socket) => socket.destroy());
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
