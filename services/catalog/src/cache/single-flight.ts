/**
 * Collapses concurrent calls for one key into one: while a call for `key` is running, other
 * callers get its promise instead of starting their own. This is the in-process half of the
 * cache's stampede protection (N concurrent misses on one key -> one database query).
 */
export function createSingleFlight() {
  const flights = new Map<string, Promise<unknown>>();
  return {
    run<T>(key: string, work: () => Promise<T>): Promise<T> {
      const running = flights.get(key);
      if (running) return running as Promise<T>;
      const flight = work().finally(() => {
        if (flights.get(key) === flight) flights.delete(key);
      });
      flights.set(key, flight);
      return flight;
    },
    /** Later callers start a fresh call instead of joining one that began before a change. */
    forget(key: string): void {
      flights.delete(key);
    },
    /** Forgets every key starting with `prefix` (see `forget`). */
    forgetPrefix(prefix: string): void {
      for (const key of flights.keys()) if (key.startsWith(prefix)) flights.delete(key);
    },
    has(key: string): boolean {
      return flights.has(key);
    },
    get size(): number {
      return flights.size;
    },
  };
}

export type SingleFlight = ReturnType<typeof createSingleFlight>;
