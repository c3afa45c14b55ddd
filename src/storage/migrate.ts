import {
  type Kysely,
  type Migration,
  type MigrationProvider,
  type MigrationResultSet,
  Migrator,
} from 'kysely';
import * as platform from './migrations/0001-platform.js';
import * as server from './migrations/0002-server.js';
import * as invariants from './migrations/0003-invariants.js';
import * as security from './migrations/0004-security.js';
import type { Dialect } from './store.js';

/** Numbered migrations, bundled (not read from disk) so the compiled CLI finds them anywhere. */
function provider(dialect: Dialect): MigrationProvider {
  const all: Record<string, Migration> = {
    '0001-platform': { up: (db) => platform.up(db, dialect) },
    '0002-server': { up: (db) => server.up(db, dialect) },
    '0003-invariants': { up: (db) => invariants.up(db, dialect) },
    '0004-security': { up: (db) => security.up(db, dialect) },
  };
  return { getMigrations: async () => all };
}

function migrator(db: Kysely<unknown>, dialect: Dialect, schema?: string) {
  // Kysely looks for its bookkeeping tables in every schema; naming ours keeps databases that
  // hold several Switchboard schemas (tests do) apart.
  return new Migrator({
    db,
    provider: provider(dialect),
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
}

async function applied(run: Promise<MigrationResultSet>): Promise<string[]> {
  const { error, results } = await run;
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Brings the schema up to date; returns the names applied. Throws when a migration fails. */
export function migrateToLatest(db: Kysely<unknown>, dialect: Dialect, schema?: string): Promise<string[]> {
  return applied(migrator(db, dialect, schema).migrateToLatest());
}

/** Brings the schema up to migration `name` and no further (tests of a later migration's data moves). */
export function migrateTo(
  db: Kysely<unknown>,
  dialect: Dialect,
  name: string,
  schema?: string,
): Promise<string[]> {
  return applied(migrator(db, dialect, schema).migrateTo(name));
}
