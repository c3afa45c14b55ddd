/** Time comes from here everywhere: real in `serve`, simulated in `run` and in tests. */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

export interface SimulatedClock extends Clock {
  set(ms: number): void;
  advance(ms: number): void;
}

export function createSimulatedClock(startMs: number): SimulatedClock {
  let current = startMs;
  return {
    now: () => current,
    set(ms) {
      // A simulated clock never runs backwards: events already traced stay in order.
      if (ms > current) current = ms;
    },
    advance(ms) {
      if (ms > 0) current += ms;
    },
  };
}
