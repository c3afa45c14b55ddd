import type { Outcome } from '../actions/action.js';
import type { CompiledNode } from './compile.js';

/** Disconnect reasons the runtime gives the contact when its script finishes it. */
export const DISCONNECT = { end: 'ScriptEnded', deadEnd: 'ScriptDeadEnd', error: 'ScriptError' } as const;
export type DisconnectReason = (typeof DISCONNECT)[keyof typeof DISCONNECT];

/**
 * Where a run is. `running`: at action `at`. `stopped`: parked at STOP until a signal or the
 * release. `waiting`: parked at a WAIT until `resumeAt`, then at `resumeNode`. The rest are final.
 */
export type RunState =
  | { status: 'running'; at: number }
  | { status: 'stopped' }
  | { status: 'waiting'; resumeAt: number; resumeNode: number }
  | { status: 'ended' }
  | { status: 'deadEnd' }
  | { status: 'error'; error: string };

/** What the run must do to the world after a step; `run.ts` does it, in order. */
export type Effect =
  | { type: 'endContact'; reason: DisconnectReason }
  /** Run the ONRELEASE handler (once; skipped when the script has none or it already ran). */
  | { type: 'runReleaseHandler' };

/** How the trace tells a step: the connector followed as wired, and the action's own result when that was Default. */
export interface StepTrace {
  /** The connector followed, spelled as the script wires it; absent for END, STOP and a dead end. */
  branch?: string;
  /** The action's own result, when it is not what `branch` says (an unwired result that fell back to Default, a dead end). */
  outcome?: string;
  note?: string;
}

export interface StepResult {
  readonly state: RunState;
  readonly effects: readonly Effect[];
  readonly trace: StepTrace;
}

export interface StepContext {
  /** The contact has ended (by END, by KILLCONTACT on itself, by anyone): nothing more to end. */
  released: boolean;
  /** The outcome was made from a throw (an outage or a bug), not returned by the action. */
  caught: boolean;
  now: number;
}

const finish = (
  status: 'ended' | 'deadEnd',
  reason: DisconnectReason | null,
  trace: StepTrace,
): StepResult => ({
  state: { status },
  effects: [
    ...(reason === null ? [] : [{ type: 'endContact' as const, reason }]),
    { type: 'runReleaseHandler' },
  ],
  trace,
});

/** The run fails (a step limit, a budget spent, an uncaught throw): the contact ends with ScriptError, ONRELEASE runs. */
export function failRun(error: string, released: boolean, trace: StepTrace = {}): StepResult {
  return {
    state: { status: 'error', error },
    effects: [
      ...(released ? [] : [{ type: 'endContact' as const, reason: DISCONNECT.error }]),
      { type: 'runReleaseHandler' },
    ],
    trace: { ...trace, note: error },
  };
}

/** A wired branch: where it goes, how the script spells it (`Success` or `OnSuccess`), and the step that follows it. */
export interface Connector {
  readonly index: number;
  readonly written: string;
  /** Following it: made once, so that the common step allocates nothing. */
  readonly followed: StepResult;
}

const NO_EFFECTS: readonly Effect[] = Object.freeze([]);

export function connectorTo(index: number, written: string): Connector {
  const followed: StepResult = Object.freeze({
    state: Object.freeze({ status: 'running' as const, at: index }),
    effects: NO_EFFECTS,
    trace: Object.freeze({ branch: written }),
  });
  return { index, written, followed };
}

/**
 * The pure step: given the action just run and its outcome, the run's next state and the effects
 * to carry out. The wired connector for the outcome's branch, else `Default`, else a dead end;
 * END finishes, STOP parks (or finishes, once the contact is gone); WAIT waits.
 */
export function step(node: CompiledNode, outcome: Outcome, ctx: StepContext): StepResult {
  if (outcome.control === 'end') return finish('ended', ctx.released ? null : DISCONNECT.end, {});
  if (outcome.control === 'stop') {
    if (ctx.released) return finish('ended', null, {});
    return { state: { status: 'stopped' }, effects: NO_EFFECTS, trace: {} };
  }
  const key = node.definition.caseBranches ? outcome.branch.toLowerCase() : outcome.branch;
  const wired = outcome.branch === 'Default' ? node.defaultNext : node.next.get(key);
  const connector = wired ?? node.defaultNext;
  if (connector === undefined) {
    const error = String(outcome.set?._ERR);
    // A throw with neither its error branch nor Default wired: the run fails, it is no dead end.
    if (ctx.caught) return failRun(error, ctx.released, { outcome: outcome.branch });
    return finish('deadEnd', ctx.released ? null : DISCONNECT.deadEnd, {
      outcome: outcome.branch,
      note: `branch ${outcome.branch} is not wired and neither is Default: dead end`,
    });
  }
  if (wired !== undefined && outcome.waitMs === undefined) return wired.followed;
  const trace: StepTrace =
    wired === undefined
      ? { branch: connector.written, outcome: outcome.branch }
      : { branch: connector.written };
  if (outcome.waitMs !== undefined && outcome.waitMs > 0) {
    return {
      state: { status: 'waiting', resumeAt: ctx.now + outcome.waitMs, resumeNode: connector.index },
      effects: NO_EFFECTS,
      trace,
    };
  }
  return { state: { status: 'running', at: connector.index }, effects: NO_EFFECTS, trace };
}
