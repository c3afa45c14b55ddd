import type { ActionCatalog } from '../script/action-contract.js';
import type { ActionDefinition } from './action.js';
import { assign } from './assign.js';
import { begin } from './begin.js';
import { caseAction } from './case.js';
import { commitment } from './commitment.js';
import { end } from './end.js';
import { ifAction } from './if.js';
import { killContact } from './kill-contact.js';
import { onRelease } from './on-release.js';
import { onSignal } from './on-signal.js';
import { queryCallback } from './query-callback.js';
import { queueCallback } from './queue-callback.js';
import { scheduleCallback } from './schedule-callback.js';
import { setSecurityUser } from './set-security-user.js';
import { stop } from './stop.js';
import { wait } from './wait.js';

export interface ActionRegistry extends ActionCatalog {
  find(name: string): ActionDefinition | undefined;
  /** Each action once, in the order of the reference docs. */
  all(): readonly ActionDefinition[];
}

export function createActionRegistry(definitions: readonly ActionDefinition[]): ActionRegistry {
  const byName = new Map<string, ActionDefinition>();
  for (const d of definitions) {
    for (const name of [d.name, ...(d.aliases ?? [])]) byName.set(name.toUpperCase(), d);
  }
  return {
    find: (name) => byName.get(name.toUpperCase()),
    names: () => [...byName.keys()],
    all: () => definitions,
  };
}

/** Every built-in action: the seeds' two, the ones they are compared with, and control flow. */
export const actions = createActionRegistry([
  killContact,
  scheduleCallback,
  commitment,
  queueCallback,
  queryCallback,
  setSecurityUser,
  begin,
  assign,
  ifAction,
  caseAction,
  wait,
  end,
  stop,
  onRelease,
  onSignal,
] as ActionDefinition[]);
