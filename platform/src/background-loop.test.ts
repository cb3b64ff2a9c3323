import { pino } from "pino";
import { createBackgroundLoop, createWakeup, type BackgroundLoopOptions } from "./background-loop.js";

const HOUR = 3_600_000;

/** A round that starts when the loop runs it and ends when the test says so. */
function buildGatedRound() {
  const started: Array<() => void> = [];
  const waiters: Array<(count: number) => void> = [];
  let rounds = 0;
  const round = () =>
    new Promise<void>((finish) => {
      rounds++;
      started.push(finish);
      for (const wake of waiters.splice(0)) wake(rounds);
    });
  /** Resolves once `count` rounds have started. */
  const roundStarted = (count: number) =>
    new Promise<void>((resolve) => {
      if (rounds >= count) return resolve();
      const check = (seen: number) => (seen >= count ? resolve() : waiters.push(check));
      waiters.push(check);
    });
  const finishRound = () => started.shift()?.();
  return { round, roundStarted, finishRound, rounds: () => rounds };
}

const buildLoop = (overrides: Partial<BackgroundLoopOptions> & Pick<BackgroundLoopOptions, "round">) =>
  createBackgroundLoop({ name: "test", intervalMs: HOUR, logger: pino({ level: "silent" }), ...overrides });

describe("background loop", () => {
  test("when nudged during a round, then another round runs right after it, not an interval later", async () => {
    const gate = buildGatedRound();
    const loop = buildLoop({ round: gate.round });
    loop.start();
    loop.nudge();
    await gate.roundStarted(1);
    loop.nudge();
    loop.nudge();
    gate.finishRound();
    await gate.roundStarted(2);
    gate.finishRound();
    await loop.stop();
    // Nudges during one round coalesce into one more round.
    expect(gate.rounds()).toBe(2);
  });

  test("when a round reports more work, then the next starts at once", async () => {
    let rounds = 0;
    let done!: () => void;
    const third = new Promise<void>((resolve) => (done = resolve));
    const loop = buildLoop({
      runOnStart: true,
      round: async () => {
        rounds++;
        if (rounds === 3) done();
        return rounds < 3;
      },
    });
    loop.start();
    await third;
    await loop.stop();
    expect(rounds).toBe(3);
  });

  test("when rounds keep failing, then each is logged and the wait doubles up to the bound", async () => {
    const starts: number[] = [];
    const errors: unknown[] = [];
    let done!: () => void;
    const fifth = new Promise<void>((resolve) => (done = resolve));
    const loop = buildLoop({
      intervalMs: 20,
      maxBackoffMs: 80,
      onError: (err) => errors.push(err),
      round: () => {
        starts.push(performance.now());
        if (starts.length === 5) done();
        return Promise.reject(new Error("broker down"));
      },
    });
    loop.start();
    await fifth;
    await loop.stop();
    const waits = starts.slice(1).map((at, i) => at - starts[i]!);
    // Timers never fire early; allow a millisecond of clock rounding.
    [40, 80, 80, 80].forEach((least, i) => expect(waits[i]).toBeGreaterThanOrEqual(least - 1));
    expect(errors.length).toBeGreaterThanOrEqual(4);
  });

  test("when stopped mid-round, then the round's signal aborts and stop waits for it", async () => {
    let sawAbort = false;
    let entered!: () => void;
    const inRound = new Promise<void>((resolve) => (entered = resolve));
    const loop = buildLoop({
      runOnStart: true,
      round: (signal) =>
        new Promise<void>((finish) => {
          entered();
          signal.addEventListener("abort", () => {
            sawAbort = true;
            finish();
          });
        }),
    });
    loop.start();
    await inRound;
    await loop.stop();
    expect(sawAbort).toBe(true);
  });
});

describe("wakeup", () => {
  test("when nudged while nobody waits, then the next wait ends at once instead of sleeping", async () => {
    const wakeup = createWakeup();
    wakeup.nudge();
    const before = performance.now();
    await wakeup.wait(HOUR);
    expect(performance.now() - before).toBeLessThan(1_000);
  });

  test("when nudged during a wait, then the wait ends, and the next one sleeps again", async () => {
    const wakeup = createWakeup();
    const waiting = wakeup.wait(HOUR);
    wakeup.nudge();
    await waiting;
    const stopping = new AbortController();
    const next = wakeup.wait(HOUR, stopping.signal);
    let ended = false;
    void next.then(() => (ended = true));
    await Promise.resolve();
    expect(ended).toBe(false);
    stopping.abort();
    await next;
  });
});
