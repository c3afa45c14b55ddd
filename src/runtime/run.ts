import type { ActionContext, ActionPlatform, Outcome } from '../actions/action.js';
import type { Platform } from '../platform/platform.js';
import { DEFAULT_RUN_BUDGETS, NOTHING_SPENT, RunBudget, type RunBudgets, type RunSpent } from './budget.js';
import { type CompiledNode, type CompiledScript, PrepareFailed } from './compile.js';
import { type Effect, failRun, type RunState, type StepContext, type StepResult, step } from './step.js';
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
  /** The connector followed, spelled as wired; absent for END and STOP, and at a dead end. */
  branch?: string;
  /** The action's own result when it was not wired (`Default` was followed, or nothing was). */
  outcome?: string;
  set?: Readonly<Record<string, unknown>>;
  /** What a script author should know: an unknown `{variable}`, an error caught, a dead end. */
  notes?: string[];
}

/** What a run needs of the platform: what its actions need, the clock, and hearing that its contact ended. */
export type RunPlatform = ActionPlatform & Pick<Platform, 'on' | 'clock'>;

export interface RunHost {
  readonly platform: RunPlatform;
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
  /** What the run may spend (the business unit's settings); a run beyond one fails as an `error`. Default DEFAULT_RUN_BUDGETS. */
  budgets?: RunBudgets;
  /** What the run had spent before it was restored (saved when it parked): its budgets count from there. */
  spent?: RunSpent;
  /** Elapsed milliseconds, for the CPU budgets and for yielding. Default `performance.now`; tests give a fake one. */
  meter?: () => number;
  /** Variables visible from BEGIN (`--var`, the API's `variables`). */
  variables?: Readonly<Record<string, unknown>>;
  /** Told of each trace entry as its action starts; its branch, variables and notes are filled in once it has run. */
  onTrace?(entry: TraceEntry): void;
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

/** Not started yet: `start` runs from BEGIN. */
type Ready = { status: 'ready' };

/**
 * One script running for one contact. `start` runs from BEGIN until the script ends or parks
 * at STOP; `signal` resumes a parked run at ONSIGNAL; a release (the contact ended, by END or
 * by anyone) runs ONRELEASE once. Each action's outcome goes through the pure `step`, which says
 * what comes next and what to do (end the contact, run the handler); this class does it. Every
 * throw from an action is caught in `execute` — the one boundary — and becomes `_ERR` plus the
 * action's error branch.
 */
export class ScriptRun {
  readonly variables = new Variables();
  readonly trace: TraceEntry[] = [];
  private state: RunState | Ready = { status: 'ready' };
  /** The contact has ended; its ONRELEASE is owed (or has run). */
  private released = false;
  private releaseHandled = false;
  private readonly context: ActionContext;
  private readonly tracing: boolean;
  private readonly budget: RunBudget;
  private readonly onTrace: ((entry: TraceEntry) => void) | undefined;
  /** Handed to every step, refilled each time: the hot loop allocates nothing for it. */
  private readonly stepContext: StepContext = { released: false, caught: false, now: 0 };

  constructor(
    readonly script: CompiledScript,
    readonly contact: RunContact,
    private readonly host: RunHost,
    options: RunOptions = {},
  ) {
    this.tracing = options.trace ?? true;
    this.budget = new RunBudget(
      options.budgets ?? DEFAULT_RUN_BUDGETS,
      options.spent ?? NOTHING_SPENT,
      options.meter ?? (() => performance.now()),
      options.maxSteps ?? 100_000,
    );
    this.onTrace = options.onTrace;
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
  }

  /** How the run stands: null before it starts or while it runs. */
  get outcome(): RunOutcome | null {
    const { status } = this.state;
    return status === 'ready' || status === 'running' ? null : status;
  }

  /** What the run has spent over its life, this process's work included: saved when it parks. */
  get spent(): RunSpent {
    return { ...this.budget.spent };
  }

  /** Why the run failed (a step limit, a budget, an uncaught throw); also in `_ERR`. */
  get error(): string | null {
    return this.state.status === 'error' ? this.state.error : null;
  }

  /** While `waiting`: when to resume. */
  get resumeAt(): number | null {
    return this.state.status === 'waiting' ? this.state.resumeAt : null;
  }

  /** Runs from BEGIN. */
  async start(): Promise<RunOutcome> {
    const v = this.variables;
    this.script.parameters.forEach((name, i) => {
      const p = `p${i + 1}`;
      if (v.has(p)) v.set(name, v.get(p));
    });
    return this.drive(this.script.begin, 'start');
  }

  /** Delivers ONSIGNAL to a run parked at STOP; `params` become p1…p9. Ignored by a finished run. */
  async signal(params: readonly string[] = []): Promise<RunOutcome | null> {
    if (this.state.status !== 'stopped') return this.outcome;
    // A signal replaces all nine: parameters from an earlier signal must not linger.
    for (let i = 0; i < 9; i++) this.variables.set(`p${i + 1}`, params[i] ?? '');
    if (this.script.onSignal < 0) return this.outcome;
    return this.drive(this.script.onSignal, 'resume');
  }

  /** Resumes a run parked at WAIT, at the action after it. */
  async resume(): Promise<RunOutcome | null> {
    if (this.state.status !== 'waiting') return this.outcome;
    return this.drive(this.state.resumeNode, 'resume');
  }

  /** The contact ended while the run was parked: run ONRELEASE (once) and finish. */
  async release(): Promise<RunOutcome | null> {
    this.released = true;
    if (this.state.status !== 'stopped' && this.state.status !== 'waiting') return this.outcome;
    this.state = { status: 'ended' };
    await this.carryOut([{ type: 'runReleaseHandler' }]);
    return this.outcome;
  }

  /** What a server saves of a parked run; `ScriptRun.restore` brings it back in any process. */
  snapshot(): RunSnapshot {
    const waiting = this.state.status === 'waiting' ? this.state : null;
    return {
      outcome: this.outcome,
      variables: this.variables.toObject(),
      released: this.released,
      releaseHandled: this.releaseHandled,
      resumeAt: waiting?.resumeAt ?? null,
      resumeNode: waiting ? (this.script.nodes[waiting.resumeNode]?.id ?? null) : null,
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
    run.released = saved.released;
    run.releaseHandled = saved.releaseHandled;
    const resumeNode = script.nodes.findIndex((n) => n.id === saved.resumeNode);
    // Only parked runs are saved. A WAIT whose next action is gone (the script changed since) stays
    // parked until an event, as at STOP.
    run.state =
      saved.outcome === 'waiting' && saved.resumeAt !== null && resumeNode >= 0
        ? { status: 'waiting', resumeAt: saved.resumeAt, resumeNode }
        : { status: 'stopped' };
    return run;
  }

  /**
   * Runs from `start` until the run finishes or parks: one event (`resume`: after a WAIT or a
   * signal; `release`: the ONRELEASE handler). While it drives it listens for its contact ending
   * (KILLCONTACT on itself, anyone else): a listener that goes away with the drive, even when an
   * effect throws. Before step `event.lookAt` (every few dozen) it looks at its budgets and lets the
   * event loop turn when it has computed for a few milliseconds.
   */
  private async drive(start: number, entry: 'start' | 'resume' | 'release'): Promise<RunOutcome> {
    const stopListening = this.host.platform.on((event) => {
      if (event.type === 'contact.ended' && event.contactId === this.contact.id) this.released = true;
    });
    const event = this.budget.beginEvent(entry !== 'release');
    if (entry === 'resume') event.resumed(0);
    let steps = 0;
    try {
      this.state = { status: 'running', at: start };
      const nodes = this.script.nodes;
      let at = start;
      while (this.state.status === 'running') {
        let result: StepResult;
        if (++steps < event.lookAt) result = await this.execute(nodes[at] as CompiledNode);
        else {
          const refused = await event.checkpoint(steps);
          result =
            refused === null
              ? await this.execute(nodes[at] as CompiledNode)
              : failRun(refused, this.released);
        }
        const next = result.state;
        // The common step (a connector followed, nothing else to do) touches nothing but `at`.
        if (next.status === 'running' && result.effects.length === 0 && result.trace.note === undefined) {
          at = next.at;
          continue;
        }
        this.state = next;
        if (result.state.status === 'error') this.variables.set('_ERR', result.state.error);
        if (result.trace.note) this.note(result.trace.note);
        if (result.state.status === 'waiting') {
          // WAIT: the host parks the run, or moves its clock on and lets it go on at resumeNode.
          const { resumeNode, resumeAt } = result.state;
          event.pause();
          const waited = await this.host.wait(resumeAt - this.stepContext.now);
          event.unpause();
          if (waited === 'continue') {
            // Going on after a WAIT is a resume and a new event, as when a server resumes a parked run.
            event.resumed(steps);
            steps = 0;
            this.state = { status: 'running', at: resumeNode };
          }
        }
        if (result.effects.length > 0) {
          event.pause();
          await this.carryOut(result.effects);
          event.unpause();
        }
        if (this.state.status === 'running') at = this.state.at;
      }
      return this.outcome as RunOutcome;
    } finally {
      event.end(steps);
      stopListening();
    }
  }

  /** Does what a step asked, in order. A failure here is an outage: it propagates to the caller. */
  private async carryOut(effects: readonly Effect[]) {
    for (const effect of effects) {
      if (effect.type === 'endContact') {
        if (this.released) continue;
        await this.host.platform.endContact(this.contact.id, effect.reason, {
          channel: 'script',
          via: this.script.name,
        });
        this.released = true;
      } else await this.runReleaseHandler();
    }
  }

  /** Runs one action and steps: the single place where a throw is turned into `_ERR` and a branch. */
  private async execute(node: CompiledNode): Promise<StepResult> {
    const at = this.context.now();
    const v = this.variables;
    v.missing = null;
    // In the trace before it runs, so that what the action causes (the events of a contact it
    // ends, say) is told after it; filled in once it has run.
    const entry: TraceEntry | undefined = this.tracing
      ? { at, id: node.id, action: node.actionName }
      : undefined;
    if (entry) {
      this.trace.push(entry);
      this.onTrace?.(entry);
    }
    let outcome: Outcome;
    let caught = false;
    try {
      if (node.prepared instanceof PrepareFailed) throw node.prepared.error;
      const result = node.definition.run(this.context, node.properties(v), node.prepared);
      // The platform's answers an action waits for are charged to the run like its own CPU: a loop
      // of database round trips (SETSECURITYUSER failing over and over) must spend its budget too.
      outcome = result instanceof Promise ? await result : result;
    } catch (thrown) {
      const message = thrown instanceof Error ? thrown.message : String(thrown);
      outcome = { branch: node.definition.errorBranch ?? 'Default', set: { _ERR: message } };
      caught = true;
    }
    const set = outcome.set;
    if (set !== undefined) for (const name in set) v.set(name, set[name]);
    const ctx = this.stepContext;
    ctx.released = this.released;
    ctx.caught = caught;
    ctx.now = at;
    const result = step(node, outcome, ctx);
    if (entry) {
      if (result.trace.branch !== undefined) entry.branch = result.trace.branch;
      if (result.trace.outcome !== undefined) entry.outcome = result.trace.outcome;
      if (set !== undefined) entry.set = set;
      const notes =
        v.missing === null
          ? []
          : [...new Set(v.missing)].map((n) => `unknown variable {${n}} substituted as empty`);
      if (caught) notes.push(`error: ${String(set?._ERR)}`);
      if (outcome.notes) notes.push(...outcome.notes);
      if (notes.length > 0) entry.notes = notes;
    }
    return result;
  }

  private note(text: string) {
    const last = this.trace[this.trace.length - 1];
    // A failure already noted as the action's error is not said twice.
    const said = last?.notes?.some((n) => n === text || n === `error: ${text}`);
    if (this.tracing && last && !said) last.notes = [...(last.notes ?? []), text];
  }

  private async runReleaseHandler() {
    if (this.releaseHandled || this.script.onRelease < 0) return;
    this.releaseHandled = true;
    this.released = true;
    // The handler's own END/STOP/dead end only finish the handler: the contact is gone already.
    const main = this.state;
    await this.drive(this.script.onRelease, 'release');
    this.state = main;
  }
}
