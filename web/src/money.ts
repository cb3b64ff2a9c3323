import type { Money } from "@shopmesh/gen/shopmesh/type/v1/money_pb.js";

const formatters = new Map<string, Intl.NumberFormat>();

/** "€24.99" from minor units; money is never a float until it is text. */
export function formatMoney(money: Money | undefined): string {
  if (!money) return "";
  let formatter = formatters.get(money.currency);
  if (!formatter) {
    formatter = new Intl.NumberFormat("en-IE", { style: "currency", currency: money.currency || "EUR" });
    formatters.set(money.currency, formatter);
  }
  const minor = money.amountMinor;
  const sign = minor < 0n ? "-" : "";
  const abs = minor < 0n ? -minor : minor;
  // Two decimals: every currency the shop sells in (EUR) has them.
  return sign + formatter.format(Number(abs / 100n) + Number(abs % 100n) / 100);
}

/** Parses "24.99" (or "24,99") into minor units; undefined when it is not a price. */
export function parseMinor(text: string): bigint | undefined {
  const match = /^\s*(\d{1,9})(?:[.,](\d{1,2}))?\s*$/.exec(text);
  if (!match) return undefined;
  return BigInt(match[1]!) * 100n + BigInt((match[2] ?? "0").padEnd(2, "0"));
}

/** "24.99" for an input field. */
export function minorToText(minor: bigint): string {
  return `${minor / 100n}.${(minor % 100n).toString().padStart(2, "0")}`;
}
