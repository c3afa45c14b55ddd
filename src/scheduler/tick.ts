import type { Logger } from '../logger.js';
import type { Platform } from '../platform/platform.js';
import type { RunWorker } from './run-worker.js';

export interface TickOptions {
  platform: Platform;
  runs: RunWorker;
  log: Logger;
  /** Callbacks dispatched per transaction. Default 500. */
  batchSize?: number;
  /** Told of each dispatched callback and how late it went (metrics). */
  onDispatched?(lateMs: number): void;
}

export interface TickResult {
  /** When something next falls due by time alone (a callback, a target wait, a WAIT, a lease), or null. */
  next: number | null;
  /** Whether the turn got anything done. */
  progressed: boolean;
}

/**
 * One turn of the work that time brings, shared by the server's scheduler and the simulator:
 * dispatch the callbacks due now (in batches, until none is; each batch routes in its own
 * transaction, so routing — a target wait run out, a contended pass — happens every turn), run
 * the script runs that can run; then say when to look next. What the simulator shows is what the
 * server does.
 */
export function createTick(options: TickOptions) {
  const { platform, runs } = options;
  const batchSize = options.batchSize ?? 500;
  let stopping = false;
  return {
    async run(): Promise<TickResult> {
      let progressed = false;
      for (;;) {
        const dispatched = await platform.dispatchDue(batchSize);
        if (dispatched.length > 0) {
          progressed = true;
          options.log.debug({ count: dispatched.length }, 'dispatched due callbacks');
        }
        for (const d of dispatched) options.onDispatched?.(d.lateMs);
        if (dispatched.length < batchSize || stopping) break;
      }
      if ((await runs.processDue(() => !stopping)) > 0) progressed = true;
      const [callbacks, scripts] = await Promise.all([platform.nextWakeAt(), runs.nextDueAt()]);
      const next = callbacks === null ? scripts : scripts === null ? callbacks : Math.min(callbacks, scripts);
      return { next, progressed };
    },
    /** Finish the batch in flight (callbacks or script runs), then take no more (a server shutting down). */
    stop(): void {
      stopping = true;
    },
  };
}

export type Tick = ReturnType<typeof createTick>;
