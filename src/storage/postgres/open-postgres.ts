import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { migrateToLatest } from '../migrate.js';
import type { Database } from '../schema.js';
import type { Store } from '../store.js';
import { listen } from './listener.js';

const INT8 = 20;
const NUMERIC = 1700;

export interface PostgresStoreOptions {
  /** `postgres://user@host:port/database` */
  url: string;
  /** Schema to work in (created when missing); tests give each suite its own. Default `public`. */
  schema?: string;
  /** Pool size. Default 10. */
  maxConnections?: number;
  /** Hears of errors on idle connections (the database restarting); the pool replaces them. */
  onConnectionError?(error: Error): void;
}

/** Opens (and migrates) a PostgreSQL store. Several processes may open the same database at once. */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const schema = options.schema ?? 'public';
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: 5_000,
    ...(schema === 'public' ? {} : { options: `-c search_path=${schema}` }),
    // Ids, times (epoch ms) and counts fit in a double: read them as numbers, as SQLite does.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8 || oid === NUMERIC
          ? Number
          : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // Without a listener an idle connection's error (the server restarting) would crash the process.
  pool.on('error', (error) => options.onConnectionError?.(error));
  // The pool listens only to idle connections: one in use (mid-transaction) that loses its server
  // would emit an unhandled 'error' and crash the process. Its work fails instead, and is retried.
  pool.on('connect', (client) => client.on('error', () => {}));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const channel = `switchboard_${schema}`;
  try {
    if (schema !== 'public') await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
    await migrateToLatest(db as Kysely<unknown>, 'postgres', schema);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return {
    dialect: 'postgres',
    db,
    transaction: (work) => db.transaction().execute(work),
    async notify(message) {
      await sql`select pg_notify(${channel}, ${message})`.execute(db);
    },
    listen: (handler, trouble) =>
      listen({
        url: options.url,
        channel,
        onMessage: handler,
        onError: (error, retryInMs) => trouble?.onError?.(error, retryInMs),
        onReconnect: () => trouble?.onReconnect?.(),
      }),
    async continueIds(executor) {
      for (const table of ['contacts', 'scheduled_callbacks', 'audit_log', 'skills', 'agents']) {
        await sql`select setval(pg_get_serial_sequence(${table}, 'id'), coalesce((select max(id) from ${sql.table(table)}), 0) + 1, false)`.execute(
          executor,
        );
      }
    },
    close: () => db.destroy(),
  };
}
