import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import pg from 'pg';
import { describe } from 'vitest';
import { openPostgresStore } from '../../src/storage/postgres/open-postgres.js';
import { openSqliteStore } from '../../src/storage/sqlite/open-sqlite.js';
import type { Store } from '../../src/storage/store.js';
import { POSTGRES_URL } from './stores.js';

/** A database of its own for one test, named the way `--db` takes it. */
export interface TestDatabase {
  kind: 'sqlite' | 'postgres';
  /** What to pass as `--db`. */
  url: string;
  /** A store on the same database, opened (and migrated) on first use; for reading results. */
  store(): Promise<Store>;
  /** Closes the store and removes the database. */
  drop(): Promise<void>;
}

/** A fresh SQLite file in a temporary folder. */
export function freshSqlite(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-serve-'));
  const path = join(dir, 'switchboard.db');
  let opened: Promise<Store> | undefined;
  return {
    kind: 'sqlite',
    url: path,
    store: () => {
      opened ??= openSqliteStore(path);
      return opened;
    },
    async drop() {
      if (opened) await (await opened).close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The URL of the test server with another database name (and optionally another port). */
export function postgresUrl(database: string, port?: number): string {
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${database}`;
  if (port !== undefined) url.port = String(port);
  return url.toString();
}

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** A fresh PostgreSQL database (the CLI takes a URL, so a database rather than a schema), dropped after. */
export async function freshPostgres(): Promise<TestDatabase & { name: string }> {
  const name = `sb_${randomBytes(6).toString('hex')}`;
  await admin((c) => c.query(`create database ${name}`));
  const url = postgresUrl(name);
  let opened: Promise<Store> | undefined;
  return {
    kind: 'postgres',
    name,
    url,
    store: () => {
      opened ??= openPostgresStore({ url, maxConnections: 3 });
      return opened;
    },
    async drop() {
      if (opened) await (await opened).close().catch(() => {});
      await admin((c) => c.query(`drop database if exists ${name} with (force)`));
    },
  };
}

export const freshDatabase = (kind: 'sqlite' | 'postgres') =>
  kind === 'sqlite' ? Promise.resolve(freshSqlite()) : freshPostgres();

/** Ends every other connection to `database` (what a database restart or a network cut does to them). */
export async function terminateBackends(database: string): Promise<number> {
  return admin(async (c) => {
    const r = await c.query(
      'select pg_terminate_backend(pid) as gone from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
      [database],
    );
    return r.rowCount ?? 0;
  });
}

/**
 * Inserts `count` Scheduled callbacks for `skillId`, due from `dueFrom` spread evenly over
 * `spreadMs`, in a few set-based statements (faster than `seed` for thousands).
 */
export async function insertCallbacks(
  store: Store,
  options: { count: number; skillId: number; dueFrom: number; spreadMs?: number },
): Promise<void> {
  const { count, skillId, dueFrom } = options;
  const spread = options.spreadMs ?? 0;
  const now = Date.now();
  const rows = Array.from({ length: count }, (_, i) => ({
    first_name: 'Test',
    last_name: `Customer ${i}`,
    phone_number: `+49301234${String(i).padStart(5, '0')}`,
    skill_id: skillId,
    target_agent_id: null,
    due_at: dueFrom + (count > 1 ? Math.floor((spread * i) / (count - 1)) : 0),
    time_zone: 'Europe/Berlin',
    notes: '',
    state: 'Scheduled',
    contact_id: null,
    created_by: null,
    created_at: now,
    updated_at: now,
  }));
  for (let i = 0; i < rows.length; i += 500) {
    await store.db
      .insertInto('scheduled_callbacks')
      .values(rows.slice(i, i + 500))
      .execute();
  }
}

/**
 * For running servers: inserts callbacks due from `startInMs` from now, spread over `spreadMs`,
 * and tells the servers (PostgreSQL: NOTIFY; SQLite: they see the commit through data_version).
 */
export async function addCallbacks(
  store: Store,
  options: { count: number; skillId: number; startInMs: number; spreadMs: number },
): Promise<void> {
  const { startInMs, ...rest } = options;
  await insertCallbacks(store, { ...rest, dueFrom: Date.now() + startInMs });
  await store.notify('wake');
}

export interface DispatchReport {
  callbacks: number;
  /** Callbacks by state. */
  states: Record<string, number>;
  /** Contacts created by a dispatch (callback_id set). */
  contacts: number;
  /** Callback ids with more than one contact. */
  duplicated: number[];
  /** Dispatched (not Scheduled, not Canceled) callbacks without a contact. */
  lost: number[];
  /** Callbacks whose `contact_id` is not the contact that carries their id. */
  mismatched: number[];
  /** `callback.dispatched` audit entries, and callback ids that have more than one. */
  audited: number;
  auditedTwice: string[];
}

/** Counts, from the database, how each callback was dispatched. */
export async function dispatchReport(store: Store): Promise<DispatchReport> {
  const db = store.db;
  const states = await db
    .selectFrom('scheduled_callbacks')
    .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('state')
    .execute();
  const duplicated = await db
    .selectFrom('contacts')
    .select('callback_id')
    .where('callback_id', 'is not', null)
    .groupBy('callback_id')
    .having((eb) => eb.fn.countAll(), '<>', 1)
    .execute();
  const contacts = await db
    .selectFrom('contacts')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('callback_id', 'is not', null)
    .executeTakeFirstOrThrow();
  const lost = await db
    .selectFrom('scheduled_callbacks')
    .select('id')
    .where('state', 'not in', ['Scheduled', 'Canceled'])
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('contacts')
            .select('contacts.id')
            .whereRef('contacts.callback_id', '=', 'scheduled_callbacks.id'),
        ),
      ),
    )
    .execute();
  const mismatched = await db
    .selectFrom('scheduled_callbacks')
    .leftJoin('contacts', 'contacts.id', 'scheduled_callbacks.contact_id')
    .select('scheduled_callbacks.id')
    .where('scheduled_callbacks.state', 'not in', ['Scheduled', 'Canceled'])
    .where((eb) =>
      eb.or([
        eb('contacts.id', 'is', null),
        eb('contacts.callback_id', 'is', null),
        eb('contacts.callback_id', '!=', eb.ref('scheduled_callbacks.id')),
      ]),
    )
    .execute();
  const audit = await db
    .selectFrom('audit_log')
    .select(['target_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('action', '=', 'callback.dispatched')
    .groupBy('target_id')
    .execute();
  const byState: Record<string, number> = {};
  for (const s of states) byState[s.state] = Number(s.n);
  return {
    callbacks: Object.values(byState).reduce((a, b) => a + b, 0),
    states: byState,
    contacts: Number(contacts.n),
    duplicated: duplicated.map((r) => Number(r.callback_id)),
    lost: lost.map((r) => Number(r.id)),
    mismatched: mismatched.map((r) => Number(r.id)),
    audited: audit.reduce((a, r) => a + Number(r.n), 0),
    auditedTwice: audit.filter((r) => Number(r.n) !== 1).map((r) => r.target_id),
  };
}

/** How many callbacks are no longer Scheduled (dispatched or canceled). */
export async function countDispatched(store: Store): Promise<number> {
  const row = await store.db
    .selectFrom('scheduled_callbacks')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('state', '!=', 'Scheduled')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Resolves when the store answers a query. */
export async function ping(store: Store): Promise<void> {
  await sql`select 1`.execute(store.db);
}

/**
 * A TCP proxy in front of PostgreSQL: `cut()` drops every connection and refuses new ones (the
 * database unreachable), `restore()` accepts them again on the same port.
 */
export async function openProxy(target: { host: string; port: number }) {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        const upstream = new Socket();
        sockets.add(client);
        sockets.add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
        upstream.connect(target.port, target.host, () => {
          client.pipe(upstream);
          upstream.pipe(client);
        });
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        const address = s.address();
        if (address && typeof address === 'object') port = address.port;
        server = s;
        resolve();
      });
    });
  await listen();
  return {
    get port() {
      return port;
    },
    /** Drops every open connection and refuses new ones. */
    async cut() {
      const s = server;
      server = undefined;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    /** Accepts connections again, on the same port. */
    restore: () => listen(),
    async close() {
      const s = server;
      server = undefined;
      for (const socket of sockets) socket.destroy();
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}

async function reachable(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}
// stores.ts has already said why when it is not (and failed when SWITCHBOARD_REQUIRE_POSTGRES=1).
const postgresReachable = await reachable();

/** Declares a suite that needs PostgreSQL; skipped, as `describeEachStore` skips, when it is unreachable. */
export function describePostgres(title: string, suite: () => void): void {
  describe.skipIf(!postgresReachable)(`${title} [postgres]`, suite);
}
