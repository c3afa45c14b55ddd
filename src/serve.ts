import { actions } from './actions/registry.js';
import { type Clock, systemClock } from './clock.js';
import { processName } from './config.js';
import { type App, buildApp } from './http/app.js';
import { createMetrics } from './http/metrics.js';
import type { Logger } from './logger.js';
import { createPlatform, type Platform } from './platform/platform.js';
import { createRunWorker } from './scheduler/run-worker.js';
import { createScheduler, LOCKED_RETRY_MS } from './scheduler/scheduler.js';
import { createTick } from './scheduler/tick.js';
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
  /** Build the HTTP API without listening (`port`, `host` unused): tests use `app.inject`. */
  unbound?: boolean;
  /** Signs security-user handles instead of the database's keys (config's readHandleKey). */
  handleKey?: string;
}

export interface Server {
  platform: Platform;
  /** `http://host:port` when the API is served. */
  url: string | null;
  /** The HTTP API when it was built (listening, or `unbound`); null without HTTP. */
  app: App | null;
  /**
   * Resolves once the scheduler has done what is due by the clock's now and sleeps. Tests on a
   * simulated clock move the clock, then wait for this.
   */
  idle(): Promise<void>;
  /** Stops taking requests, finishes the work in flight, stops claiming. The store stays open. */
  stop(): Promise<void>;
}

/** Wires the platform, the script-run worker, the scheduler and the HTTP API over one store. */
export async function startServer(options: ServerOptions): Promise<Server> {
  const { store, log } = options;
  const clock = options.clock ?? systemClock;
  const platform = createPlatform({
    store,
    clock,
    // On the server a script never acts beyond whoever deployed it.
    scriptsActWithinDeployer: true,
    ...(options.handleKey === undefined ? {} : { handleKey: options.handleKey }),
    onListenerError: (err, event) => log.error({ err, event: event.type }, 'a listener failed'),
  });
  const metrics = createMetrics(platform);
  const runs = createRunWorker({
    platform,
    actions,
    log,
    owner: options.owner ?? processName(),
  });
  const tick = createTick({ platform, runs, log, onDispatched: metrics.observeDispatch });
  const scheduler = createScheduler({ tick, clock, log });

  // Work that appears here wakes this process and, through the database, every other. A callback
  // says when it is due, so that each process wakes only if it would otherwise look later.
  const tell = (message: string) => {
    store.notify(message).catch((err: unknown) => log.warn({ err }, 'could not notify other processes'));
  };
  const hear = (message: string) => {
    const due = /^due:(\d+)$/.exec(message);
    scheduler.lookBy(due ? Number(due[1]) : clock.now());
  };
  const unsubscribe = platform.on((event) => {
    switch (event.type) {
      case 'callback.scheduled':
      case 'callback.rescheduled':
        scheduler.lookBy(event.dueAt);
        tell(`due:${event.dueAt}`);
        return;
      case 'contact.ended':
        // Only an agent freed, or a parked script owed its ONRELEASE, is work for the scheduler.
        if (event.agentId === null && !event.scriptOwed) return;
        scheduler.wake();
        tell('wake');
        return;
      case 'run.queued':
      case 'contact.signaled':
        scheduler.wake();
        tell('wake');
        return;
      case 'routing.contended':
        // Rows another transaction held: look again shortly, when it has committed.
        scheduler.lookBy(clock.now() + LOCKED_RETRY_MS);
        return;
    }
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
  const http = options.port !== undefined || options.unbound;
  const app = http ? await buildApp({ platform, metrics, log }) : undefined;
  if (app && !options.unbound) {
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
  log.info(
    { database: store.dialect, url, handleKeys: options.handleKey === undefined ? 'database' : 'external' },
    'server started',
  );
  return {
    platform,
    url,
    app: app ?? null,
    idle: () => scheduler.idle(),
    async stop() {
      await app?.close();
      unsubscribe();
      await scheduler.stop();
      await unlisten();
      log.info('server stopped');
    },
  };
}
