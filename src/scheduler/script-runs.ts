import type { Selectable } from 'kysely';
import type { ActionRegistry } from '../actions/registry.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { getContact } from '../platform/contacts.js';
import type { Contact } from '../platform/model.js';
import type { Platform } from '../platform/platform.js';
import { getScript } from '../platform/scripts.js';
import { type CompiledScript, compileScript } from '../runtime/compile.js';
import { type RunSnapshot, ScriptRun } from '../runtime/run.js';
import type { ScriptRunTable } from '../storage/schema.js';
import type { Store } from '../storage/store.js';

export interface RunWorkerOptions {
  store: Store;
  platform: Platform;
  actions: ActionRegistry;
  clock: Clock;
  log: Logger;
  /** Names this process in `script_runs.owner`. */
  owner: string;
  /** Row locks when claiming (PostgreSQL, several processes). */
  lockRows: boolean;
  /** Runs claimed at once. Default 50. */
  batchSize?: number;
  /** How long a claimed run is this process's before another may take it over. Default 60 s. */
  leaseMs?: number;
}

type RunRow = Selectable<ScriptRunTable>;

/**
 * Runs contacts' scripts from the `script_runs` work queue. A run is claimed, runs until it
 * ends or parks (STOP, WAIT), and is saved (parked) or deleted (finished); signals and releases
 * that arrive meanwhile wait in its row for the next claim, by any process. A process that dies
 * holding a run leaves it to be taken over when its lease runs out, from the last saved point.
 */
export function createRunWorker(options: RunWorkerOptions) {
  const { store, platform, clock, log, owner } = options;
  const batchSize = options.batchSize ?? 50;
  const leaseMs = options.leaseMs ?? 60_000;
  const cache = new Map<string, { updatedAt: string; script: CompiledScript }>();

  async function load(name: string): Promise<CompiledScript | string> {
    const deployed = await getScript(store.db, name);
    if (!deployed) return `script '${name}' is not deployed`;
    const cached = cache.get(name);
    if (cached?.updatedAt === deployed.updatedAt) return cached.script;
    try {
      const script = compileScript(deployed.script, options.actions);
      cache.set(name, { updatedAt: deployed.updatedAt, script });
      return script;
    } catch (e) {
      return `script '${name}' does not compile: ${(e as Error).message}`;
    }
  }

  async function claim(): Promise<RunRow[]> {
    return store.transaction(async (trx) => {
      const now = clock.now();
      let runnable = trx
        .selectFrom('script_runs')
        .selectAll()
        .where((eb) =>
          eb.or([
            eb('status', '=', 'pending'),
            eb.and([eb('status', '=', 'waiting'), eb('resume_at', '<=', now)]),
            eb.and([
              eb('status', 'in', ['waiting', 'stopped']),
              eb.or([eb('released', '=', 1), eb('signals', '!=', '[]')]),
            ]),
            eb.and([eb('status', '=', 'running'), eb('lease_until', '<', now)]),
          ]),
        )
        .orderBy('updated_at')
        .limit(batchSize);
      if (options.lockRows) runnable = runnable.forUpdate().skipLocked();
      const rows = await runnable.execute();
      if (rows.length === 0) return [];
      await trx
        .updateTable('script_runs')
        .set({ status: 'running', owner, lease_until: now + leaseMs, updated_at: now })
        .where(
          'contact_id',
          'in',
          rows.map((r) => r.contact_id),
        )
        .execute();
      return rows;
    });
  }

  async function startVariables(contact: Contact): Promise<Record<string, unknown>> {
    const vars: Record<string, unknown> = {};
    if (contact.phoneNumber) vars.PhoneNumber = contact.phoneNumber;
    if (contact.callbackId !== null) {
      const cb = await store.db
        .selectFrom('scheduled_callbacks')
        .select(['first_name', 'last_name', 'notes'])
        .where('id', '=', contact.callbackId)
        .executeTakeFirst();
      vars.CallbackId = String(contact.callbackId);
      if (cb) Object.assign(vars, { FirstName: cb.first_name, LastName: cb.last_name, Notes: cb.notes });
    }
    return vars;
  }

  async function execute(row: RunRow): Promise<void> {
    const contactId = Number(row.contact_id);
    const contact = await getContact(store.db, contactId);
    const script = await load(row.script_name);
    // A row not yet started holds nothing, or what to start with: `{ start: { variables } }`.
    const saved =
      row.snapshot === null
        ? null
        : (JSON.parse(row.snapshot) as RunSnapshot | { start: { variables: Record<string, unknown> } });
    const start =
      saved === null || 'start' in saved
        ? { ...(saved && 'start' in saved ? saved.start.variables : {}) }
        : null;
    if (!contact || typeof script === 'string' || (start !== null && contact.state === 'Ended')) {
      if (typeof script === 'string' && contact) {
        log.error({ contactId, script: row.script_name }, `${script}; ending the contact`);
        await platform.endContact(contactId, 'ScriptError', { channel: 'scheduler', via: row.script_name });
      }
      await store.db
        .deleteFrom('script_runs')
        .where('contact_id', '=', contactId)
        .where('owner', '=', owner)
        .execute();
      return;
    }
    const runContact = {
      id: contactId,
      masterId: contact.masterId,
      ani: contact.ani,
      dnis: contact.dnis,
      skillId: contact.skillId,
    };
    const host = { platform, wait: async () => 'park' as const };
    let run: ScriptRun;
    if (start !== null) {
      run = new ScriptRun(script, runContact, host, {
        variables: { ...(await startVariables(contact)), ...start },
      });
      await run.start();
    } else {
      run = ScriptRun.restore(script, runContact, host, saved as RunSnapshot);
    }
    // Deliver what the row owes, in order: a release ends it all; signals one at a time; a due WAIT.
    const signals = JSON.parse(row.signals) as string[][];
    let consumed = 0;
    for (;;) {
      if (run.outcome !== 'stopped' && run.outcome !== 'waiting') break;
      if (row.released === 1 || contact.state === 'Ended') await run.release();
      else if (run.outcome === 'stopped' && consumed < signals.length)
        await run.signal(signals[consumed++] ?? []);
      else if (run.outcome === 'waiting' && (run.resumeAt ?? 0) <= clock.now()) await run.resume();
      else break;
    }
    run.detach();
    await save(contactId, run, consumed);
  }

  async function save(contactId: number, run: ScriptRun, consumedSignals: number): Promise<void> {
    const parked = run.outcome === 'stopped' || run.outcome === 'waiting';
    await store.transaction(async (trx) => {
      if (!parked) {
        await trx
          .deleteFrom('script_runs')
          .where('contact_id', '=', contactId)
          .where('owner', '=', owner)
          .execute();
        return;
      }
      // Signals that other processes added while the run was out stay for the next claim.
      let current = trx
        .selectFrom('script_runs')
        .select('signals')
        .where('contact_id', '=', contactId)
        .where('owner', '=', owner);
      if (options.lockRows) current = current.forUpdate();
      const row = await current.executeTakeFirst();
      if (!row) {
        log.warn(
          { contactId },
          'script run was taken over by another process while running; its result is dropped',
        );
        return;
      }
      const remaining = (JSON.parse(row.signals) as string[][]).slice(consumedSignals);
      await trx
        .updateTable('script_runs')
        .set({
          status: run.outcome as string,
          resume_at: run.resumeAt,
          snapshot: JSON.stringify(run.snapshot()),
          signals: JSON.stringify(remaining),
          owner: null,
          lease_until: null,
          updated_at: clock.now(),
        })
        .where('contact_id', '=', contactId)
        .execute();
    });
  }

  return {
    /** Claims and runs what is runnable now, until nothing is; returns how many runs it handled. */
    async processDue(): Promise<number> {
      let handled = 0;
      for (;;) {
        const rows = await claim();
        for (const row of rows) {
          try {
            await execute(row);
          } catch (e) {
            // The run stays claimed; when its lease runs out it is retried from its last saved point.
            log.error({ err: e, contactId: Number(row.contact_id) }, 'script run failed; it will be retried');
          }
        }
        handled += rows.length;
        if (rows.length < batchSize) return handled;
      }
    },

    /** When a run next becomes runnable by time alone (a WAIT ending, a lease running out). */
    async nextDueAt(): Promise<number | null> {
      const row = await store.db
        .selectFrom('script_runs')
        .select((eb) => [eb.fn.min('resume_at').as('wait'), eb.fn.min('lease_until').as('lease')])
        .executeTakeFirst();
      const times = [row?.wait, row?.lease].filter((t) => t != null).map(Number);
      return times.length === 0 ? null : Math.min(...times);
    },
  };
}

export type RunWorker = ReturnType<typeof createRunWorker>;
