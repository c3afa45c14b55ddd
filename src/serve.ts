import { hostname } from 'node:os';
import { actions } from './actions/registry.js';
import { type Clock, systemClock } from './clock.js';
import { buildApp } from './http/app.js';
import { createMetrics } from './http/metrics.js';
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
  /** Serve the HTTP API on this port (0: any free one); absent: no HTTP. */
  port?: number;
  /** Interface to listen on. Default 0.0.0.0. */
  host?: string;
}

export interface Server {
  platform: Platform;
  /** `http://host:port` when the API is served. */
  url: string | null;
  /** Stops taking requests, finishes the work in flight, stops claiming. The store stays open. */
  stop(): Promise<void>;
}

/** Wires the platform, the script-run worker, the scheduler and the HTTP API over one store. */
export async function startServer(options: ServerOptions): Promise<Server> {
  const { store, log } = options;
  const clock = options.clock ?? systemClock;
  const lockRows = store.dialect === 'postgres';
  const platform = createPlatform({ store, clock, lockRows });
  const metrics = createMetrics(store);
  const runs = createRunWorker({
    store,
    platform,
    actions,
    clock,
    log,
    lockRows,
    owner: options.owner ?? `${hostname()}:${process.pid}`,
  });
  const scheduler = createScheduler({ platform, runs, clock, log, onDispatched: metrics.observeDispatch });

  // Work that appears here wakes this process and, through the database, every other. A callback
  // says when it is due, so that each process wakes only if it would otherwise look later.
  const tell = (message: string) => {
    store.notify(message).catch((err: unknown) => log.warn({ err }, 'could not notify other processes'));
  };
  const hear = (message: string) => {
    const due = /^due:(\d+)$/.exec(message);
    if (due) scheduler.wakeBy(Number(due[1]));
    else scheduler.wake();
  };
  const unsubscribe = platform.on({
    callbackScheduled: ({ dueAt }) => {
      scheduler.wakeBy(dueAt);
      tell(`due:${dueAt}`);
    },
    contactEnded: (contact, { scriptOwed }) => {
      // Only an agent freed, or a parked script owed its ONRELEASE, is work for the scheduler.
      if (contact.agentId !== null || scriptOwed) {
        scheduler.wake();
        tell('wake');
      }
    },
    contactRouted: () => {
      scheduler.wake();
      tell('wake');
    },
    contactSignaled: () => {
      scheduler.wake();
      tell('wake');
    },
  });
  const unlisten = await store.listen(hear, {
    onError: (err, retryInMs) =>
      log.warn({ err, retryInMs }, 'lost the notification connection; reconnecting'),
    onReconnect: () => {
      log.info('notification connection back');
      scheduler.wake();
    },
  });

  // Listen first: a port already taken fails the start before any work is claimed.
  let url: string | null = null;
  const app = options.port === undefined ? undefined : await buildApp({ platform, metrics, log });
  if (app) {
    try {
      await app.listen({ port: options.port ?? 3000, host: options.host ?? '0.0.0.0' });
    } catch (error) {
      unsubscribe();
      await unlisten();
      await app.close();
      throw error;
    }
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : options.port;
    url = `http://${options.host && options.host !== '0.0.0.0' ? options.host : 'localhost'}:${port}`;
  }
  scheduler.start();
  log.info({ database: store.dialect, url }, 'server started');
  return {
    platform,
    url,
    async stop() {
      await app?.close();
      unsubscribe();
      await scheduler.stop();
      await unlisten();
      log.info('server stopped');
    },
  };
}
