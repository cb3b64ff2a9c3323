import type { Pool } from "@shopmesh/platform/data";
import { saveSinkSms } from "../store/sms-sink.js";
import type { ChannelProvider, OutgoingMessage } from "./provider.js";

/**
 * The local SMS provider: "sends" by writing a row to `sms_sink`, which developers and tests
 * read. A real gateway is another ChannelProvider with channel "sms", chosen by SMS_PROVIDER.
 */
export function createSinkSmsProvider(pool: Pool): ChannelProvider {
  return {
    channel: "sms",
    async send(message: OutgoingMessage) {
      await saveSinkSms(pool, message);
    },
    async close() {},
  };
}
