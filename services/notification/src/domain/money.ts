/** An amount in minor units of an ISO 4217 currency, as the contracts carry it. */
export interface MoneyAmount {
  currency: string;
  amountMinor: bigint;
}

function fractionDigits(currency: string): number {
  try {
    return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    return 2; // an unknown code: the common case is cents
  }
}

/** "EUR 1234.50": exact (integer arithmetic, no floats), with the currency's own number of decimals. */
export function formatMoney(money: MoneyAmount | undefined): string {
  if (!money) return "";
  const digits = fractionDigits(money.currency);
  const negative = money.amountMinor < 0n;
  const minor = (negative ? -money.amountMinor : money.amountMinor).toString().padStart(digits + 1, "0");
  const major = minor.slice(0, minor.length - digits);
  const fraction = digits > 0 ? `.${minor.slice(minor.length - digits)}` : "";
  return `${money.currency} ${negative ? "-" : ""}${major}${fraction}`;
}
