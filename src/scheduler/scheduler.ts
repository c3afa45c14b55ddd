import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import type { Platform } from '../platform/platform.js';
import type { RunWorker } from './script-runs.js';

/** How soon to look again at due work that another process holds locked. */
const LOCKED_RETRY_MS = 20;

export interface SchedulerOptions {
  platform: Platform;
  runs: RunWorker;
  clock: Clock;
  log: Logger;
  /** Callbacks dispatched per transaction. Default 500. */
  batchSize?: number;
  /** Longest sleep without a timer or a notification, a safety net for a lost one. Default 30 s. */
  maxIdleMs?: number;
  /** Told of each dispatched callback and how late it went (metrics). */
  onDispatched?(lateMs: number): void;
}

/**
 * The loop behind `serve`: dispatch what is due, route, run scripts that can run; then sleep
 * until the next due time — or until `wake()` (a notification: an earlier callback, a signal, an
 * agent free). No polling interval: lateness is the timer's, a millisecond or two. A failing
 * iteration (the database gone) is retried with back-off and nothing is lost: what was due stays
 * due in the database.
 */
export function createScheduler(options: SchedulerOptions) {
  const { platform, runs, clock, log } = options;
  const batchSize = options.batchSize ?? 500;
  const maxIdleMs = options.maxIdleMs ?? 30_000;
  let stopped = false;
  let woken = false;
  /** When the loop means to look next (epoch ms), while it sleeps. */
  let plannedWake = Number.POSITIVE_INFINITY;
  let iterating = false;
  /** The earliest due time heard of during an iteration, which may have read too early to see it. */
  let heardDue = Number.POSITIVE_INFINITY;
  let interrupt: (() => void) | undefined;
  let loop: Promise<void> | undefined;

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        interrupt = undefined;
        resolve();
      }
      interrupt = done;
    });

  /** One turn; returns when to look next, and whether it got anything done. */
  async function iteration(): Promise<{ next: number | null; progressed: boolean }> {
    let progressed = false;
    for (;;) {
      const dispatched = await platform.dispatchDue(batchSize);
      if (dispatched.length > 0) progressed = true;
      if (dispatched.length > 0) log.debug({ count: dispatched.length }, 'dispatched due callbacks');
      for (const d of dispatched) options.onDispatched?.(d.lateMs);
      if (dispatched.length < batchSize || stopped) break;
    }
    if ((await platform.route()).length > 0) progressed = true;
    if ((await runs.processDue()) > 0) progressed = true;
    const [callbacks, scripts] = await Promise.all([platform.nextWakeAt(), runs.nextDueAt()]);
    const next = callbacks === null ? scripts : scripts === null ? callbacks : Math.min(callbacks, scripts);
    return { next, progressed };
  }

  async function run() {
    let failures = 0;
    while (!stopped) {
      woken = false;
      plannedWake = Number.POSITIVE_INFINITY;
      heardDue = Number.POSITIVE_INFINITY;
      let next: number | null;
      try {
        iterating = true;
        const turn = await iteration();
        next = turn.next;
        // Due work this turn could not take (another process holds it locked): look again
        // shortly, not at once, rather than spin until that process commits.
        if (!turn.progressed && next !== null && next <= clock.now()) next = clock.now() + LOCKED_RETRY_MS;
        if (heardDue < (next ?? Number.POSITIVE_INFINITY)) next = heardDue;
        if (failures > 0) log.info({ after: failures }, 'scheduler recovered: the database answers again');
        failures = 0;
      } catch (error) {
        failures++;
        const retryInMs = Math.min(100 * 2 ** failures, 10_000);
        log.error({ err: error, retryInMs }, 'scheduler iteration failed; retrying');
        await pause(retryInMs);
        continue;
      } finally {
        iterating = false;
      }
      if (stopped || woken) continue;
      const delay = next === null ? maxIdleMs : Math.min(maxIdleMs, next - clock.now());
      if (delay > 0) {
        plannedWake = clock.now() + delay;
        await pause(delay);
      }
    }
  }

  return {
    start(): void {
      loop ??= run();
    },
    /** Look for work now: something may have become due earlier than the timer says. */
    wake(): void {
      woken = true;
      interrupt?.();
    },
    /**
     * Something falls due at `at`: wake only if that is before the loop means to look anyway
     * (a callback for tomorrow must not cost a turn now).
     */
    wakeBy(at: number): void {
      if (iterating) heardDue = Math.min(heardDue, at);
      else if (at < plannedWake) this.wake();
    },
    /** Finishes the iteration in flight (its transaction commits), then stops claiming. */
    async stop(): Promise<void> {
      stopped = true;
      interrupt?.();
      await loop;
    },
  };
}

export type Scheduler = ReturnType<typeof createScheduler>;
