import { fail } from '../result.js';
import { type Actor, type OperationContext, PERMISSIONS, type Permission } from './model.js';

/**
 * What each operation asks of the actor's security profile: the one table. The platform checks it
 * at the start of every operation, reads included; the HTTP API derives each route's documented
 * permission from it and asks `authorize` before it reads a body. `self`: an agent may do it to
 * itself without the permission (DESIGN §2: every agent may set its own state).
 */
export const OPERATIONS = {
  'contacts.read': { permission: 'contacts:read' },
  'contacts.start': { permission: 'contacts:write' },
  'contacts.signal': { permission: 'contacts:write' },
  'contacts.end': { permission: 'contacts:end' },
  'callbacks.read': { permission: 'callbacks:read' },
  'callbacks.schedule': { permission: 'callbacks:write' },
  'callbacks.update': { permission: 'callbacks:write' },
  'callbacks.cancel': { permission: 'callbacks:write' },
  /** Editing or canceling a callback targeted at another agent: theirs, a supervisor's to change. */
  'callbacks.changeOthers': { permission: 'agents:write' },
  'agents.read': { permission: 'agents:read' },
  'agents.setState': { permission: 'agents:write', self: true },
  'skills.read': { permission: 'skills:read' },
  'skills.create': { permission: 'skills:write' },
  'scripts.read': { permission: 'scripts:read' },
  'scripts.validate': { permission: 'scripts:read' },
  'scripts.deploy': { permission: 'scripts:write' },
  'audit.read': { permission: 'admin' },
  'tokens.create': { permission: 'admin' },
  'tokens.revoke': { permission: 'admin' },
} as const satisfies Record<string, OperationRule>;

export type Operation = keyof typeof OPERATIONS;

export interface OperationRule {
  permission: Permission;
  /** An agent may do it to itself without the permission. */
  self?: boolean;
}

/** What `operation` asks of the actor (also documentation: OpenAPI, docs/api.md). */
export function ruleOf(operation: Operation): OperationRule {
  return OPERATIONS[operation];
}

/** Whether `held` (an actor's, a deployer's) grants `permission`: 'admin' grants every one. */
export function can(held: Actor | ReadonlySet<Permission>, permission: Permission): boolean {
  const set = 'permissions' in held ? held.permissions : held;
  return set.has('admin') || set.has(permission);
}

/**
 * The Unauthorized failure when the operation's actor may not do `operation`, else undefined.
 * System work (the scheduler, the CLI, a world, a script's own context) has no actor and may do
 * anything. `subjectAgentId`: the agent the operation acts on, for the `self` rule; when it is not
 * known yet (the HTTP layer, before the handler), a `self` operation is left to the platform.
 */
export function authorize(ctx: OperationContext, operation: Operation, subjectAgentId?: number | 'unknown') {
  const { actor } = ctx;
  if (!actor) return undefined;
  const rule = ruleOf(operation);
  if (rule.self && (subjectAgentId === 'unknown' || subjectAgentId === actor.agentId)) return undefined;
  if (can(actor, rule.permission)) return undefined;
  return fail('Unauthorized', `agent ${actor.agentId}'s security profile lacks ${rule.permission}`);
}

/** A stored permission list (JSON: a profile's, a script deployer's), as a set of known permissions. */
export function parsePermissions(json: string | null): Set<Permission> {
  if (json === null) return new Set();
  return toPermissions(JSON.parse(json) as string[]);
}

/** The known permissions among `names`; unknown names grant nothing. */
export function toPermissions(names: readonly string[]): Set<Permission> {
  return new Set(names.filter((p): p is Permission => (PERMISSIONS as readonly string[]).includes(p)));
}
