import { randomUUID } from 'node:crypto';
import type { Executor } from '../storage/store.js';
import { describeActor, recordAudit } from './audit.js';
import { recordEvents } from './events.js';
import { type OperationContext, SCHEDULER } from './model.js';

/**
 * The script-run work queue, and the only code that reads or writes it. One `script_runs` row
 * per contact whose script has not finished; any server process may claim a runnable row, run
 * it until it ends or parks, and save or finish it. Signals wait as rows of
 * `script_run_signals`, delivered in order; a release (the contact ended) is a flag on the run.
 *
 * Status: `pending` (to start), `running` (a process holds it until `lease_until`), `waiting`
 * (at a WAIT until `resume_at`), `stopped` (at STOP, until a signal or the release). A process
 * working through a slow batch renews the lease on what it has not reached yet.
 *
 * A run whose lease ran out too often (a crash loop: every process that takes it dies or stalls)
 * is quarantined: `quarantined_at` set, never claimed again.
 */

/** What a run has spent of its budgets over its life (business-unit settings; the runtime enforces them). */
export interface RunSpent {
  /** Actions run. */
  steps: number;
  /** Times it went on after a WAIT or was resumed by a signal. */
  resumes: number;
  /** Milliseconds the run computed (not what it awaited). */
  cpuMs: number;
}

/** A run as a process claimed it: what to start with, or where it was parked, and what it is owed. */
export interface ClaimedRun {
  contactId: number;
  scriptName: string;
  /** Variables visible from BEGIN (the API's `variables`); null once the run has started. */
  startVariables: Record<string, unknown> | null;
  /** The parked run as the runtime saved it; null until it first parks. */
  parked: unknown | null;
  /** The contact ended: the run owes its ONRELEASE. */
  released: boolean;
  /** Signals waiting to be delivered, oldest first. */
  signals: Array<{ id: number; params: string[] }>;
  /** Spent before this claim, as saved when the run last parked. */
  spent: RunSpent;
}

/** A run taken out of the queue for a crash loop; its contact is still to be ended (by the caller). */
export interface QuarantinedRun {
  contactId: number;
  scriptName: string;
  leaseExpiries: number;
}

/**
 * Queues a contact's script to start: inserted in the caller's transaction, so the contact never
 * exists without its script.
 */
export async function queueRun(
  db: Executor,
  now: number,
  contactId: number,
  scriptName: string,
  startVariables: Record<string, unknown>,
  startedBy: OperationContext,
): Promise<void> {
  await db
    .insertInto('script_runs')
    .values({
      contact_id: contactId,
      run_id: randomUUID(),
      script_name: scriptName,
      status: 'pending',
      resume_at: null,
      start_variables: JSON.stringify(startVariables),
      // Who started the contact in its script: a security user the script assumes is traced back to it.
      started_by: JSON.stringify({ actor: describeActor(startedBy), channel: startedBy.channel }),
      snapshot: null,
      released: 0,
      owner: null,
      lease_until: null,
      created_at: now,
      updated_at: now,
    })
    .execute();
  recordEvents(db, [{ type: 'run.queued', at: now, contactId, script: scriptName }]);
}

/** The contact ended: its run, wherever it is, owes an ONRELEASE. True when it has a run. */
export async function releaseRun(db: Executor, now: number, contactId: number): Promise<boolean> {
  const released = await db
    .updateTable('script_runs')
    .set({ released: 1, updated_at: now })
    .where('contact_id', '=', contactId)
    .executeTakeFirst();
  return Number(released.numUpdatedRows) > 0;
}

/**
 * Leaves a signal for the contact's run, unless the contact has no script running or `maxPending`
 * signals already wait for it. With `lockRows` (PostgreSQL) the run is held (FOR NO KEY UPDATE)
 * until the signal is written, so a run finishing at the same moment either waits for the signal
 * or is gone first — never a signal without its run.
 */
export async function signalRun(
  db: Executor,
  now: number,
  contactId: number,
  params: readonly string[],
  options: { lockRows: boolean; maxPending: number },
): Promise<'sent' | 'noRun' | 'full'> {
  let query = db.selectFrom('script_runs').select('contact_id').where('contact_id', '=', contactId);
  // Signallers of one run take turns, so that two at once cannot both pass the count below.
  if (options.lockRows) query = query.forNoKeyUpdate();
  const run = await query.executeTakeFirst();
  if (!run) return 'noRun';
  const pending = await db
    .selectFrom('script_run_signals')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('contact_id', '=', contactId)
    .executeTakeFirstOrThrow();
  if (Number(pending.n) >= options.maxPending) return 'full';
  await db
    .insertInto('script_run_signals')
    .values({ contact_id: contactId, params: JSON.stringify(params.slice(0, 9)), created_at: now })
    .execute();
  return 'sent';
}

export interface ClaimOptions {
  /** Names the claiming process. */
  owner: string;
  /** How long the run is the owner's before another process may take it over. */
  leaseMs: number;
  limit: number;
  /** Row locks (PostgreSQL, several processes claim at once). */
  lockRows: boolean;
  /** Lease expiries after which a run is quarantined instead of claimed (the business unit's runMaxLeaseExpiries). */
  maxLeaseExpiries: number;
}

/**
 * Claims what can run now: runs to start, WAITs that are over, parked runs owed a release, STOPs
 * with a signal, and runs whose owner's lease ran out (it died). A WAIT is not interrupted by a
 * signal: the signal waits until the run parks at STOP.
 *
 * A run taken over from an expired lease counts a lease expiry; the one that reaches
 * `maxLeaseExpiries` is quarantined instead, with an audit entry and a `run.quarantined` event,
 * and returned for the caller to end its contact (contacts.ts, which imports this module) in the
 * same transaction. With `lockRows` its contact is then locked without waiting (SKIP LOCKED):
 * this transaction already holds the run, which comes after the contact in the lock order, so it
 * must never wait for the contact; a contact another transaction holds is left for the next claim.
 */
export async function claimRuns(
  db: Executor,
  now: number,
  options: ClaimOptions,
): Promise<{ claimed: ClaimedRun[]; quarantined: QuarantinedRun[] }> {
  let runnable = db
    .selectFrom('script_runs')
    .selectAll()
    .where('quarantined_at', 'is', null)
    .where((eb) =>
      eb.or([
        eb('status', '=', 'pending'),
        eb.and([eb('status', '=', 'waiting'), eb('resume_at', '<=', now)]),
        eb.and([eb('status', 'in', ['waiting', 'stopped']), eb('released', '=', 1)]),
        eb.and([
          eb('status', '=', 'stopped'),
          eb.exists(
            eb
              .selectFrom('script_run_signals')
              .select('script_run_signals.id')
              .whereRef('script_run_signals.contact_id', '=', 'script_runs.contact_id'),
          ),
        ]),
        eb.and([eb('status', '=', 'running'), eb('lease_until', '<', now)]),
      ]),
    )
    .orderBy('updated_at')
    .limit(options.limit);
  if (options.lockRows) runnable = runnable.forUpdate().skipLocked();
  const found = await runnable.execute();
  const expired = new Set(found.filter((r) => r.status === 'running').map((r) => Number(r.contact_id)));
  const crashLooping = found.filter(
    (r) => expired.has(Number(r.contact_id)) && r.lease_expiries + 1 >= options.maxLeaseExpiries,
  );
  const quarantined = await quarantineRuns(db, now, crashLooping, options.lockRows);
  // None of them is claimed: quarantined now, or left until its contact can be locked.
  const notClaimed = new Set(crashLooping.map((r) => Number(r.contact_id)));
  const rows = found.filter((r) => !notClaimed.has(Number(r.contact_id)));
  if (rows.length === 0) return { claimed: [], quarantined };
  const ids = rows.map((r) => Number(r.contact_id));
  await db
    .updateTable('script_runs')
    .set({ status: 'running', owner: options.owner, lease_until: now + options.leaseMs, updated_at: now })
    .where('contact_id', 'in', ids)
    .execute();
  const takenOver = ids.filter((id) => expired.has(id));
  if (takenOver.length > 0)
    await db
      .updateTable('script_runs')
      .set((eb) => ({ lease_expiries: eb('lease_expiries', '+', 1) }))
      .where('contact_id', 'in', takenOver)
      .execute();
  const signals = await db
    .selectFrom('script_run_signals')
    .select(['id', 'contact_id', 'params'])
    .where('contact_id', 'in', ids)
    .orderBy('id')
    .execute();
  const claimed = rows.map((r) => ({
    contactId: Number(r.contact_id),
    scriptName: r.script_name,
    startVariables:
      r.snapshot === null ? (JSON.parse(r.start_variables ?? '{}') as Record<string, unknown>) : null,
    parked: r.snapshot === null ? null : (JSON.parse(r.snapshot) as unknown),
    released: r.released === 1,
    signals: signals
      .filter((s) => Number(s.contact_id) === Number(r.contact_id))
      .map((s) => ({ id: Number(s.id), params: JSON.parse(s.params) as string[] })),
    spent: { steps: Number(r.steps), resumes: Number(r.resumes), cpuMs: Number(r.cpu_ms) },
  }));
  return { claimed, quarantined };
}

/**
 * Takes crash-looping runs out of the queue for good: never claimed again, kept as a record. With
 * `lockRows`, only those whose contact could be locked at once; the others wait for a later claim.
 */
async function quarantineRuns(
  db: Executor,
  now: number,
  runs: ReadonlyArray<{ contact_id: number; script_name: string; lease_expiries: number }>,
  lockRows: boolean,
): Promise<QuarantinedRun[]> {
  if (runs.length === 0) return [];
  let ids = runs.map((r) => Number(r.contact_id));
  if (lockRows) {
    const locked = await db
      .selectFrom('contacts')
      .select('id')
      .where('id', 'in', ids)
      .forUpdate()
      .skipLocked()
      .execute();
    const lockedIds = new Set(locked.map((c) => Number(c.id)));
    ids = ids.filter((id) => lockedIds.has(id));
    if (ids.length === 0) return [];
  }
  await db
    .updateTable('script_runs')
    .set((eb) => ({
      quarantined_at: now,
      lease_expiries: eb('lease_expiries', '+', 1),
      owner: null,
      lease_until: null,
      updated_at: now,
    }))
    .where('contact_id', 'in', ids)
    .execute();
  const quarantined = runs
    .filter((r) => ids.includes(Number(r.contact_id)))
    .map((r) => ({
      contactId: Number(r.contact_id),
      scriptName: r.script_name,
      leaseExpiries: r.lease_expiries + 1,
    }));
  recordEvents(
    db,
    quarantined.map((q) => ({
      type: 'run.quarantined' as const,
      at: now,
      contactId: q.contactId,
      script: q.scriptName,
      leaseExpiries: q.leaseExpiries,
    })),
  );
  await recordAudit(
    db,
    now,
    SCHEDULER,
    quarantined.map((q) => ({
      action: 'run.quarantined',
      targetType: 'contact' as const,
      targetId: q.contactId,
      details: {
        script: q.scriptName,
        leaseExpiries: q.leaseExpiries,
        reason: `its lease ran out ${q.leaseExpiries} times (runMaxLeaseExpiries): every process that ran it died or stalled`,
      },
    })),
  );
  return quarantined;
}

/**
 * Extends the lease on runs this owner still holds (a batch that takes a while to work through);
 * returns the ones it still holds — a run whose lease ran out may have been taken over.
 */
export async function renewRuns(
  db: Executor,
  now: number,
  contactIds: readonly number[],
  owner: string,
  leaseMs: number,
): Promise<number[]> {
  if (contactIds.length === 0) return [];
  const renewed = await db
    .updateTable('script_runs')
    .set({ lease_until: now + leaseMs })
    .where('contact_id', 'in', contactIds)
    .where('owner', '=', owner)
    .where('status', '=', 'running')
    .returning('contact_id')
    .execute();
  return renewed.map((r) => Number(r.contact_id));
}

/**
 * Saves a run that parked again, with the signals it consumed removed; the release flag stays as
 * it is (a release that arrived meanwhile is delivered at the next claim). False when another
 * process took the run over meanwhile (this one's lease ran out): its result is dropped.
 */
export async function parkRun(
  db: Executor,
  now: number,
  contactId: number,
  owner: string,
  parked: { status: 'waiting' | 'stopped'; resumeAt: number | null; snapshot: unknown; spent: RunSpent },
  consumedSignals: readonly number[],
): Promise<boolean> {
  const saved = await db
    .updateTable('script_runs')
    .set({
      status: parked.status,
      resume_at: parked.resumeAt,
      snapshot: JSON.stringify(parked.snapshot),
      start_variables: null,
      // What the run has spent in all, this claim included: its budgets go on from there.
      steps: parked.spent.steps,
      resumes: parked.spent.resumes,
      cpu_ms: Math.ceil(parked.spent.cpuMs),
      // It parked: whatever lost it its lease before was not this run looping on a crash.
      lease_expiries: 0,
      owner: null,
      lease_until: null,
      updated_at: now,
    })
    .where('contact_id', '=', contactId)
    .where('owner', '=', owner)
    .executeTakeFirst();
  if (Number(saved.numUpdatedRows) !== 1) return false;
  if (consumedSignals.length > 0)
    await db.deleteFrom('script_run_signals').where('id', 'in', consumedSignals).execute();
  return true;
}

/** Removes a finished run (its unread signals go with it); false when another process owns it now. */
export async function finishRun(db: Executor, contactId: number, owner: string): Promise<boolean> {
  const removed = await db
    .deleteFrom('script_runs')
    .where('contact_id', '=', contactId)
    .where('owner', '=', owner)
    .executeTakeFirst();
  return Number(removed.numDeletedRows) === 1;
}

/** When a run next becomes runnable by time alone (a WAIT ending, a lease running out), or null. */
export async function nextRunDue(db: Executor): Promise<number | null> {
  const row = await db
    .selectFrom('script_runs')
    .where('quarantined_at', 'is', null)
    // A running run keeps the resume_at of the WAIT it left: only a waiting one's counts.
    .select((eb) => [
      eb.fn.min(eb.case().when('status', '=', 'waiting').then(eb.ref('resume_at')).end()).as('wait'),
      eb.fn.min('lease_until').as('lease'),
    ])
    .executeTakeFirst();
  const times = [row?.wait, row?.lease].filter((t) => t != null).map(Number);
  return times.length === 0 ? null : Math.min(...times);
}

/** A contact's run: its ID (security users are bound to it), its script, and who started it. */
export async function runOfContact(
  db: Executor,
  contactId: number,
): Promise<{ runId: string | null; scriptName: string; startedBy: unknown } | undefined> {
  const row = await db
    .selectFrom('script_runs')
    .select(['run_id', 'script_name', 'started_by'])
    .where('contact_id', '=', contactId)
    .executeTakeFirst();
  if (!row) return undefined;
  let startedBy: unknown = {};
  try {
    startedBy = JSON.parse(row.started_by);
  } catch {
    // A row written before started_by existed reads as nobody known.
  }
  return { runId: row.run_id, scriptName: row.script_name, startedBy };
}
