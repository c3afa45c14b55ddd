import { performance } from 'node:perf_hooks';
import { systemClock } from '../../src/clock.js';
import { createPlatform, type Platform } from '../../src/platform/platform.js';
import type { AuditEntry } from '../../src/platform/resources.js';
import type { Store } from '../../src/storage/store.js';
import { type ApiClient, type ApiRequest, type ApiResponse, socketClient } from '../support/api-client.js';
import { AGENT, apiWorld, type TokenKey } from '../support/api-world.js';
import { freshDatabase, type TestDatabase } from '../support/server-db.js';
import { killLeftovers, type ServeProcess, startServe } from '../support/server-process.js';

/**
 * What an attacker attacks: a real `switchboard serve` process (from dist/) on a database of its
 * own, holding the API world (test/support/api-world.ts: an agent per permission case), reached
 * over its socket with that agent's bearer token. The test process reads the database directly
 * only to see what the attack did (the audit, a contact's state).
 */
export interface Target {
  readonly serve: ServeProcess;
  readonly store: Store;
  readonly platform: Platform;
  /** A request as the agent `as` (its token), or with no token (`as: null`). */
  request(as: TokenKey | null, request: Omit<ApiRequest, 'token'>): Promise<ApiResponse>;
  /** How long `/health` takes to answer now, in ms of wall-clock time. */
  healthMs(): Promise<number>;
  /** The audit entries after `afterId`, oldest first. */
  audit(afterId?: number): Promise<AuditEntry[]>;
  /** The newest audit entry's ID: the mark to read what an attack adds after it. */
  auditMark(): Promise<number>;
  stop(): Promise<void>;
}

const RUNNING = /Switchboard is running at (http:\/\/\S+)/;

export async function startTarget(kind: 'sqlite' | 'postgres'): Promise<Target> {
  const db: TestDatabase = await freshDatabase(kind);
  const store = await db.store();
  const platform = createPlatform({ store, clock: systemClock });
  const loaded = await platform.loadWorld(apiWorld());
  if (!loaded.ok) throw new Error(loaded.message);
  const tokens = new Map<TokenKey, string>();
  for (const key of Object.keys(AGENT) as (keyof typeof AGENT)[]) {
    if (key === 'retired') continue;
    const made = await platform.createToken(AGENT[key], `security ${key}`, { channel: 'cli' });
    if (!made.ok) throw new Error(made.message);
    tokens.set(key, made.value.token);
  }
  const serve = await startServe(db.url);
  const printed = await serve.waitForLog((l) => RUNNING.test(l.msg));
  const client: ApiClient = socketClient(RUNNING.exec(printed.msg)?.[1] ?? '');
  const audit = async (afterId = 0) => {
    const r = await platform.read.audit({ afterId, limit: 10_000 }, { channel: 'cli' });
    if (!r.ok) throw new Error(r.message);
    return r.value;
  };
  return {
    serve,
    store,
    platform,
    request: (as, request) =>
      client.request({ ...request, ...(as === null ? {} : { token: tokens.get(as) ?? '' }) }),
    async healthMs() {
      const started = performance.now();
      const res = await client.request({ path: '/health', timeoutMs: 60_000 });
      if (res.status !== 200) throw new Error(`/health answered ${res.status}: ${res.text}`);
      return performance.now() - started;
    },
    audit,
    auditMark: async () => (await audit()).at(-1)?.id ?? 0,
    async stop() {
      client.close();
      await killLeftovers();
      await db.drop();
    },
  };
}

/** The middle of `values` (the mean of the two middle ones for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
