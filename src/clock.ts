/**
 * Time comes from here everywhere, timers too: real in `serve`, simulated in `run` and in tests,
 * where moving the clock fires the timers that fall due — nothing waits on the wall clock.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Calls `fire` once `ms` have passed on this clock. Returns the function that cancels it. */
  setTimer(ms: number, fire: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fire) {
    const timer = setTimeout(fire, Math.max(0, ms));
    return () => clearTimeout(timer);
  },
};

export interface SimulatedClock extends Clock {
  /**
   * Moves the clock to `ms` (never backwards), firing on the way every timer due by then, in due
   * order. What a timer starts that is asynchronous runs after `set` returns, at `ms`: to have each
   * run at its own time, step through `nextTimerAt()`.
   */
  set(ms: number): void;
  advance(ms: number): void;
  /** When the earliest pending timer falls due, or null when none is pending. */
  nextTimerAt(): number | null;
}

export function createSimulatedClock(startMs: number): SimulatedClock {
  let current = startMs;
  let sequence = 0;
  const timers = new Map<number, { at: number; fire: () => void }>();
  const earliest = () => {
    let first: [number, { at: number; fire: () => void }] | undefined;
    for (const entry of timers) {
      if (!first || entry[1].at < first[1].at || (entry[1].at === first[1].at && entry[0] < first[0]))
        first = entry;
    }
    return first;
  };
  const clock: SimulatedClock = {
    now: () => current,
    setTimer(ms, fire) {
      const id = sequence++;
      timers.set(id, { at: current + Math.max(0, ms), fire });
      return () => timers.delete(id);
    },
    set(ms) {
      // A simulated clock never runs backwards: events already traced stay in order.
      for (let due = earliest(); due && due[1].at <= ms; due = earliest()) {
        timers.delete(due[0]);
        current = Math.max(current, due[1].at);
        due[1].fire();
      }
      if (ms > current) current = ms;
    },
    advance(ms) {
      if (ms > 0) clock.set(current + ms);
    },
    nextTimerAt: () => earliest()?.[1].at ?? null,
  };
  return clock;
}
