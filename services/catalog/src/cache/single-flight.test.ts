import { createSingleFlight } from "./single-flight.js";

describe("single flight", () => {
  test("when many callers ask for one key at once, then the work runs once and all get its result", async () => {
    const flight = createSingleFlight();
    let runs = 0;
    let release!: (value: string) => void;
    const work = () => {
      runs++;
      return new Promise<string>((resolve) => (release = resolve));
    };
    const results = Promise.all(Array.from({ length: 20 }, () => flight.run("k", work)));
    release("value");
    expect(await results).toEqual(Array(20).fill("value"));
    expect(runs).toBe(1);
    expect(flight.size).toBe(0);
  });

  test("when the work fails, then every waiting caller sees the failure and the next call retries", async () => {
    const flight = createSingleFlight();
    await expect(Promise.all([flight.run("k", () => Promise.reject(new Error("boom"))), flight.run("k", () => Promise.resolve(1))])).rejects.toThrow("boom");
    await expect(flight.run("k", () => Promise.resolve(2))).resolves.toBe(2);
  });

  test("when a key is forgotten mid-flight, then the next caller starts its own call", async () => {
    const flight = createSingleFlight();
    let release!: () => void;
    const first = flight.run("k", () => new Promise<string>((resolve) => (release = () => resolve("old"))));
    flight.forget("k");
    await expect(flight.run("k", () => Promise.resolve("new"))).resolves.toBe("new");
    release();
    await expect(first).resolves.toBe("old");
  });
});
