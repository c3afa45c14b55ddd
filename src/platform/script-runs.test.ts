import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { baseWorld } from '../../test/support/simulate.js';
import { describeEachStore, describePostgres } from '../../test/support/stores.js';
import { createSimulatedClock } from '../clock.js';
import type { Executor } from '../storage/store.js';
import type { OperationContext } from './model.js';
import { createPlatform } from './platform.js';
import { queueRun } from './script-runs.js';

const API: OperationContext = { channel: 'api' };
const NOW_MS = Date.parse('2026-11-23T08:00:00Z');

/** Waits (bounded) until some session of this database waits on a row lock. */
async function untilSomeoneWaitsOnALock(db: Executor): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt++) {
    const { rows } = await sql<{ waiting: number }>`
      select count(*)::int as waiting from pg_stat_activity
      where datname = current_database() and wait_event_type = 'Lock'`.execute(db);
    if ((rows[0]?.waiting ?? 0) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error('no session came to wait on the lock');
}

describePostgres('a signal racing the end of its run', (kind) => {
  describe('the run finishes while the signal is being written', () => {
    it('tells the signaller no script is running, instead of failing', async () => {
      const [first, second] = await kind.openPair();
      try {
        const clock = createSimulatedClock(NOW_MS);
        // The default for a PostgreSQL store: lock rows (as a CLI-made platform gets too).
        const signaller = createPlatform({ store: second, clock });
        const loaded = await createPlatform({ store: first, clock }).loadWorld(baseWorld());
        if (!loaded.ok) throw new Error(loaded.message);
        const { id: contactId } = await signaller.startContact(
          { mediaType: 'Chat', direction: 'Inbound', state: 'Active' },
          API,
        );
        await queueRun(first.db, NOW_MS, contactId, 'Greeting', {}, API);

        let signaled: ReturnType<typeof signaller.signalContact> | undefined;
        // Another process finishes the run and has not committed yet.
        await first.db.transaction().execute(async (trx) => {
          await trx.deleteFrom('script_runs').where('contact_id', '=', contactId).execute();
          signaled = signaller.signalContact(contactId, ['late'], API);
          await untilSomeoneWaitsOnALock(trx);
        });
        const result = await signaled;
        expect(result).toMatchObject({ ok: false, code: 'NoScriptRunning' });
        const left = await first.db.selectFrom('script_run_signals').selectAll().execute();
        expect(left).toEqual([]);
      } finally {
        await first.close();
      }
    });
  });
});

describeEachStore('when the script-run queue next needs a look', (kind) => {
  it('ignores the WAIT a running run has left behind', async () => {
    const store = await kind.open();
    try {
      const platform = createPlatform({ store, clock: createSimulatedClock(NOW_MS) });
      const { id } = await platform.startContact(
        { mediaType: 'Chat', direction: 'Inbound', state: 'Active' },
        API,
      );
      await queueRun(store.db, NOW_MS, id, 'Greeting', {}, API);
      // It waited until a minute ago and is running again: only its lease says when to look.
      await store.db
        .updateTable('script_runs')
        .set({ status: 'running', resume_at: NOW_MS - 60_000, owner: 'a', lease_until: NOW_MS + 60_000 })
        .execute();
      expect(await platform.runs.nextDue()).toBe(NOW_MS + 60_000);
      await store.db
        .updateTable('script_runs')
        .set({ status: 'waiting', owner: null, lease_until: null })
        .execute();
      expect(await platform.runs.nextDue()).toBe(NOW_MS - 60_000);
    } finally {
      await store.close();
    }
  });
});
