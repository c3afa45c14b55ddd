import { afterEach, beforeEach, expect, it } from 'vitest';
import { systemClock } from '../src/clock.js';
import { createPlatform } from '../src/platform/platform.js';
import type { Store } from '../src/storage/store.js';
import { type ApiClient, type ApiResponse, socketClient } from './support/api-client.js';
import { describePostgres, freshPostgres, type TestDatabase } from './support/server-db.js';
import { killLeftovers, type ServeProcess, STOPPED, startServe, waitFor } from './support/server-process.js';

/**
 * Two `switchboard serve` processes on one PostgreSQL, hammered at once through both: contacts
 * created while 50 agents are Available (routing racing routing), agents' states changed
 * meanwhile, and the same Idempotency-Key sent to both processes at once. Races between processes
 * are expected outcomes: no request may answer 5xx, no agent may get two contacts, no key two
 * callbacks.
 */

const CHAT = 2002;
const CALLBACKS = 2001;
const ADMIN = 9000;
const AGENTS = Array.from({ length: 50 }, (_, i) => 3000 + i);
const CONTACTS = 400;
const KEYS = 25;

function world() {
  return {
    businessUnit: { timeZone: 'Europe/Berlin', defaultCountry: 'DE' },
    securityProfiles: [{ name: 'Admin', permissions: ['admin'] }],
    skills: [
      { id: CALLBACKS, name: 'Callbacks', mediaType: 'Phone', direction: 'Outbound' },
      { id: CHAT, name: 'Chat', mediaType: 'Chat', direction: 'Inbound' },
    ],
    agents: [
      { id: ADMIN, username: 'admin', securityProfile: 'Admin' },
      ...AGENTS.map((id) => ({ id, username: `agent${id}`, state: 'Available', skills: [CHAT] })),
    ],
  };
}

/** Runs `tasks` with at most `width` in flight. */
async function inFlight<T>(tasks: Array<() => Promise<T>>, width: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      for (let i = next++; i < tasks.length; i = next++) results[i] = await (tasks[i] as () => Promise<T>)();
    }),
  );
  return results;
}

describePostgres('two processes on one PostgreSQL under concurrent requests', () => {
  let db: TestDatabase & { name: string };
  let store: Store;
  let servers: ServeProcess[] = [];
  let clients: ApiClient[] = [];

  beforeEach(async () => {
    db = await freshPostgres();
    store = await db.store();
  });

  afterEach(async () => {
    for (const c of clients) c.close();
    clients = [];
    await killLeftovers();
    servers = [];
    await db.drop();
  });

  it('answers no 5xx, gives no agent two contacts and no key two callbacks', async () => {
    const platform = createPlatform({ store, clock: systemClock });
    const loaded = await platform.loadWorld(world());
    if (!loaded.ok) throw new Error(loaded.message);
    const created = await platform.createToken(ADMIN, 'race', { channel: 'cli' });
    if (!created.ok) throw new Error(created.message);
    const token = created.value.token;

    servers = await Promise.all([startServe(db.url), startServe(db.url)]);
    const running = /Switchboard is running at (http:\/\/\S+)/;
    for (const serve of servers) {
      const printed = await serve.waitForLog((l) => running.test(l.msg));
      clients.push(socketClient(running.exec(printed.msg)?.[1] ?? ''));
    }
    const via = (i: number) => clients[i % clients.length] as ApiClient;
    const call = (
      i: number,
      method: string,
      path: string,
      body?: unknown,
      headers?: Record<string, string>,
    ) => via(i).request({ method, path: `/api/v1${path}`, token, body, ...(headers ? { headers } : {}) });

    const tomorrow = new Date(Date.now() + 86_400_000).toISOString();
    const callback = (k: number) => ({
      phoneNumber: `+49301234${String(k).padStart(3, '0')}`,
      skillId: CALLBACKS,
      scheduleDate: tomorrow,
    });
    const tasks: Array<() => Promise<{ what: string; key?: number; response: ApiResponse }>> = [];
    for (let i = 0; i < CONTACTS; i++) {
      tasks.push(async () => ({
        what: 'create',
        response: await call(i, 'POST', '/contacts', { mediaType: 'Chat', skillId: CHAT }),
      }));
      // Every eighth request moves an agent out and back in, racing the routing of the creates.
      if (i % 8 === 0) {
        const agent = AGENTS[(i / 8) % AGENTS.length] as number;
        tasks.push(async () => ({
          what: 'state',
          response: await call(i + 1, 'PUT', `/agents/${agent}/state`, { state: 'Unavailable' }),
        }));
        tasks.push(async () => ({
          what: 'state',
          response: await call(i, 'PUT', `/agents/${agent}/state`, { state: 'Available' }),
        }));
      }
    }
    // The same key and body four times, through both processes at once; then the key with another body.
    for (let k = 0; k < KEYS; k++) {
      for (let n = 0; n < 4; n++) {
        tasks.push(async () => ({
          what: 'idempotent',
          key: k,
          response: await call(n, 'POST', '/scheduled-callbacks', callback(k), {
            'idempotency-key': `race-${k}`,
          }),
        }));
      }
    }
    // Interleave the kinds, so that they run at the same time.
    const shuffled = tasks
      .map((t, i) => ({ t, order: (i * 7919) % tasks.length }))
      .sort((a, b) => a.order - b.order);
    const results = await inFlight(
      shuffled.map((s) => s.t),
      40,
    );

    const failed = results.filter((r) => r.response.status >= 500);
    expect(failed.map((r) => `${r.what} ${r.response.status} ${r.response.text}`)).toEqual([]);
    expect(results.filter((r) => r.what === 'create').every((r) => r.response.status === 201)).toBe(true);
    expect(results.filter((r) => r.what === 'state').every((r) => r.response.status === 200)).toBe(true);
    for (let k = 0; k < KEYS; k++) {
      const answers = results.filter((r) => r.key === k).map((r) => r.response);
      expect(answers.map((a) => a.status)).toEqual([201, 201, 201, 201]);
      expect(new Set(answers.map((a) => (a.json as { callbackId: number }).callbackId)).size).toBe(1);
    }
    const reused = await call(0, 'POST', '/scheduled-callbacks', callback(999), {
      'idempotency-key': 'race-0',
    });
    expect(reused.status).toBe(422);
    const perKey = await store.db
      .selectFrom('scheduled_callbacks')
      .select((eb) => ['idempotency_key', eb.fn.countAll<number>().as('n')])
      .groupBy('idempotency_key')
      .execute();
    expect(perKey).toHaveLength(KEYS);
    expect(perKey.every((row) => Number(row.n) === 1)).toBe(true);

    // Every agent made Available (again), so routing must give each exactly one of the queued chats.
    // (An agent set Available while on a chat keeps that one and gets no second: today's rule.)
    await inFlight(
      AGENTS.map((agent, i) => () => call(i, 'PUT', `/agents/${agent}/state`, { state: 'Available' })),
      10,
    );
    const active = await waitFor(
      'every agent on a chat',
      async () => {
        const rows = await store.db
          .selectFrom('contacts')
          .select(['id', 'agent_id'])
          .where('state', '=', 'Active')
          .execute();
        return rows.length === AGENTS.length ? rows : undefined;
      },
      { timeoutMs: 10_000 },
    );
    expect(new Set(active.map((c) => Number(c.agent_id))).size).toBe(AGENTS.length);
    const queued = await store.db.selectFrom('queue_entries').select('contact_id').execute();
    expect(queued).toHaveLength(CONTACTS - AGENTS.length);

    for (const serve of servers) {
      expect(serve.logs.filter((l) => l.level >= 50)).toEqual([]);
      serve.kill('SIGTERM');
      expect(await serve.exited).toEqual({ code: 0, signal: null });
      expect(serve.logs.some(STOPPED)).toBe(true);
    }
  });
});
