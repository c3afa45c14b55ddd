import { fail, ok, type Result } from '../result.js';
import type { Executor } from '../storage/store.js';
import { recordAudit } from './audit.js';
import { recordEvents } from './events.js';
import { type AgentState, type OperationContext, parseId } from './model.js';
import { authorize } from './permissions.js';
import { type Agent, toAgent } from './resources.js';

async function skillsOf(db: Executor, agentIds: number[]): Promise<Map<number, number[]>> {
  const map = new Map<number, number[]>(agentIds.map((id) => [id, []]));
  if (agentIds.length === 0) return map;
  const rows = await db
    .selectFrom('agent_skills')
    .select(['agent_id', 'skill_id'])
    .where('agent_id', 'in', agentIds)
    .orderBy('skill_id')
    .execute();
  for (const r of rows) map.get(Number(r.agent_id))?.push(Number(r.skill_id));
  return map;
}

export async function listAgents(
  db: Executor,
  options: { afterId?: number; limit?: number } = {},
): Promise<Agent[]> {
  let q = db.selectFrom('agents').selectAll().orderBy('id');
  if (options.afterId !== undefined) q = q.where('id', '>', options.afterId);
  if (options.limit !== undefined) q = q.limit(options.limit);
  const rows = await q.execute();
  const skills = await skillsOf(
    db,
    rows.map((r) => Number(r.id)),
  );
  return rows.map((r) => toAgent(r, skills.get(Number(r.id)) ?? []));
}

export async function getAgent(db: Executor, id: number): Promise<Agent | undefined> {
  const row = await db.selectFrom('agents').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return undefined;
  return toAgent(row, (await skillsOf(db, [id])).get(id) ?? []);
}

/**
 * The one place an agent's state changes: guarded on the states it may leave (`from`; any other
 * state when omitted), so that a change racing another finds the agent moved on and changes
 * nothing. Returns the state it left, or undefined when the guard did not hold.
 */
export async function changeAgentState(
  db: Executor,
  now: number,
  agentId: number,
  to: AgentState,
  from?: readonly AgentState[],
): Promise<AgentState | undefined> {
  // One state to leave (routing's Available): no need to read which it is.
  let left = from?.length === 1 ? from[0] : undefined;
  if (left === undefined) {
    let current = db.selectFrom('agents').select('state').where('id', '=', agentId);
    if (from) current = current.where('state', 'in', from);
    left = (await current.executeTakeFirst())?.state as AgentState | undefined;
  }
  if (left === undefined || left === to) return undefined;
  const changed = await db
    .updateTable('agents')
    .set({ state: to, state_since: now })
    .where('id', '=', agentId)
    .where('state', '=', left)
    .executeTakeFirst();
  if (Number(changed.numUpdatedRows) !== 1) return undefined;
  recordEvents(db, [{ type: 'agent.state_changed', at: now, agentId, from: left, to }]);
  return left;
}

/** Sets an agent's state by hand (an agent itself, or a supervisor); routing runs next when Available. */
export async function setAgentState(
  db: Executor,
  now: number,
  id: number,
  state: AgentState,
  ctx: OperationContext,
): Promise<Result<Agent, 'NotFound' | 'Unauthorized' | 'AgentNotActive'>> {
  const unauthorized = authorize(ctx, 'agents.setState', id);
  if (unauthorized) return unauthorized;
  const row = await db
    .selectFrom('agents')
    .select(['id', 'active', 'state'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) return fail('NotFound', `no agent with ID ${id}`);
  if (row.active !== 1) return fail('AgentNotActive', `agent ${id} is not active`);
  const left = await changeAgentState(db, now, id, state);
  if (left !== undefined) {
    await recordAudit(db, now, ctx, {
      action: 'agent.state',
      targetType: 'agent',
      targetId: id,
      details: { from: left, to: state },
    });
  }
  const agent = await getAgent(db, id);
  return agent ? ok(agent) : fail('NotFound', `no agent with ID ${id}`);
}

/**
 * A target agent: `""`, null or absent means none (route to the skill); otherwise the numeric
 * ID of an active agent — a username is refused, as Studio refuses it.
 */
export async function checkTargetAgent(
  db: Executor,
  target: string | number | null | undefined,
  property: string,
  /** Whether the agent must be active now (not for a callback of the past). Default true. */
  options: { active?: boolean } = {},
): Promise<Result<number | null, 'InvalidTargetAgentId'>> {
  if (target === null || target === undefined || String(target).trim() === '') return ok(null);
  const id = parseId(target);
  if (id === undefined) {
    return fail(
      'InvalidTargetAgentId',
      `${property} '${String(target)}' is not an agent ID; give the agent's numeric ID (not a username), or "" to route to the skill`,
      'targetAgentId',
    );
  }
  const agent = await db
    .selectFrom('agents')
    .select(['id', 'active'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!agent) return fail('InvalidTargetAgentId', `no agent with ID ${id}`, 'targetAgentId');
  if ((options.active ?? true) && agent.active !== 1)
    return fail('InvalidTargetAgentId', `agent ${id} is not active`, 'targetAgentId');
  return ok(id);
}
