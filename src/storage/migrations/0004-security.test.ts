import { sql } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import { openAtMigration } from '../../../test/support/migrations.js';
import { describeEachStore } from '../../../test/support/stores.js';
import { migrateToLatest } from '../migrate.js';

describeEachStore('migration 0004 on data the previous version wrote', (kind) => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('gives old scripts no deployer permissions, old runs an ID, and leaves the old signing secret behind', async () => {
    const at = await openAtMigration(kind.name, '0003-invariants');
    close = at.close;
    const { db } = at;
    const exec = (text: string) => sql.raw(text).execute(db);
    await exec(
      `insert into business_unit (id, name, time_zone, default_country, callback_horizon_days, agent_wait_seconds, strict_phone_numbers, secret)
        values (1, 'BU', 'UTC', 'US', 365, 300, 0, 'old-secret')`,
    );
    await exec(`insert into scripts (name, body, updated_at) values ('s', '{}', 0)`);
    await exec(
      `insert into contacts (id, media_type, direction, state, created_at, updated_at) values (5001, 'Chat', 'Inbound', 'Active', 0, 0)`,
    );
    await exec(
      `insert into script_runs (contact_id, script_name, status, released, start_variables, created_at, updated_at)
        values (5001, 's', 'pending', 0, '{}', 0, 0)`,
    );

    expect(await migrateToLatest(db, kind.name, at.schema)).toEqual(['0004-security']);

    const script = await sql<{ deployed_by: string; deployer_permissions: string }>`
      select deployed_by, deployer_permissions from scripts`.execute(db);
    expect(script.rows).toEqual([
      { deployed_by: 'unknown (deployed before 0004)', deployer_permissions: '[]' },
    ]);
    const runs = await sql<{ run_id: string | null; steps: number; started_by: string }>`
      select run_id, steps, started_by from script_runs`.execute(db);
    expect(runs.rows[0]?.run_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(runs.rows[0]?.steps)).toBe(0);
    const keys = await sql<{ secret: string; retired_at: number | null }>`
      select secret, retired_at from security_keys`.execute(db);
    // A backup from before the upgrade holds the old secret: it signs nothing any more.
    expect(keys.rows).toEqual([]);
    const bu = await sql<{ run_max_steps: number; max_pending_signals: number }>`
      select run_max_steps, max_pending_signals from business_unit`.execute(db);
    expect(bu.rows.map((r) => [Number(r.run_max_steps), Number(r.max_pending_signals)])).toEqual([
      [1_000_000, 100],
    ]);
    const installation = await sql<{
      installation_id: string;
    }>`select installation_id from installation`.execute(db);
    expect(installation.rows).toHaveLength(1);
  });
});
