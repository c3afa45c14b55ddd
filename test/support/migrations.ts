import { randomBytes } from 'node:crypto';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { migrateTo } from '../../src/storage/migrate.js';
import type { Dialect } from '../../src/storage/store.js';
import { POSTGRES_URL } from './stores.js';

/** A database at migration `name`, as a server of that version left it. */
export async function openAtMigration(dialect: Dialect, name: string) {
  if (dialect === 'sqlite') {
    const db = new Kysely<unknown>({
      dialect: new SqliteDialect({ database: new SqliteDatabase(':memory:') }),
    });
    await migrateTo(db, 'sqlite', name);
    return { db, schema: undefined, close: () => db.destroy() };
  }
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2, options: `-c search_path=${schema}` });
  const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  await sql`create schema ${sql.id(schema)}`.execute(db);
  await migrateTo(db, 'postgres', name, schema);
  return {
    db,
    schema,
    async close() {
      await sql`drop schema ${sql.id(schema)} cascade`.execute(db);
      await db.destroy();
    },
  };
}
