import type { ActionRegistry } from '../actions/registry.js';
import type { Logger } from '../logger.js';
import { SCHEDULER } from '../platform/model.js';
import type { Platform } from '../platform/platform.js';
import type { Contact } from '../platform/resources.js';
import type { ClaimedRun } from '../platform/script-runs.js';
import type { RunBudgets } from '../runtime/budget.js';
import { type CompiledScript, compileScript } from '../runtime/compile.js';
import { type RunSnapshot, ScriptRun, type TraceEntry } from '../runtime/run.js';

export interface RunWorkerOptions {
  platform: Platform;
  actions: ActionRegistry;
  log: Logger;
  /** Names this process in the work queue. */
  owner: string;
  /** Runs claimed at once. Default 50. */
  batchSize?: number;
  /** How long a claimed run is this process's before another may take it over. Default 60 s. */
  leaseMs?: number;
  /** Hears each action a run takes, as it takes it (the simulator puts them in its trace). */
  onTrace?(run: { contactId: number; script: string }, entry: TraceEntry): void;
  /** Elapsed milliseconds for the runs' CPU budgets. Default `performance.now`; tests give a fake one. */
  meter?: () => number;
}

/**
 * Runs contacts' scripts from the platform's script-run work queue. A run is claimed, runs until it
 * ends or parks (STOP, WAIT), and is parked again or finished; signals and releases that arrive
 * meanwhile wait with it for the next claim, by any process. A process that dies holding a run
 * leaves it to be taken over when its lease runs out, from the last saved point (and a run that
 * keeps doing that is quarantined by the claim). Each run is held to the business unit's budgets,
 * counting what it spent before it was claimed.
 */
export function createRunWorker(options: RunWorkerOptions) {
  const { platform, log, owner } = options;
  const batchSize = options.batchSize ?? 50;
  const leaseMs = options.leaseMs ?? 60_000;
  const cache = new Map<string, { updatedAt: string; script: CompiledScript }>();

  async function load(name: string): Promise<CompiledScript | string> {
    const deployed = await platform.read.script(name, SCHEDULER);
    if (!deployed.ok) return `script '${name}' is not deployed`;
    const cached = cache.get(name);
    if (cached?.updatedAt === deployed.value.updatedAt) return cached.script;
    try {
      const script = compileScript(deployed.value.script, options.actions);
      cache.set(name, { updatedAt: deployed.value.updatedAt, script });
      return script;
    } catch (e) {
      return `script '${name}' does not compile: ${(e as Error).message}`;
    }
  }

  /** What a skill's script sees from BEGIN: the callback it delivers, if it is one. */
  async function callbackVariables(contact: Contact): Promise<Record<string, unknown>> {
    const vars: Record<string, unknown> = {};
    if (contact.phoneNumber) vars.PhoneNumber = contact.phoneNumber;
    if (contact.callbackId !== null) {
      vars.CallbackId = String(contact.callbackId);
      const cb = await platform.read.callback(contact.callbackId, SCHEDULER);
      if (cb.ok)
        Object.assign(vars, {
          FirstName: cb.value.firstName,
          LastName: cb.value.lastName,
          Notes: cb.value.notes,
        });
    }
    return vars;
  }

  async function execute(claimed: ClaimedRun, budgets: RunBudgets): Promise<void> {
    const { contactId, scriptName } = claimed;
    const found = await platform.read.contact(contactId, SCHEDULER);
    const contact = found.ok ? found.value : undefined;
    const script = await load(scriptName);
    const start = claimed.parked === null ? (claimed.startVariables ?? {}) : null;
    if (!contact || typeof script === 'string' || (start !== null && contact.state === 'Ended')) {
      if (typeof script === 'string' && contact) {
        log.error({ contactId, script: scriptName }, `${script}; ending the contact`);
        await platform.endContact(contactId, 'ScriptError', { channel: 'scheduler', via: scriptName });
      }
      await platform.runs.finish(contactId, owner);
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
    const onTrace = options.onTrace;
    const runOptions = {
      budgets,
      spent: claimed.spent,
      ...(options.meter ? { meter: options.meter } : {}),
      ...(onTrace
        ? { onTrace: (entry: TraceEntry) => onTrace({ contactId, script: scriptName }, entry) }
        : {}),
    };
    let run: ScriptRun;
    if (start !== null) {
      run = new ScriptRun(script, runContact, host, {
        ...runOptions,
        variables: { ...(await callbackVariables(contact)), ...start },
      });
      await run.start();
    } else {
      run = ScriptRun.restore(script, runContact, host, claimed.parked as RunSnapshot, runOptions);
    }
    // Deliver what the run is owed, in order: a release ends it all; signals one at a time; a due WAIT.
    const consumed: number[] = [];
    for (;;) {
      if (run.outcome !== 'stopped' && run.outcome !== 'waiting') break;
      const signal = claimed.signals[consumed.length];
      if (claimed.released || contact.state === 'Ended') await run.release();
      else if (run.outcome === 'stopped' && signal) {
        consumed.push(signal.id);
        await run.signal(signal.params);
      } else if (run.outcome === 'waiting' && (run.resumeAt ?? 0) <= platform.clock.now()) await run.resume();
      else break;
    }
    if (run.outcome === 'error') {
      // What `_ERR` said (a budget spent, a throw nothing was wired for) is gone with the run: the log keeps it.
      log.warn(
        { contactId, script: scriptName, error: run.error, spent: run.spent },
        'script run failed; its contact ended ScriptError',
      );
    } else log.debug({ contactId, script: scriptName, outcome: run.outcome, spent: run.spent }, 'script run');
    const parked = run.outcome === 'stopped' || run.outcome === 'waiting';
    const kept = parked
      ? await platform.runs.park(
          contactId,
          owner,
          {
            status: run.outcome as 'stopped' | 'waiting',
            resumeAt: run.resumeAt,
            snapshot: run.snapshot(),
            spent: run.spent,
          },
          consumed,
        )
      : await platform.runs.finish(contactId, owner);
    if (!kept)
      log.warn(
        { contactId },
        'script run was taken over by another process while running; its result is dropped',
      );
  }

  return {
    /**
     * Claims and runs what is runnable now, until nothing is or `keepClaiming` says to stop (a
     * batch already claimed is always worked through); returns how many runs it handled.
     */
    async processDue(keepClaiming: () => boolean = () => true): Promise<number> {
      let handled = 0;
      for (;;) {
        const claimed = await platform.runs.claim({ owner, leaseMs, limit: batchSize });
        if (claimed.length === 0) return handled;
        const { runCpuMsPerEvent, runCpuMsTotal, runMaxSteps, runMaxResumes } = await platform.businessUnit();
        const budgets: RunBudgets = { runCpuMsPerEvent, runCpuMsTotal, runMaxSteps, runMaxResumes };
        // A slow batch renews what it still holds at half its lease, so that no other process
        // takes over a run this one has not reached yet.
        let renewBy = platform.clock.now() + leaseMs / 2;
        let held: ReadonlySet<number> = new Set(claimed.map((r) => r.contactId));
        for (const [i, run] of claimed.entries()) {
          if (platform.clock.now() >= renewBy) {
            const rest = claimed.slice(i).map((r) => r.contactId);
            held = new Set(await platform.runs.renew(rest, owner, leaseMs));
            renewBy = platform.clock.now() + leaseMs / 2;
          }
          if (!held.has(run.contactId)) {
            log.warn(
              { contactId: run.contactId },
              'script run was taken over by another process before it ran',
            );
            continue;
          }
          try {
            await execute(run, budgets);
          } catch (e) {
            // The run stays claimed; when its lease runs out it is retried from its last saved point.
            log.error({ err: e, contactId: run.contactId }, 'script run failed; it will be retried');
          }
        }
        handled += claimed.length;
        if (claimed.length < batchSize || !keepClaiming()) return handled;
      }
    },

    /** When a run next becomes runnable by time alone (a WAIT ending, a lease running out). */
    nextDueAt: () => platform.runs.nextDue(),
  };
}

export type RunWorker = ReturnType<typeof createRunWorker>;
