import type { ActionContext, Outcome } from '../actions/action.js';
import type { Platform } from '../platform/platform.js';
import type { CompiledNode, CompiledScript } from './compile.js';
import { nextNode } from './step.js';
import { Variables } from './variables.js';

/**
 * How a run finished (or paused): the `outcome` of DESIGN §4, plus `waiting` — parked at a WAIT
 * until `resumeAt`, which only a server's run makes (the simulator moves its clock instead).
 */
export type RunOutcome = 'ended' | 'stopped' | 'deadEnd' | 'error' | 'waiting';

export interface TraceEntry {
  /** Epoch ms on the run's clock when the action ran. */
  at: number;
  id: string;
  action: string;
  branch: string;
  set?: Readonly<Record<string, unknown>>;
  /** What a script author should know: an unknown `{variable}`, an error caught, a dead end. */
  notes?: string[];
}

export interface RunHost {
  readonly platform: Platform;
  /**
   * WAIT: `continue` once `ms` have passed (the simulator moves its clock at once), or `park`
   * to save the run as `waiting` and resume it later (the server).
   */
  wait(ms: number): Promise<'continue' | 'park'>;
}

export interface RunOptions {
  /** Record every action in `trace`. Default true. */
  trace?: boolean;
  /** Actions one event may run before the run is stopped as an `error` (an endless loop). Default 100,000. */
  maxSteps?: number;
  /** Variables visible from BEGIN (`--var`, the API's `variables`). */
  variables?: Readonly<Record<string, unknown>>;
}

/** A parked run as the server stores it (JSON-safe). */
export interface RunSnapshot {
  outcome: RunOutcome | null;
  variables: Record<string, unknown>;
  released: boolean;
  releaseHandled: boolean;
  resumeAt: number | null;
  /** Id of the action to resume at after WAIT. */
  resumeNode: string | null;
}

export interface RunContact {
  id: number;
  masterId?: number;
  ani?: string | null;
  dnis?: string | null;
  skillId?: number | null;
}

/** Disconnect reasons the runtime gives the contact when its script finishes it. */
export const DISCONNECT = { end: 'ScriptEnded', deadEnd: 'ScriptDeadEnd', error: 'ScriptError' } as const;

/**
 * One script running for one contact. `start` runs from BEGIN until the script ends or parks
 * at STOP; `signal` resumes a parked run at ONSIGNAL; a release (the contact ended, by END or
 * by anyone) runs ONRELEASE once. Every throw from an action is caught in `execute` — the one
 * boundary — and becomes `_ERR` plus the action's error branch.
 */
export class ScriptRun {
  readonly variables = new Variables();
  readonly trace: TraceEntry[] = [];
  outcome: RunOutcome | null = null;
  /** Why the run failed (step limit, an uncaught throw); also in `_ERR`. */
  error: string | null = null;
  /** While `waiting`: when to resume, and at which node. */
  resumeAt: number | null = null;
  resumeIndex: number | null = null;
  private released = false;
  private releaseHandled = false;
  private readonly context: ActionContext;
  private readonly tracing: boolean;
  private readonly maxSteps: number;
  private readonly unsubscribe: () => void;

  constructor(
    readonly script: CompiledScript,
    readonly contact: RunContact,
    private readonly host: RunHost,
    options: RunOptions = {},
  ) {
    this.tracing = options.trace ?? true;
    this.maxSteps = options.maxSteps ?? 100_000;
    const v = this.variables;
    v.set('ContactID', String(contact.id));
    v.set('MasterID', String(contact.masterId ?? contact.id));
    v.set('ANI', contact.ani ?? '');
    v.set('DNIS', contact.dnis ?? '');
    v.set('SkillId', contact.skillId == null ? '' : String(contact.skillId));
    v.set('MediaType', script.scriptType);
    for (const [name, value] of Object.entries(options.variables ?? {})) v.set(name, value);
    this.context = {
      contactId: contact.id,
      scriptName: script.name,
      scriptType: script.scriptType,
      platform: host.platform,
      variables: this.variables,
      now: () => host.platform.clock.now(),
    };
    this.unsubscribe = host.platform.on({
      contactEnded: (c) => {
        if (c.id === contact.id) this.released = true;
      },
    });
  }

  /** Runs from BEGIN. */
  async start(): Promise<RunOutcome> {
    const v = this.variables;
    this.script.parameters.forEach((name, i) => {
      const p = `p${i + 1}`;
      if (v.has(p)) v.set(name, v.get(p));
    });
    return this.drive(this.script.begin);
  }

  /** Delivers ONSIGNAL to a run parked at STOP; `params` become p1…p9. Ignored by a finished run. */
  async signal(params: readonly string[] = []): Promise<RunOutcome | null> {
    if (this.outcome !== 'stopped') return this.outcome;
    // A signal replaces all nine: parameters from an earlier signal must not linger.
    for (let i = 0; i < 9; i++) this.variables.set(`p${i + 1}`, params[i] ?? '');
    if (this.script.onSignal < 0) return this.outcome;
    return this.drive(this.script.onSignal);
  }

  /** Resumes a run parked at WAIT, at the action after it. */
  async resume(): Promise<RunOutcome | null> {
    if (this.outcome !== 'waiting' || this.resumeIndex === null) return this.outcome;
    const index = this.resumeIndex;
    this.resumeAt = null;
    this.resumeIndex = null;
    return this.drive(index);
  }

  /** The contact ended while the run was parked: run ONRELEASE (once) and finish. */
  async release(): Promise<RunOutcome | null> {
    this.released = true;
    if (this.outcome !== 'stopped' && this.outcome !== 'waiting') return this.outcome;
    this.resumeAt = null;
    this.resumeIndex = null;
    await this.runReleaseHandler();
    return this.finish('ended');
  }

  /** What a server saves of a parked run; `ScriptRun.restore` brings it back in any process. */
  snapshot(): RunSnapshot {
    return {
      outcome: this.outcome,
      variables: this.variables.toObject(),
      released: this.released,
      releaseHandled: this.releaseHandled,
      resumeAt: this.resumeAt,
      resumeNode: this.resumeIndex === null ? null : (this.script.nodes[this.resumeIndex]?.id ?? null),
    };
  }

  static restore(
    script: CompiledScript,
    contact: RunContact,
    host: RunHost,
    saved: RunSnapshot,
    options: Omit<RunOptions, 'variables'> = {},
  ): ScriptRun {
    const run = new ScriptRun(script, contact, host, { ...options, variables: saved.variables });
    run.outcome = saved.outcome;
    run.released = saved.released;
    run.releaseHandled = saved.releaseHandled;
    run.resumeAt = saved.resumeAt;
    const index = script.nodes.findIndex((n) => n.id === saved.resumeNode);
    run.resumeIndex = index < 0 ? null : index;
    return run;
  }

  /** Stops listening for the contact's end: a parked run saved elsewhere is done with here. */
  detach(): void {
    this.unsubscribe();
  }

  private async drive(start: number): Promise<RunOutcome> {
    const nodes = this.script.nodes;
    let index = start;
    let steps = 0;
    for (;;) {
      if (++steps > this.maxSteps) {
        return this.fail(`step limit of ${this.maxSteps} actions reached; is there an endless loop?`);
      }
      const node = nodes[index] as CompiledNode;
      const outcome = await this.execute(node);
      if (outcome.control === 'end') return this.end();
      if (outcome.control === 'stop') {
        if (this.released) {
          await this.runReleaseHandler();
          return this.finish('ended');
        }
        this.outcome = 'stopped';
        return 'stopped';
      }
      const next = nextNode(node, outcome.branch);
      // A throw with neither its error branch nor Default wired: the run fails, it is no dead end.
      if (next < 0 && outcome === this.caught) return this.fail(String(outcome.set?._ERR));
      if (next < 0) {
        this.note(`branch ${outcome.branch} is not wired and neither is Default: dead end`);
        await this.endContact(DISCONNECT.deadEnd);
        await this.runReleaseHandler();
        return this.finish('deadEnd');
      }
      if (outcome.waitMs !== undefined && outcome.waitMs > 0) {
        if ((await this.host.wait(outcome.waitMs)) === 'park') {
          this.outcome = 'waiting';
          this.resumeAt = this.context.now() + outcome.waitMs;
          this.resumeIndex = next;
          return 'waiting';
        }
      }
      index = next;
    }
  }

  /** The last outcome made from a throw, so `drive` can tell it from a returned branch. */
  private caught: Outcome | null = null;

  /** Runs one action: the single place where a throw is turned into `_ERR` and a branch. */
  private async execute(node: CompiledNode): Promise<Outcome> {
    const at = this.context.now();
    const v = this.variables;
    v.missing = null;
    let outcome: Outcome;
    try {
      const result = node.definition.run(this.context, node.properties(v), node.prepared);
      outcome = result instanceof Promise ? await result : result;
    } catch (thrown) {
      const message = thrown instanceof Error ? thrown.message : String(thrown);
      outcome = { branch: node.definition.errorBranch ?? 'Default', set: { _ERR: message } };
      this.caught = outcome;
    }
    const set = outcome.set;
    if (set !== undefined) for (const name in set) v.set(name, set[name]);
    if (this.tracing) {
      const entry: TraceEntry = { at, id: node.id, action: node.actionName, branch: outcome.branch };
      if (set !== undefined) entry.set = set;
      if (v.missing !== null) {
        entry.notes = [...new Set(v.missing)].map((n) => `unknown variable {${n}} substituted as empty`);
      }
      if (outcome === this.caught) entry.notes = [...(entry.notes ?? []), `error: ${String(set?._ERR)}`];
      this.trace.push(entry);
    }
    return outcome;
  }

  private note(text: string) {
    const last = this.trace[this.trace.length - 1];
    if (this.tracing && last) last.notes = [...(last.notes ?? []), text];
  }

  private async end(): Promise<RunOutcome> {
    await this.endContact(DISCONNECT.end);
    await this.runReleaseHandler();
    return this.finish('ended');
  }

  private async fail(reason: string): Promise<RunOutcome> {
    this.error = reason;
    this.variables.set('_ERR', reason);
    this.note(reason);
    await this.endContact(DISCONNECT.error);
    await this.runReleaseHandler();
    return this.finish('error');
  }

  private async endContact(reason: string) {
    if (this.released) return;
    await this.host.platform.endContact(this.contact.id, reason, {
      channel: 'script',
      via: this.script.name,
    });
  }

  private async runReleaseHandler() {
    if (this.releaseHandled || this.script.onRelease < 0) return;
    this.releaseHandled = true;
    // The handler's own END/STOP/dead end only finish the handler: the contact is gone already.
    const main = this.outcome;
    this.released = true;
    await this.drive(this.script.onRelease);
    this.outcome = main;
  }

  private finish(outcome: RunOutcome): RunOutcome {
    this.outcome = outcome;
    this.unsubscribe();
    return outcome;
  }
}
