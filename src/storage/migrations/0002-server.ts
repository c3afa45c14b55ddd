import type { Kysely } from 'kysely';
import type { Dialect } from '../store.js';

/** Deployed scripts, the script-run work queue, and bearer tokens. */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const time = dialect === 'postgres' ? 'bigint' : 'integer';
  const id = dialect === 'postgres' ? 'bigint' : 'integer';
  const serial = dialect === 'postgres' ? 'bigserial' : 'integer';

  await db.schema
    .createTable('scripts')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .execute();

  // One row per contact whose script is not finished. Any process may claim a runnable row:
  // pending (not started), waiting with resume_at due, or parked with a signal or release to deliver.
  await db.schema
    .createTable('script_runs')
    .addColumn('contact_id', id, (c) => c.primaryKey())
    .addColumn('script_name', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('resume_at', time)
    .addColumn('snapshot', 'text')
    .addColumn('signals', 'text', (c) => c.notNull())
    .addColumn('released', 'integer', (c) => c.notNull())
    .addColumn('owner', 'text')
    .addColumn('lease_until', time)
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('script_runs_due').on('script_runs').columns(['status', 'resume_at']).execute();

  await db.schema
    .createTable('tokens')
    .addColumn('id', serial, (c) =>
      dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('agent_id', id, (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('label', 'text', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('revoked_at', time)
    .execute();

  // A retried create with the same Idempotency-Key (per agent) finds the callback it made.
  await db.schema.alterTable('scheduled_callbacks').addColumn('idempotency_key', 'text').execute();
  await db.schema.alterTable('scheduled_callbacks').addColumn('request_hash', 'text').execute();
  await db.schema
    .createIndex('callbacks_idempotency')
    .on('scheduled_callbacks')
    .columns(['created_by', 'idempotency_key'])
    .unique()
    .execute();

  // The scheduler asks for the next target wait to run out at every turn: answered by an index
  // over the few targeted entries, not a scan of the whole queue.
  await db.schema
    .createIndex('queue_entries_target_until')
    .on('queue_entries')
    .column('target_until')
    .where('target_until', 'is not', null)
    .execute();

  // The contact a dispatched callback became is found from the contact's side.
  await db.schema.createIndex('contacts_by_callback').on('contacts').columns(['callback_id']).execute();
}
