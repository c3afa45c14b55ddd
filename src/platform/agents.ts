import { fail, ok, type Result } from '../result.js';
import type { Executor } from '../storage/store.js';
import { recordAudit } from './audit.js';
import { type Agent, type AgentState, denied, type OperationContext, toAgent } from './model.js';

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

/** Sets an agent's state; routing runs next when the agent became Available. */
export async function setAgentState(
  db: Executor,
  now: number,
  id: number,
  state: AgentState,
  ctx: OperationContext,
): Promise<Result<Agent, 'NotFound' | 'Unauthorized' | 'AgentNotActive'>> {
  // Agents may always set their own state.
  const unauthorized = ctx.actor?.agentId === id ? undefined : denied(ctx, 'agents:write');
  if (unauthorized) return unauthorized;
  const row = await db
    .selectFrom('agents')
    .select(['id', 'active', 'state'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) return fail('NotFound', `no agent with ID ${id}`);
  if (row.active !== 1) return fail('AgentNotActive', `agent ${id} is not active`);
  if (row.state !== state) {
    await db.updateTable('agents').set({ state, state_since: now }).where('id', '=', id).execute();
    await recordAudit(db, now, ctx, {
      action: 'agent.state',
      targetType: 'agent',
      targetId: id,
      details: { from: row.state, to: state },
    });
  }
  const agent = await getAgent(db, id);
  return agent ? ok(agent) : fail('NotFound', `no agent with ID ${id}`);
}
