import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../schema.js';

type Work<T> = (trx: Transaction<Database>) => Promise<T>;

interface Job {
  work: Work<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/**
 * Group commit for SQLite. With `synchronous = FULL` each commit waits for the disk (about a
 * millisecond), and better-sqlite3 waits synchronously, so one commit per request caps the whole
 * server near a thousand writes a second. Here transactions that arrive while others run share
 * the next commit, each inside its own savepoint: each is still all-or-nothing, and none is
 * answered before the commit that holds it is on disk.
 */
export function createGroupCommit(db: Kysely<Database>, maxBatch = 64) {
  const queue: Job[] = [];
  let draining = false;

  async function runBatch(batch: Job[]): Promise<void> {
    if (batch.length === 1) {
      const [job] = batch as [Job];
      await db.transaction().execute(job.work).then(job.resolve, job.reject);
      return;
    }
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    const trx = await db.startTransaction().execute();
    try {
      for (const job of batch) {
        const savepoint = await trx.savepoint('job').execute();
        try {
          const value = await job.work(savepoint);
          await savepoint.releaseSavepoint('job').execute();
          outcomes.push({ ok: true, value });
        } catch (error) {
          await savepoint.rollbackToSavepoint('job').execute();
          await savepoint.releaseSavepoint('job').execute();
          outcomes.push({ ok: false, error });
        }
      }
      await trx.commit().execute();
    } catch (error) {
      if (!trx.isCommitted && !trx.isRolledBack)
        await trx
          .rollback()
          .execute()
          .catch(() => {});
      for (const job of batch) job.reject(error);
      return;
    }
    batch.forEach((job, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) job.resolve(outcome.value);
      else job.reject(outcome?.error);
    });
  }

  async function drain(): Promise<void> {
    try {
      while (queue.length > 0) await runBatch(queue.splice(0, maxBatch));
    } finally {
      draining = false;
    }
  }

  return function transaction<T>(work: Work<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      queue.push({ work: work as Work<unknown>, resolve: resolve as (v: unknown) => void, reject });
      if (!draining) {
        draining = true;
        // Start after the I/O already waiting (other requests) has had its turn to join the batch.
        setImmediate(() => void drain());
      }
    });
  };
}
