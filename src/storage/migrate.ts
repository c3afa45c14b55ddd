import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import * as platform from './migrations/0001-platform.js';
import * as server from './migrations/0002-server.js';
import type { Dialect } from './store.js';

/** Numbered migrations, bundled (not read from disk) so the compiled CLI finds them anywhere. */
function provider(dialect: Dialect): MigrationProvider {
  const all: Record<string, Migration> = {
    '0001-platform': { up: (db) => platform.up(db, dialect) },
    '0002-server': { up: (db) => server.up(db, dialect) },
  };
  return { getMigrations: async () => all };
}

/** Brings the schema up to date; returns the names applied. Throws when a migration fails. */
export async function migrateToLatest(
  db: Kysely<unknown>,
  dialect: Dialect,
  schema?: string,
): Promise<string[]> {
  // Kysely looks for its bookkeeping tables in every schema; naming ours keeps databases that
  // hold several Switchboard schemas (tests do) apart.
  const migrator = new Migrator({
    db,
    provider: provider(dialect),
    ...(schema === undefined ? {} : { migrationTableSchema: schema }),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
