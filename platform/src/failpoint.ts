/**
 * Named crash points for fault tests: the exact steps where a real crash must be survived
 * (after a side effect, before its bookkeeping). `SHOPMESH_FAILPOINTS=name` or `name@N` makes
 * the process SIGKILL itself the first (or the N-th) time it passes `name` (one, marked below,
 * rejects an event instead, like a handler bug). Unset, a failpoint costs one Map lookup; with
 * NODE_ENV=production the variable is refused at start-up, so a stray setting can never crash
 * a real deployment.
 */
/** The log message a failpoint writes just before the crash (harnesses look for it). */
export const FAILPOINT_HIT = "failpoint hit: crashing";

/** The failpoints this code base has; a test arming an unknown name gets an error, not silence. */
export const FAILPOINTS = {
  /** The outbox relay sent a batch to Kafka and has not yet marked its rows published. */
  outboxAfterPublish: "outbox.after-publish",
  /** A consumer committed an event's effect and has not yet committed the Kafka offset. */
  consumerAfterCommit: "consumer.after-commit",
  /**
   * Not a crash: a handler bug that rejects one event. `@N` picks the N-th distinct event the
   * consumer tries to apply; every attempt at that event then fails, so it is dead-lettered.
   */
  consumerRejectsEvent: "consumer.rejects-event",
} as const;

/** `SHOPMESH_FAILPOINTS` as failpoint -> the pass that crashes; throws on a name or pass it cannot honour. */
export function parseFailpoints(setting: string | undefined, environment = process.env["NODE_ENV"]): Map<string, number> {
  const points = new Map<string, number>();
  if (!setting) return points;
  if (environment === "production") throw new Error("SHOPMESH_FAILPOINTS is set in production; fault injection is for tests only");
  const known = new Set<string>(Object.values(FAILPOINTS));
  for (const item of setting
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean)) {
    const [name, nth] = item.split("@") as [string, string | undefined];
    if (!known.has(name)) throw new Error(`SHOPMESH_FAILPOINTS names unknown failpoint "${name}" (known: ${[...known].join(", ")})`);
    const hit = nth === undefined ? 1 : Number(nth);
    if (!Number.isInteger(hit) || hit < 1) throw new Error(`SHOPMESH_FAILPOINTS: "${item}" needs a positive pass number after @`);
    points.set(name, hit);
  }
  return points;
}

// After FAILPOINTS: parsing reads it.
const armed = parseFailpoints(process.env["SHOPMESH_FAILPOINTS"]);
const passes = new Map<string, number>();

const seenEvents = new Set<string>();
let rejectedEvent: string | undefined;

/**
 * Throws for the one event `consumer.rejects-event@N` picked (the N-th distinct id seen here),
 * on every attempt at it, like a deterministic handler bug; a no-op unless armed.
 */
export function rejectingFailpoint(eventId: string): void {
  if (armed.size === 0) return;
  const nth = armed.get(FAILPOINTS.consumerRejectsEvent);
  if (nth === undefined) return;
  if (rejectedEvent === undefined && !seenEvents.has(eventId)) {
    seenEvents.add(eventId);
    if (seenEvents.size === nth) rejectedEvent = eventId;
  }
  if (eventId === rejectedEvent) throw new Error(`failpoint ${FAILPOINTS.consumerRejectsEvent}: this build rejects event ${eventId}`);
}

/** Crashes the process here if the failpoint is armed and this is its pass. */
export function failpoint(name: (typeof FAILPOINTS)[keyof typeof FAILPOINTS]): void {
  if (armed.size === 0) return;
  const hit = armed.get(name);
  if (hit === undefined) return;
  const pass = (passes.get(name) ?? 0) + 1;
  passes.set(name, pass);
  if (pass !== hit) return;
  // Written synchronously: the harness waits for this line to know the crash was the failpoint's.
  process.stderr.write(`${JSON.stringify({ level: 50, msg: FAILPOINT_HIT, failpoint: name, pass })}\n`);
  process.kill(process.pid, "SIGKILL");
}
