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
  /** Tells every process sharing the database (this one too) that there may be work. */
  notify(message: string): Promise<void>;
  /**
   * Calls `handler` for each notification until the returned function is called. `trouble` hears
   * of a lost connection (it comes back by itself) and of its return, when messages may have been missed.
   */
  listen(handler: (message: string) => void, trouble?: ListenTrouble): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface ListenTrouble {
  onError?(error: Error, retryInMs: number): void;
  onReconnect?(): void;
}

export type Executor = Kysely<Database> | Transaction<Database>;
