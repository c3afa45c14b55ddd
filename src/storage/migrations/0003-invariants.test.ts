import { type Kysely, sql } from 'kysely';
import { afterEach, expect, it } from 'vitest';
import { openAtMigration } from '../../../test/support/migrations.js';
import { describeEachStore } from '../../../test/support/stores.js';
import { migrateTo } from '../migrate.js';

const run = (db: Kysely<unknown>, text: string) => sql.raw(text).execute(db);

describeEachStore('migration 0003 on data the previous version wrote', (kind) => {
  const dialect = kind.name;
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('splits start variables from snapshots, turns signals into rows, and then keeps its invariants', async () => {
    const at = await openAtMigration(dialect, '0002-server');
    close = at.close;
    const { db } = at;
    await run(
      db,
      `insert into skills (id, name, media_type, direction, active, script) values (2001, 'Callbacks', 'Phone', 'Outbound', 1, null)`,
    );
    await run(
      db,
      `insert into agents (id, username, first_name, last_name, active, state, state_since, security_profile, time_zone)
        values (1001, 'ana', '', '', 1, 'Available', 0, null, null)`,
    );
    await run(db, `insert into agent_skills (agent_id, skill_id) values (1001, 2001)`);
    for (const id of [5001, 5002, 5003]) {
      await run(
        db,
        `insert into contacts (id, media_type, direction, state, created_at, updated_at) values (${id}, 'Chat', 'Inbound', 'Active', 0, 0)`,
      );
    }
    const parked = JSON.stringify({
      outcome: 'stopped',
      variables: { x: '1' },
      released: false,
      releaseHandled: false,
      resumeAt: null,
      resumeNode: null,
    });
    const started = JSON.stringify({ start: { variables: { Order: '42' } } });
    const runRow = (contact: number, snapshot: string | null, signals: string) =>
      run(
        db,
        `insert into script_runs (contact_id, script_name, status, resume_at, snapshot, signals, released, owner, lease_until, created_at, updated_at)
          values (${contact}, 's', '${snapshot === null ? 'pending' : 'stopped'}', null, ${snapshot === null ? 'null' : `'${snapshot}'`}, '${signals}', 0, null, null, 0, 7)`,
      );
    await runRow(5001, started, '[]');
    await runRow(5002, parked, '[["a","b"],["c"]]');
    await runRow(5003, null, '[]');

    expect(await migrateTo(db, dialect, '0003-invariants', at.schema)).toEqual(['0003-invariants']);

    const runs = await sql<{ contact_id: number; start_variables: string | null; snapshot: string | null }>`
        select contact_id, start_variables, snapshot from script_runs order by contact_id`.execute(db);
    expect(runs.rows.map((r) => ({ ...r, contact_id: Number(r.contact_id) }))).toEqual([
      { contact_id: 5001, start_variables: '{"Order":"42"}', snapshot: null },
      { contact_id: 5002, start_variables: null, snapshot: parked },
      { contact_id: 5003, start_variables: '{}', snapshot: null },
    ]);
    const signals = await sql<{ contact_id: number; params: string }>`
        select contact_id, params from script_run_signals order by id`.execute(db);
    expect(signals.rows.map((s) => [Number(s.contact_id), JSON.parse(s.params)])).toEqual([
      [5002, ['a', 'b']],
      [5002, ['c']],
    ]);

    // The database now refuses what the platform never writes.
    if (dialect === 'sqlite') await run(db, 'pragma foreign_keys = on');
    await expect(run(db, `update contacts set state = 'Gone' where id = 5001`)).rejects.toThrow();
    await expect(run(db, `update agents set state = 'Sleeping' where id = 1001`)).rejects.toThrow();
    await expect(
      run(db, `insert into tokens (agent_id, token_hash, label, created_at) values (9999, 'h', 'x', 0)`),
    ).rejects.toThrow();
    await expect(
      run(db, `insert into agent_skills (agent_id, skill_id) values (1001, 9999)`),
    ).rejects.toThrow();
    // Skill IDs come from the database, after the largest given.
    const skill = await sql<{ id: number }>`
        insert into skills (name, media_type, direction, active) values ('Next', 'Chat', 'Inbound', 1) returning id`.execute(
      db,
    );
    expect(Number(skill.rows[0]?.id)).toBe(2002);
    // A run's signals go with it.
    await run(db, 'delete from script_runs where contact_id = 5002');
    expect((await sql`select id from script_run_signals`.execute(db)).rows).toEqual([]);
  });
});
