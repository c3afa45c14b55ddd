import type { Kysely, Transaction } from 'kysely';
import type { Database } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

/**
 * The store contract. Everything outside `sqlite/` and `postgres/` speaks Kysely to `db` and
 * asks the store only for what must differ between databases.
 */
export interface Store {
  readonly dialect: Dialect;
  readonly db: Kysely<Database>;
  /** Runs `work` in one transaction: all of it commits or none of it does. */
  transaction<T>(work: (trx: Transaction<Database>) => Promise<T>): Promise<T>;
  /** After rows were inserted with explicit ids (a world fixture): generated ids continue after them. */
  continueIds(db: Executor): Promise<void>;
  close(): Promise<void>;
}

export type Executor = Kysely<Database> | Transaction<Database>;
