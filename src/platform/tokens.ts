import { createHash, randomBytes } from 'node:crypto';
import { fail, ok, type Result } from '../result.js';
import type { Executor } from '../storage/store.js';
import { recordAudit } from './audit.js';
import type { Actor, OperationContext } from './model.js';
import { authorize, parsePermissions } from './permissions.js';

const PREFIX = 'sb_';

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * A bearer token for an agent: shown once, stored only as its SHA-256. The agent's security
 * profile decides what it may do; revoking it, or deactivating the agent, stops it at once.
 */
export async function createToken(
  db: Executor,
  now: number,
  agentId: number,
  label: string,
  ctx: OperationContext,
): Promise<Result<{ id: number; token: string }, 'Unauthorized' | 'NotFound' | 'AgentNotActive'>> {
  const unauthorized = authorize(ctx, 'tokens.create');
  if (unauthorized) return unauthorized;
  const agent = await db
    .selectFrom('agents')
    .select(['id', 'active'])
    .where('id', '=', agentId)
    .executeTakeFirst();
  if (!agent) return fail('NotFound', `no agent with ID ${agentId}`);
  if (agent.active !== 1) return fail('AgentNotActive', `agent ${agentId} is not active`);
  const token = `${PREFIX}${randomBytes(32).toString('base64url')}`;
  const row = await db
    .insertInto('tokens')
    .values({ agent_id: agentId, token_hash: hashToken(token), label, created_at: now, revoked_at: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  await recordAudit(db, now, ctx, {
    action: 'token.created',
    targetType: 'agent',
    targetId: agentId,
    details: { tokenId: Number(row.id), label },
  });
  return ok({ id: Number(row.id), token });
}

/** Revokes by token id or by the token itself. */
export async function revokeToken(
  db: Executor,
  now: number,
  ref: string,
  ctx: OperationContext,
): Promise<Result<{ id: number }, 'Unauthorized' | 'NotFound'>> {
  const unauthorized = authorize(ctx, 'tokens.revoke');
  if (unauthorized) return unauthorized;
  const byToken = ref.startsWith(PREFIX);
  const id = byToken ? undefined : Number(ref);
  if (!byToken && !Number.isSafeInteger(id))
    return fail('NotFound', `'${ref}' is neither a token nor a token ID`);
  const row = await db
    .updateTable('tokens')
    .set({ revoked_at: now })
    .where(byToken ? 'token_hash' : 'id', '=', byToken ? hashToken(ref) : (id as number))
    .where('revoked_at', 'is', null)
    .returning(['id', 'agent_id'])
    .executeTakeFirst();
  if (!row) return fail('NotFound', 'no such token, or it is already revoked');
  await recordAudit(db, now, ctx, {
    action: 'token.revoked',
    targetType: 'agent',
    targetId: Number(row.agent_id),
    details: { tokenId: Number(row.id) },
  });
  return ok({ id: Number(row.id) });
}

/**
 * The actor behind a bearer token, or InvalidSecurityUser (unknown, revoked, inactive agent).
 * One query: it runs before every API request.
 */
export async function authenticate(
  db: Executor,
  token: string,
): Promise<Result<Actor, 'InvalidSecurityUser'>> {
  const row = await db
    .selectFrom('tokens')
    .innerJoin('agents', 'agents.id', 'tokens.agent_id')
    .leftJoin('security_profiles', 'security_profiles.name', 'agents.security_profile')
    .select((eb) => [
      'agents.id',
      'agents.username',
      'agents.active',
      'agents.time_zone',
      'tokens.revoked_at',
      'security_profiles.permissions',
      eb.selectFrom('business_unit').select('time_zone').where('id', '=', 1).as('unit_time_zone'),
    ])
    .where('tokens.token_hash', '=', hashToken(token))
    .executeTakeFirst();
  if (!row) return fail('InvalidSecurityUser', 'the bearer token is not known');
  if (row.revoked_at !== null) return fail('InvalidSecurityUser', 'the bearer token was revoked');
  if (row.active !== 1)
    return fail('InvalidSecurityUser', `agent ${row.id} behind the token is no longer active`);
  return ok({
    agentId: Number(row.id),
    username: row.username,
    permissions: parsePermissions(row.permissions),
    timeZone: row.time_zone ?? row.unit_time_zone ?? 'UTC',
  });
}
