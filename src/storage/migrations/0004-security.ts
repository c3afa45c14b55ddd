import { randomUUID } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../store.js';

/**
 * What the security model needs (issue 8): who deployed a script and with which permissions (a
 * script may only act as an agent within them), who started a run and its ID (security-user
 * handles are bound to one run), per-run budgets already spent and lease expiries (a crash loop
 * is quarantined), the business unit's budget settings, signing keys that can be rotated, and
 * this installation's ID (handles from another installation are refused). The business unit's old
 * secret is not carried over: every backup taken before holds it, and the handles it signed (su1)
 * are refused anyway; the first handle issued makes a fresh key.
 *
 * A script deployed before this migration has no recorded deployer: it gets no permissions, so
 * its SETSECURITYUSER fails until it is deployed again by someone who holds them.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const time = dialect === 'postgres' ? 'bigint' : 'integer';
  const serial = dialect === 'postgres' ? 'bigserial' : 'integer';

  await db.schema
    .alterTable('scripts')
    .addColumn('deployed_by', 'text', (c) => c.notNull().defaultTo('unknown (deployed before 0004)'))
    .execute();
  await db.schema
    .alterTable('scripts')
    .addColumn('deployer_permissions', 'text', (c) => c.notNull().defaultTo('[]'))
    .execute();

  const runs = () => db.schema.alterTable('script_runs');
  await runs().addColumn('run_id', 'text').execute();
  await runs()
    .addColumn('started_by', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();
  for (const counter of ['steps', 'resumes', 'cpu_ms', 'lease_expiries']) {
    await runs()
      .addColumn(counter, 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
  }
  await runs().addColumn('quarantined_at', time).execute();
  const { rows } = await sql<{ contact_id: number }>`select contact_id from script_runs`.execute(db);
  for (const row of rows) {
    await sql`update script_runs set run_id = ${randomUUID()} where contact_id = ${row.contact_id}`.execute(
      db,
    );
  }

  const budgets: Array<[string, number]> = [
    ['run_cpu_ms_per_event', 1_000],
    ['run_cpu_ms_total', 30_000],
    ['run_max_steps', 1_000_000],
    ['run_max_resumes', 10_000],
    ['run_max_lease_expiries', 3],
    ['max_pending_signals', 100],
    ['handle_lifetime_seconds', 86_400],
  ];
  for (const [name, value] of budgets) {
    await db.schema
      .alterTable('business_unit')
      .addColumn(name, 'integer', (c) => c.notNull().defaultTo(value))
      .execute();
  }

  // Keys that sign security-user handles; the newest unretired one signs, every unretired one verifies.
  await db.schema
    .createTable('security_keys')
    .addColumn('id', serial, (c) =>
      dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('retired_at', time)
    .execute();

  await db.schema
    .createTable('installation')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('installation_id', 'text', (c) => c.notNull())
    .execute();
  await sql`insert into installation (id, installation_id) values (1, ${randomUUID()})`.execute(db);
}
