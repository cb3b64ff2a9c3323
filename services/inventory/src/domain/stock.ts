import { FailedPreconditionError, preconditionFailure, PreconditionViolation } from "@shopmesh/platform";

/** The stock of one product as the service holds it. `available` is derived, never stored. */
export interface StockRecord {
  productId: string;
  onHand: number;
  reserved: number;
  /** StockLow fires when available drops to this or below; 0 disables it. */
  lowStockThreshold: number;
  updatedAt: Date;
}

/** Units that can still be reserved. */
export function available(level: Pick<StockRecord, "onHand" | "reserved">): number {
  return level.onHand - level.reserved;
}

export function isLow(level: Pick<StockRecord, "onHand" | "reserved" | "lowStockThreshold">): boolean {
  return level.lowStockThreshold > 0 && available(level) <= level.lowStockThreshold;
}

/**
 * True only on the change that takes a product from above its threshold to at or below it,
 * so StockLow fires once per dip rather than on every change while stock stays low.
 */
export function crossedIntoLow(before: StockRecord, after: StockRecord): boolean {
  return isLow(after) && !isLow(before);
}

/** Whether anything a reader can see differs between two versions of a level. */
export function stockChanged(before: StockRecord, after: StockRecord): boolean {
  return before.onHand !== after.onHand || before.reserved !== after.reserved || before.lowStockThreshold !== after.lowStockThreshold;
}

/** Sets on_hand (a stock take) and optionally the threshold; reserved units must stay covered. */
export function setOnHand(level: StockRecord, onHand: number, lowStockThreshold: number | undefined, now: Date): StockRecord {
  if (onHand < level.reserved) {
    throw new FailedPreconditionError(`product ${level.productId}: on_hand ${onHand} is below the ${level.reserved} units reserved`);
  }
  return { ...level, onHand, lowStockThreshold: lowStockThreshold ?? level.lowStockThreshold, updatedAt: now };
}

/** Adds a delivery (delta > 0) or a write-off (delta < 0); on_hand may not drop below reserved or 0. */
export function adjustOnHand(level: StockRecord, delta: number, now: Date): StockRecord {
  const onHand = level.onHand + delta;
  if (onHand < 0) {
    throw new FailedPreconditionError(`product ${level.productId}: on_hand would drop to ${onHand}`);
  }
  if (onHand < level.reserved) {
    throw new FailedPreconditionError(`product ${level.productId}: on_hand ${onHand} would be below the ${level.reserved} units reserved`);
  }
  return { ...level, onHand, updatedAt: now };
}

/** One product a reservation asks for more of than is available. */
export interface Shortage {
  productId: string;
  requested: number;
  available: number;
}

/** Every line that cannot be covered; empty means the whole reservation fits. */
export function findShortages(levels: ReadonlyMap<string, StockRecord>, lines: ReadonlyArray<{ productId: string; quantity: number }>): Shortage[] {
  const shortages: Shortage[] = [];
  for (const line of lines) {
    const level = levels.get(line.productId);
    const free = level ? available(level) : 0;
    if (free < line.quantity) shortages.push({ productId: line.productId, requested: line.quantity, available: free });
  }
  return shortages;
}

/** The error a caller sees when stock is short; names every short product. */
export function insufficientStock(shortages: readonly Shortage[]): FailedPreconditionError {
  const list = shortages.map((s) => `${s.productId} (requested ${s.requested}, available ${s.available})`).join(", ");
  // The products travel as a PreconditionFailure too, so a caller reads them without parsing the message.
  const details = [
    preconditionFailure(
      PreconditionViolation.stock,
      shortages.map((s) => ({ subject: s.productId, description: `requested ${s.requested}, available ${s.available}` })),
    ),
  ];
  return new FailedPreconditionError(`insufficient stock: ${list}`, { details });
}

/** Holds `quantity` units. Callers check availability first; this refuses to oversell regardless. */
export function reserveUnits(level: StockRecord, quantity: number, now: Date): StockRecord {
  if (available(level) < quantity) throw insufficientStock([{ productId: level.productId, requested: quantity, available: available(level) }]);
  return { ...level, reserved: level.reserved + quantity, updatedAt: now };
}

/** Returns held units to available (release or expiry). */
export function releaseUnits(level: StockRecord, quantity: number, now: Date): StockRecord {
  return { ...level, reserved: Math.max(0, level.reserved - quantity), updatedAt: now };
}

/** Held units leave the warehouse: on_hand and reserved both drop, available is unchanged. */
export function commitUnits(level: StockRecord, quantity: number, now: Date): StockRecord {
  return { ...level, onHand: level.onHand - quantity, reserved: level.reserved - quantity, updatedAt: now };
}

/** Committed units come back (their order was cancelled after payment): on_hand rises, reserved is untouched. */
export function returnUnits(level: StockRecord, quantity: number, now: Date): StockRecord {
  return { ...level, onHand: level.onHand + quantity, updatedAt: now };
}
