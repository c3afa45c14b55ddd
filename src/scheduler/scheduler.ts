import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Tick } from './tick.js';

/** How soon to look again at due work that another process holds locked. */
export const LOCKED_RETRY_MS = 20;

export interface SchedulerOptions {
  tick: Tick;
  clock: Clock;
  log: Logger;
  /** Longest sleep without a timer or a notification, a safety net for a lost one. Default 30 s. */
  maxIdleMs?: number;
}

/**
 * The loop behind `serve`: a tick (dispatch what is due, route, run scripts that can run), then
 * sleep on the clock until the next due time — or until told to look sooner (`lookBy`: an earlier
 * callback, a signal, a contended route). No polling interval: lateness is the timer's. A failing
 * turn (the database gone) is retried with back-off and nothing is lost: what was due stays due in
 * the database.
 */
export function createScheduler(options: SchedulerOptions) {
  const { tick, clock, log } = options;
  const maxIdleMs = options.maxIdleMs ?? 30_000;
  let stopped = false;
  let iterating = false;
  /** While a turn runs: the earliest moment someone asked to be looked at; the turn may have read too early. */
  let heardDue = Number.POSITIVE_INFINITY;
  /** While the loop sleeps: until when, and how to wake it sooner. */
  let sleeping: { until: number; wake(): void; replan(at: number): void } | undefined;
  let idleWaiters: Array<() => void> = [];
  let loop: Promise<void> | undefined;

  const sleep = (until: number) =>
    new Promise<void>((resolve) => {
      let cancel = clock.setTimer(until - clock.now(), wake);
      function wake() {
        cancel();
        sleeping = undefined;
        resolve();
      }
      sleeping = {
        until,
        wake,
        replan(at) {
          cancel();
          if (sleeping) sleeping.until = at;
          cancel = clock.setTimer(at - clock.now(), wake);
        },
      };
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    });

  async function run() {
    let failures = 0;
    while (!stopped) {
      let next: number | null;
      iterating = true;
      try {
        const turn = await tick.run();
        next = turn.next;
        // Due work this turn could not take (another process holds it locked): look again
        // shortly, not at once, rather than spin until that process commits.
        if (!turn.progressed && next !== null && next <= clock.now()) next = clock.now() + LOCKED_RETRY_MS;
        if (failures > 0) log.info({ after: failures }, 'scheduler recovered: the database answers again');
        failures = 0;
      } catch (error) {
        failures++;
        const retryInMs = Math.min(100 * 2 ** failures, 10_000);
        log.error({ err: error, retryInMs }, 'scheduler iteration failed; retrying');
        next = clock.now() + retryInMs;
      } finally {
        iterating = false;
      }
      if (stopped) break;
      if (heardDue < (next ?? Number.POSITIVE_INFINITY)) next = heardDue;
      heardDue = Number.POSITIVE_INFINITY;
      const until = Math.min(clock.now() + maxIdleMs, next ?? Number.POSITIVE_INFINITY);
      if (until > clock.now()) await sleep(until);
    }
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const w of waiters) w();
  }

  const scheduler = {
    start(): void {
      loop ??= run();
    },
    /**
     * Something falls due at `at`: look then, if that is before the loop means to look anyway (a
     * callback for tomorrow must not cost a turn now). `at` at or before now: look at once.
     */
    lookBy(at: number): void {
      if (stopped) return;
      if (iterating || !sleeping) heardDue = Math.min(heardDue, at);
      else if (at <= clock.now()) sleeping.wake();
      else if (at < sleeping.until) sleeping.replan(at);
    },
    /** Look for work now: something may have become due earlier than the timer says. */
    wake(): void {
      scheduler.lookBy(clock.now());
    },
    /**
     * Resolves when the loop has finished its work and sleeps (or has stopped): what was due by
     * now is done. Tests on a simulated clock move the clock, then wait for this.
     */
    idle(): Promise<void> {
      if (stopped || sleeping) return Promise.resolve();
      return new Promise((resolve) => idleWaiters.push(resolve));
    },
    /** Finishes the turn in flight (its transactions commit), then stops claiming. */
    async stop(): Promise<void> {
      stopped = true;
      tick.stop();
      sleeping?.wake();
      await loop;
    },
  };
  return scheduler;
}

export type Scheduler = ReturnType<typeof createScheduler>;
