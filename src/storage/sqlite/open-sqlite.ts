import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  Kysely,
  SqliteAdapter,
  SqliteDialect,
  type SqliteDriver,
} from 'kysely';
import { migrateToLatest } from '../migrate.js';
import type { Database } from '../schema.js';
import type { Store } from '../store.js';
import { createGroupCommit } from './group-commit.js';

/** Opens (and migrates) a SQLite store: a file path, or `:memory:` for simulations and tests. */
export async function openSqliteStore(path: string): Promise<Store> {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SqliteDatabase(path);
  sqlite.pragma('journal_mode = WAL');
  // FULL: a committed transaction survives a power loss, not only a crash of the process.
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({
    dialect: new ImmediateSqliteDialect({ database: withStatementCache(sqlite) }),
  });
  const handlers = new Set<(message: string) => void>();
  // A migration may rebuild a table that others refer to: references are checked once it is done.
  sqlite.pragma('foreign_keys = OFF');
  await migrateToLatest(db as Kysely<unknown>, 'sqlite');
  sqlite.pragma('foreign_keys = ON');
  return {
    dialect: 'sqlite',
    db,
    transaction: createGroupCommit(db),
    // AUTOINCREMENT already continues after the largest id.
    continueIds: async () => {},
    // A SQLite file has one server process: notifications stay in it.
    notify: async (message) => {
      for (const handler of handlers) handler(message);
    },
    listen: async (handler) => {
      handlers.add(handler);
      // Another process (the CLI) writing the same file: PRAGMA data_version changes with each of
      // its commits, and reading it is cheap enough to do a few times a second.
      let version = sqlite.pragma('data_version', { simple: true });
      const timer = setInterval(() => {
        const current = sqlite.pragma('data_version', { simple: true });
        if (current !== version) {
          version = current;
          handler('changed');
        }
      }, 200);
      timer.unref();
      return async () => {
        clearInterval(timer);
        handlers.delete(handler);
      };
    },
    close: () => db.destroy(),
  };
}

/**
 * Kysely prepares every query anew; the same few hundred SQL texts repeat, so keep their
 * statements (a bounded cache: emptied when it grows past 1,000 texts).
 */
function withStatementCache(sqlite: SqliteDatabase.Database) {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      let statement = statements.get(sql);
      if (statement === undefined) {
        if (statements.size >= 1000) statements.clear();
        statement = sqlite.prepare(sql);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}

/**
 * Transactions take the write lock when they begin (`BEGIN IMMEDIATE`). A deferred BEGIN that
 * reads first and writes later cannot wait for another process's write under WAL: it fails at
 * once with "database is locked" instead of waiting out the busy timeout.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  // SQLite runs DDL inside a transaction: each migration, and its record, commits whole or not at all.
  override createAdapter(): DialectAdapter {
    return new (class extends SqliteAdapter {
      override get supportsTransactionalDdl() {
        return true;
      }
    })();
  }

  override createDriver(): Driver {
    const driver = super.createDriver() as SqliteDriver;
    driver.beginTransaction = async (connection: DatabaseConnection) => {
      await connection.executeQuery(CompiledQuery.raw('begin immediate'));
    };
    return driver;
  }
}
