import { hostname } from 'node:os';
import { actions } from './actions/registry.js';
import { type Clock, systemClock } from './clock.js';
import type { Logger } from './logger.js';
import { createPlatform, type Platform } from './platform/platform.js';
import { createScheduler } from './scheduler/scheduler.js';
import { createRunWorker } from './scheduler/script-runs.js';
import type { Store } from './storage/store.js';

export interface ServerOptions {
  store: Store;
  log: Logger;
  clock?: Clock;
  /** Names this process in the database (script runs it holds). Default host:pid. */
  owner?: string;
}

export interface Server {
  platform: Platform;
  /** Finishes the work in flight, stops claiming, stops listening. The store stays open. */
  stop(): Promise<void>;
}

/** Wires the platform, the script-run worker and the scheduler over one store. */
export async function startServer(options: ServerOptions): Promise<Server> {
  const { store, log } = options;
  const clock = options.clock ?? systemClock;
  const lockRows = store.dialect === 'postgres';
  const platform = createPlatform({ store, clock, lockRows });
  const runs = createRunWorker({
    store,
    platform,
    actions,
    clock,
    log,
    lockRows,
    owner: options.owner ?? `${hostname()}:${process.pid}`,
  });
  const scheduler = createScheduler({ platform, runs, clock, log });

  // Work that appears here wakes this process at once and, through the database, every other.
  const tell = () => {
    scheduler.wake();
    store.notify('wake').catch((err: unknown) => log.warn({ err }, 'could not notify other processes'));
  };
  const unsubscribe = platform.on({
    callbackScheduled: tell,
    contactEnded: tell,
    contactRouted: tell,
    contactSignaled: tell,
  });
  const unlisten = await store.listen(() => scheduler.wake(), {
    onError: (err, retryInMs) =>
      log.warn({ err, retryInMs }, 'lost the notification connection; reconnecting'),
    onReconnect: () => {
      log.info('notification connection back');
      scheduler.wake();
    },
  });
  scheduler.start();
  log.info({ database: store.dialect }, 'scheduler started');
  return {
    platform,
    async stop() {
      unsubscribe();
      await scheduler.stop();
      await unlisten();
      log.info('scheduler stopped');
    },
  };
}
