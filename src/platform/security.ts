import { createHmac, timingSafeEqual } from 'node:crypto';
import { sql } from 'kysely';
import { fail, ok, type Result } from '../result.js';
import type { Executor } from '../storage/store.js';
import { getBusinessUnit } from './business-unit.js';
import { type Actor, PERMISSIONS, type Permission, parseId } from './model.js';
import { isValidTimeZone } from './schedule-date.js';

/**
 * A security user is what SETSECURITYUSER stores in a script variable: an opaque handle
 * `su1.<payload>.<signature>` naming an agent and a time zone, signed with the business
 * unit's secret. Tampering breaks the signature; it never holds a password.
 */
const PREFIX = 'su1.';

interface HandlePayload {
  /** agent id */
  a: number;
  /** time zone */
  z: string;
  /** issued at (ms) */
  i: number;
}

export function looksLikeSecurityUser(text: string): boolean {
  return text.startsWith(PREFIX);
}

function sign(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload).digest('base64url');
}

export type IssueError = 'InvalidAgent' | 'InvalidTimeZone';

/** SETSECURITYUSER: authenticates an active agent (ID or username) as the script's security user. */
export async function issueSecurityUser(
  db: Executor,
  now: number,
  agentRef: string,
  timeZone: string,
): Promise<Result<{ handle: string; agentId: number; timeZone: string }, IssueError>> {
  const ref = agentRef.trim();
  if (ref === '') return fail('InvalidAgent', 'Agent is empty; give an agent ID or username');
  const id = parseId(ref);
  const agents = db.selectFrom('agents').select(['id', 'active', 'time_zone', 'username']);
  // Usernames are compared without regard to case, as people type them.
  const agent = await (id === undefined
    ? agents.where(sql<string>`lower(username)`, '=', ref.toLowerCase())
    : agents.where('id', '=', id)
  ).executeTakeFirst();
  if (!agent) return fail('InvalidAgent', `no agent with ${id === undefined ? 'username' : 'ID'} '${ref}'`);
  if (agent.active !== 1) return fail('InvalidAgent', `agent ${agent.id} (${agent.username}) is not active`);
  const bu = await getBusinessUnit(db);
  const zone = timeZone.trim() || agent.time_zone || bu.timeZone;
  if (!isValidTimeZone(zone)) {
    return fail('InvalidTimeZone', `TimeZone '${zone}' is not an IANA time zone (e.g. Europe/Berlin)`);
  }
  const payload = Buffer.from(
    JSON.stringify({ a: Number(agent.id), z: zone, i: now } satisfies HandlePayload),
  ).toString('base64url');
  return ok({
    handle: `${PREFIX}${payload}.${sign(bu.secret, payload)}`,
    agentId: Number(agent.id),
    timeZone: zone,
  });
}

/** Turns a handle back into an actor; fails for empty, malformed, forged or stale handles. */
export async function resolveSecurityUser(
  db: Executor,
  handle: string,
): Promise<Result<Actor, 'InvalidSecurityUser'>> {
  const bad = (why: string) => fail('InvalidSecurityUser' as const, why);
  if (handle.trim() === '') return bad('the security user variable is empty; run SETSECURITYUSER first');
  if (!handle.startsWith(PREFIX)) return bad('the security user is not a value set by SETSECURITYUSER');
  const [payload, signature] = handle.slice(PREFIX.length).split('.');
  if (!payload || !signature) return bad('the security user is malformed');
  const bu = await getBusinessUnit(db);
  const expected = Buffer.from(sign(bu.secret, payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return bad('the security user failed its signature check (altered or from another business unit)');
  }
  let data: HandlePayload;
  try {
    data = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as HandlePayload;
  } catch {
    return bad('the security user is malformed');
  }
  const agent = await db
    .selectFrom('agents')
    .select(['id', 'username', 'active', 'security_profile'])
    .where('id', '=', data.a)
    .executeTakeFirst();
  if (agent?.active !== 1) return bad(`agent ${data.a} behind the security user is no longer active`);
  return ok({
    agentId: Number(agent.id),
    username: agent.username,
    permissions: await profilePermissions(db, agent.security_profile),
    timeZone: data.z,
  });
}

export async function profilePermissions(db: Executor, profile: string | null): Promise<Set<Permission>> {
  if (profile === null) return new Set();
  const row = await db
    .selectFrom('security_profiles')
    .select('permissions')
    .where('name', '=', profile)
    .executeTakeFirst();
  return parsePermissions(row?.permissions ?? null);
}

/** A profile's stored permission list (JSON), as a set of known permissions. */
export function parsePermissions(json: string | null): Set<Permission> {
  if (json === null) return new Set();
  const names = JSON.parse(json) as string[];
  return new Set(names.filter((p): p is Permission => (PERMISSIONS as readonly string[]).includes(p)));
}
