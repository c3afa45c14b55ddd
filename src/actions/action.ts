import type { Platform } from '../platform/platform.js';
import type { ActionContract } from '../script/action-contract.js';
import type { VariableReader } from '../script/template.js';
import type { ScriptType } from '../script/types.js';

/** What an action returns: the branch to follow and the variables it set. */
export interface Outcome {
  readonly branch: string;
  readonly set?: Readonly<Record<string, unknown>>;
  /** END finishes the run; STOP parks it until an event. */
  readonly control?: 'end' | 'stop';
  /** WAIT: the run resumes after this many milliseconds (simulated time in `run`). */
  readonly waitMs?: number;
  /** Said in the trace: how the action read its input (a wall-clock date, say). */
  readonly notes?: readonly string[];
}

/**
 * The part of the platform actions use: the operations the built-in actions perform, each
 * checking the actor the action names. Nothing else of the platform is theirs to reach.
 */
export type ActionPlatform = Pick<
  Platform,
  | 'endContact'
  | 'scheduleCallback'
  | 'queueCallback'
  | 'countPendingCallbacks'
  | 'issueSecurityUser'
  | 'resolveSecurityUser'
>;

export interface ActionContext {
  readonly contactId: number;
  readonly scriptName: string;
  readonly scriptType: ScriptType;
  readonly platform: ActionPlatform;
  readonly variables: VariableReader;
  now(): number;
}

/**
 * One action: its contract (see ActionContract) plus how it runs. `prepare` runs once per
 * script node with the raw property values (defaults applied) and the branch names wired;
 * `run` gets the substituted `text` properties and what `prepare` returned. Expected failures return a branch; a throw is
 * a bug or an outage, and the runtime's single boundary turns it into `_ERR` + the error branch.
 */
export interface ActionDefinition<P = unknown> extends ActionContract {
  prepare?(properties: Readonly<Record<string, string>>, branches: readonly string[]): P;
  run(
    ctx: ActionContext,
    properties: Readonly<Record<string, string>>,
    prepared: P,
  ): Outcome | Promise<Outcome>;
}

export type { VariableReader };

export function defineAction<P = undefined>(definition: ActionDefinition<P>): ActionDefinition<P> {
  return definition;
}

/** The outcome of a failure: the branch, with `_ERR` holding the one-line reason. */
export function failure(branch: string, reason: string, set?: Record<string, unknown>): Outcome {
  return { branch, set: { ...set, _ERR: reason } };
}
