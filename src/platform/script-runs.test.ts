import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { baseWorld } from '../../test/support/simulate.js';
import { describeEachStore, describePostgres } from '../../test/support/stores.js';
import { createSimulatedClock } from '../clock.js';
import type { Executor, Store } from '../storage/store.js';
import { saveBusinessUnit } from './business-unit.js';
import type { PlatformEvent } from './events.js';
import type { OperationContext } from './model.js';
import { createPlatform } from './platform.js';
import { queueRun } from './script-runs.js';

const API: OperationContext = { channel: 'api' };
const API_ADMIN: OperationContext = { channel: 'cli' };
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

describeEachStore('a run that keeps losing its lease (a crash loop)', (kind) => {
  const LEASE_MS = 60_000;

  async function crashLoopingRun(store: Store) {
    const clock = createSimulatedClock(NOW_MS);
    const platform = createPlatform({ store, clock });
    const loaded = await platform.loadWorld(baseWorld());
    if (!loaded.ok) throw new Error(loaded.message);
    await saveBusinessUnit(store.db, { runMaxLeaseExpiries: 2 });
    const { id } = await platform.startContact(
      { mediaType: 'Chat', direction: 'Inbound', state: 'Active' },
      API,
    );
    await queueRun(store.db, NOW_MS, id, 'Greeting', {}, API);
    const heard: PlatformEvent[] = [];
    platform.on((event) => heard.push(event));
    /** A process claims the run and dies holding it: its lease runs out. */
    const claimAndDie = async (owner: string) => {
      const claimed = await platform.runs.claim({ owner, leaseMs: LEASE_MS, limit: 10 });
      clock.advance(LEASE_MS + 1);
      return claimed;
    };
    const row = () =>
      store.db.selectFrom('script_runs').selectAll().where('contact_id', '=', id).executeTakeFirst();
    return { clock, platform, id, heard, claimAndDie, row };
  }

  it('counts each lease that ran out, and quarantines the run at runMaxLeaseExpiries instead of claiming it', async () => {
    const store = await kind.open();
    try {
      const { platform, id, heard, claimAndDie, row } = await crashLoopingRun(store);
      expect((await claimAndDie('first')).map((r) => r.contactId)).toEqual([id]);
      expect((await claimAndDie('second')).map((r) => r.contactId)).toEqual([id]);
      expect(await row()).toMatchObject({ lease_expiries: 1, quarantined_at: null });

      expect(await platform.runs.claim({ owner: 'third', leaseMs: LEASE_MS, limit: 10 })).toEqual([]);
      const quarantinedAt = NOW_MS + 2 * (LEASE_MS + 1);
      expect(await row()).toMatchObject({ lease_expiries: 2, owner: null, lease_until: null });
      expect(Number((await row())?.quarantined_at)).toBe(quarantinedAt);

      const contact = await platform.read.contact(id, API_ADMIN);
      expect(contact.ok && contact.value).toMatchObject({
        state: 'Ended',
        disconnectReason: 'ScriptQuarantined',
      });
      expect(heard.filter((e) => e.type === 'run.quarantined' || e.type === 'contact.ended')).toEqual([
        { type: 'run.quarantined', at: quarantinedAt, contactId: id, script: 'Greeting', leaseExpiries: 2 },
        expect.objectContaining({ type: 'contact.ended', contactId: id, reason: 'ScriptQuarantined' }),
      ]);
      const audit = (await platform.snapshot()).audit.filter((a) => a.targetId === String(id));
      expect(audit.map((a) => [a.action, a.actor])).toEqual([
        ['contact.started', 'anonymous'],
        ['run.quarantined', 'scheduler'],
        ['contact.ended', 'scheduler via Greeting'],
      ]);
      expect(audit[1]?.details).toMatchObject({ script: 'Greeting', leaseExpiries: 2 });

      // Never claimed again, nothing to wake for; the process that held it last cannot save it.
      expect(await platform.runs.nextDue()).toBeNull();
      expect(await platform.runs.claim({ owner: 'fourth', leaseMs: LEASE_MS, limit: 10 })).toEqual([]);
      expect(await platform.runs.finish(id, 'second')).toBe(false);
      expect(await row()).toBeDefined();
    } finally {
      await store.close();
    }
  });

  it('forgets the leases a run lost once it parks: restarts days apart are no crash loop', async () => {
    const store = await kind.open();
    try {
      const { platform, id, claimAndDie, row } = await crashLoopingRun(store);
      await claimAndDie('first');
      const [claimed] = await claimAndDie('second');
      expect(claimed?.contactId).toBe(id);
      expect(await row()).toMatchObject({ lease_expiries: 1 });
      const parked = {
        status: 'stopped' as const,
        resumeAt: null,
        snapshot: {},
        spent: claimed?.spent ?? { steps: 0, resumes: 0, cpuMs: 0 },
      };
      expect(await platform.runs.park(id, 'second', parked, [])).toBe(true);
      expect(await row()).toMatchObject({ lease_expiries: 0, quarantined_at: null });
    } finally {
      await store.close();
    }
  });

  it('keeps what the run has spent when it parks, and hands it to the next claim', async () => {
    const store = await kind.open();
    try {
      const { platform, id, clock } = await crashLoopingRun(store);
      await platform.runs.claim({ owner: 'a', leaseMs: LEASE_MS, limit: 10 });
      const spent = { steps: 12, resumes: 3, cpuMs: 4.2 };
      const parked = { status: 'waiting' as const, resumeAt: NOW_MS + 1_000, snapshot: {}, spent };
      expect(await platform.runs.park(id, 'a', parked, [])).toBe(true);
      clock.advance(1_000);
      const [claimed] = await platform.runs.claim({ owner: 'b', leaseMs: LEASE_MS, limit: 10 });
      // CPU is kept in whole milliseconds, rounded up: a budget is never undercounted.
      expect(claimed?.spent).toEqual({ steps: 12, resumes: 3, cpuMs: 5 });
    } finally {
      await store.close();
    }
  });
});

describePostgres('quarantining a run whose contact another transaction holds', (kind) => {
  it('passes it over without waiting for its contact (which comes first in the lock order), and quarantines it at the next claim', async () => {
    const [first, second] = await kind.openPair();
    try {
      const clock = createSimulatedClock(NOW_MS);
      const a = createPlatform({ store: first, clock });
      const b = createPlatform({ store: second, clock });
      const loaded = await a.loadWorld(baseWorld());
      if (!loaded.ok) throw new Error(loaded.message);
      await saveBusinessUnit(first.db, { runMaxLeaseExpiries: 1 });
      const { id } = await a.startContact({ mediaType: 'Chat', direction: 'Inbound', state: 'Active' }, API);
      await queueRun(first.db, NOW_MS, id, 'Greeting', {}, API);
      await a.runs.claim({ owner: 'died', leaseMs: 1_000, limit: 10 });
      clock.advance(1_001);

      await first.db.transaction().execute(async (trx) => {
        await trx.selectFrom('contacts').select('id').where('id', '=', id).forUpdate().execute();
        expect(await b.runs.claim({ owner: 'b', leaseMs: 1_000, limit: 10 })).toEqual([]);
      });
      const untouched = await first.db.selectFrom('script_runs').selectAll().executeTakeFirst();
      expect(untouched).toMatchObject({ quarantined_at: null, lease_expiries: 0, owner: 'died' });

      expect(await b.runs.claim({ owner: 'b', leaseMs: 1_000, limit: 10 })).toEqual([]);
      const contact = await b.read.contact(id, API_ADMIN);
      expect(contact.ok && contact.value.disconnectReason).toBe('ScriptQuarantined');
    } finally {
      await first.close();
    }
  });
});
