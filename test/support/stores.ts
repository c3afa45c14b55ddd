import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe } from 'vitest';
import { openPostgresStore } from '../../src/storage/postgres/open-postgres.js';
import { openSqliteStore } from '../../src/storage/sqlite/open-sqlite.js';
import type { Store } from '../../src/storage/store.js';

export const POSTGRES_URL =
  process.env.SWITCHBOARD_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';
const REQUIRED = process.env.SWITCHBOARD_REQUIRE_POSTGRES === '1';

async function probe(): Promise<string | null> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (e) {
    return (e as Error).message;
  } finally {
    await client.end().catch(() => {});
  }
}

const unreachable = await probe();
if (unreachable !== null) {
  if (REQUIRED)
    throw new Error(
      `PostgreSQL is required (SWITCHBOARD_REQUIRE_POSTGRES=1) but ${POSTGRES_URL} is unreachable: ${unreachable}`,
    );
  console.warn(
    `PostgreSQL tests skipped: ${POSTGRES_URL} is unreachable (${unreachable}); set SWITCHBOARD_TEST_POSTGRES to run them.`,
  );
}

/** A fresh PostgreSQL schema per store, dropped when the store closes. */
export async function openTestPostgres(): Promise<Store> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const store = await openPostgresStore({ url: POSTGRES_URL, schema, maxConnections: 4 });
  return {
    ...store,
    async close() {
      await store.db.schema.dropSchema(schema).ifExists().cascade().execute();
      await store.close();
    },
  };
}

/**
 * Two stores on one database, as two server processes have (on SQLite, one store twice: a file
 * has one writer at a time). Closing the first drops the database.
 */
async function openPostgresPair(): Promise<[Store, Store]> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const first = await openPostgresStore({ url: POSTGRES_URL, schema, maxConnections: 4 });
  const second = await openPostgresStore({ url: POSTGRES_URL, schema, maxConnections: 4 });
  return [
    {
      ...first,
      async close() {
        await second.close();
        await first.db.schema.dropSchema(schema).ifExists().cascade().execute();
        await first.close();
      },
    },
    { ...second, close: async () => {} },
  ];
}

export interface StoreKind {
  name: 'sqlite' | 'postgres';
  open(): Promise<Store>;
  openPair(): Promise<[Store, Store]>;
}

export const STORE_KINDS: StoreKind[] = [
  {
    name: 'sqlite',
    open: () => openSqliteStore(':memory:'),
    async openPair() {
      const store = await openSqliteStore(':memory:');
      return [store, { ...store, close: async () => {} }];
    },
  },
  { name: 'postgres', open: openTestPostgres, openPair: openPostgresPair },
];

/** Declares the suite once per real database (Kysely's habit: no mocks, every dialect). */
export function describeEachStore(title: string, suite: (kind: StoreKind) => void): void {
  for (const kind of STORE_KINDS) {
    const run = kind.name === 'postgres' && unreachable !== null ? describe.skip : describe;
    run(`${title} [${kind.name}]`, () => suite(kind));
  }
}

/** Declares a suite that only PostgreSQL can show: races between processes on row locks. */
export function describePostgres(title: string, suite: (kind: StoreKind) => void): void {
  const kind = STORE_KINDS.find((k) => k.name === 'postgres') as StoreKind;
  const run = unreachable !== null ? describe.skip : describe;
  run(`${title} [postgres]`, () => suite(kind));
}
