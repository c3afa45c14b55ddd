import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { sql } from 'kysely';
import { fail, ok, type Result } from '../result.js';
import type { Executor } from '../storage/store.js';
import { recordAudit } from './audit.js';
import { getBusinessUnit } from './business-unit.js';
import { type Actor, type OperationContext, PERMISSIONS, type Permission, parseId } from './model.js';
import { can, parsePermissions, toPermissions } from './permissions.js';
import { isValidTimeZone } from './schedule-date.js';
import { runOfContact } from './script-runs.js';
import { deployerOf } from './scripts.js';

/**
 * A security user is what SETSECURITYUSER stores in a script variable: an opaque handle
 * `su2.<payload>.<signature>` naming an agent and a time zone, bound to the installation and the
 * script run it was issued to, valid for the business unit's handleLifetimeSeconds, and signed
 * with a key that can be rotated. It never holds a password.
 */
const PREFIX = 'su2.';
/** Handles before issue 8: unbound, never expiring; refused with a reason of their own. */
const OLD_PREFIX = 'su1.';

interface HandlePayload {
  /** agent id */
  a: number;
  /** the agent's username at issue: a changed one refuses the handle */
  u: string;
  /** time zone */
  z: string;
  /** issued at (ms) */
  i: number;
  /** installation id */
  n: string;
  /** script run id */
  r: string;
  /** signing key id */
  k: string;
  /** the agent's permissions at issue: a profile raised since grants nothing more */
  p: string[];
}

const isPayload = (v: unknown): v is HandlePayload => {
  const p = v as Partial<HandlePayload> | null;
  return (
    typeof p === 'object' &&
    p !== null &&
    Number.isSafeInteger(p.a) &&
    typeof p.u === 'string' &&
    typeof p.z === 'string' &&
    Number.isSafeInteger(p.i) &&
    typeof p.n === 'string' &&
    typeof p.r === 'string' &&
    typeof p.k === 'string' &&
    Array.isArray(p.p) &&
    p.p.every((x) => typeof x === 'string')
  );
};

export function looksLikeSecurityUser(text: string): boolean {
  return text.startsWith(PREFIX) || text.startsWith(OLD_PREFIX);
}

/** How the platform issues and checks handles (PlatformOptions, decided by whoever starts it). */
export interface HandleOptions {
  /** SETSECURITYUSER assumes only an agent whose permissions the running script's deployer holds. */
  withinDeployer: boolean;
  /** A key from outside the database (environment or file): signs and verifies every handle. */
  handleKey: string | undefined;
  /** Runs driven outside the work queue (the offline simulator's own). */
  detachedRun: ((contactId: number) => DetachedRun | undefined) | undefined;
  /** Row locks (PostgreSQL): the first key of a fresh database is created once. */
  lockRows: boolean;
}

/** Who deployed a script, and the permissions they held then: the most its SETSECURITYUSER may assume. */
export interface Deployer {
  deployedBy: string;
  permissions: ReadonlySet<Permission>;
}

/** A script run the work queue does not hold: the offline simulator's own run. */
export interface DetachedRun {
  runId: string;
  scriptName: string;
  /** Absent: nobody deployed it (a simulation without `--deployed-by`). */
  deployer?: Deployer;
}

/** The script asking: its contact (and through it, its run) and its name. */
export interface ScriptCaller {
  contactId: number;
  scriptName: string;
}

interface RunRecord {
  runId: string;
  scriptName: string;
  startedBy: unknown;
  deployer: Deployer | undefined;
}

/** The contact's run, with the script's deployer as recorded at its deploy. */
async function runOf(
  db: Executor,
  contactId: number,
  options: HandleOptions,
): Promise<RunRecord | undefined> {
  const run = await runOfContact(db, contactId);
  if (!run) {
    const detached = options.detachedRun?.(contactId);
    return detached && { ...detached, startedBy: {}, deployer: detached.deployer };
  }
  if (run.runId === null) return undefined;
  return {
    runId: run.runId,
    scriptName: run.scriptName,
    startedBy: run.startedBy,
    deployer: await deployerOf(db, run.scriptName),
  };
}

/**
 * A script acting for itself, without a security user (COMMITMENT, QUEUECALLBACK), may do only
 * what whoever deployed it may: else whoever may deploy scripts could have callbacks scheduled and
 * calls queued without holding the permission. Other contexts pass (their actor is checked by
 * `authorize`; the system may do anything).
 */
export async function authorizeScript(
  db: Executor,
  ctx: OperationContext,
  permission: Permission,
  options: HandleOptions,
) {
  if (ctx.channel !== 'script' || ctx.actor || ctx.contactId === undefined || !options.withinDeployer) {
    return undefined;
  }
  const run = await runOf(db, ctx.contactId, options);
  const deployer = run?.deployer;
  if (deployer && can(deployer.permissions, permission)) return undefined;
  return fail(
    'Unauthorized',
    `script '${run?.scriptName ?? ctx.via ?? '?'}' acts within its deployer's permissions, and ${deployer?.deployedBy ?? 'no deployer on record'} lacks ${permission}`,
  );
}

/** The permissions `agent` holds that `deployer` lacks, in the documented order. */
function lacking(agent: ReadonlySet<Permission>, deployer: ReadonlySet<Permission>): Permission[] {
  return PERMISSIONS.filter((p) => agent.has(p) && !can(deployer, p));
}

/** What both sets allow: a permission is held when each covers it. */
function within(current: ReadonlySet<Permission>, issued: ReadonlySet<Permission>): Set<Permission> {
  if (issued.has('admin')) return new Set(current);
  if (current.has('admin')) return new Set(issued);
  return new Set([...current].filter((p) => issued.has(p)));
}

async function findAgent(db: Executor, agentRef: string) {
  const ref = agentRef.trim();
  if (ref === '') return fail('InvalidAgent', 'Agent is empty; give an agent ID or username');
  const id = parseId(ref);
  const agents = db
    .selectFrom('agents')
    .select(['id', 'active', 'time_zone', 'username', 'security_profile']);
  // Usernames are compared without regard to case, as people type them.
  const agent = await (id === undefined
    ? agents.where(sql<string>`lower(username)`, '=', ref.toLowerCase())
    : agents.where('id', '=', id)
  ).executeTakeFirst();
  if (!agent) return fail('InvalidAgent', `no agent with ${id === undefined ? 'username' : 'ID'} '${ref}'`);
  return ok({ ...agent, id: Number(agent.id) });
}

/**
 * An agent as the deployer of a script that was never deployed (`switchboard run --deployed-by`):
 * its security profile's permissions now, as deployScript records them at a deploy.
 */
export async function agentAsDeployer(
  db: Executor,
  agentRef: string,
): Promise<Result<Deployer, 'InvalidAgent'>> {
  const agent = await findAgent(db, agentRef);
  if (!agent.ok) return agent;
  return ok({
    deployedBy: `agent:${agent.value.id} (${agent.value.username})`,
    permissions: await profilePermissions(db, agent.value.security_profile),
  });
}

async function installationId(db: Executor): Promise<string> {
  const row = await db
    .selectFrom('installation')
    .select('installation_id')
    .where('id', '=', 1)
    .executeTakeFirst();
  if (row) return row.installation_id;
  // Migration 0004 writes the row; a database that lost it gets a new one, which refuses old handles.
  await db
    .insertInto('installation')
    .values({ id: 1, installation_id: randomUUID() })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  return installationId(db);
}

interface Key {
  id: string;
  secret: string;
}

/** The ID a key from outside the database goes by in handles: a fingerprint, never the key. */
export function externalKeyId(secret: string): string {
  return `ext:${createHash('sha256').update(secret).digest('hex').slice(0, 12)}`;
}

/** The key that signs: the external one, else the newest unretired row (created on first use). */
async function signingKey(db: Executor, now: number, options: HandleOptions): Promise<Key> {
  if (options.handleKey !== undefined)
    return { id: externalKeyId(options.handleKey), secret: options.handleKey };
  const newest = () =>
    db
      .selectFrom('security_keys')
      .select(['id', 'secret'])
      .where('retired_at', 'is', null)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
  let row = await newest();
  if (!row) {
    // Two processes on a fresh PostgreSQL database: the installation row serialises them, and the
    // second finds the first one's key. (SQLite has one writer at a time.)
    if (options.lockRows) {
      await installationId(db);
      await db.selectFrom('installation').select('id').where('id', '=', 1).forUpdate().execute();
      row = await newest();
    }
    row ??= await addKey(db, now);
  }
  return { id: String(row.id), secret: row.secret };
}

async function addKey(db: Executor, now: number): Promise<{ id: number; secret: string }> {
  const secret = randomBytes(32).toString('base64url');
  const added = await db
    .insertInto('security_keys')
    .values({ secret, created_at: now, retired_at: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { id: Number(added.id), secret };
}

/** The key a handle names, if it may still verify: the external one, or an unretired row. */
async function verifyingKey(db: Executor, id: string, options: HandleOptions): Promise<Key | undefined> {
  if (options.handleKey !== undefined) {
    return id === externalKeyId(options.handleKey) ? { id, secret: options.handleKey } : undefined;
  }
  const rowId = parseId(id);
  if (rowId === undefined) return undefined;
  const row = await db
    .selectFrom('security_keys')
    .select(['id', 'secret'])
    .where('id', '=', rowId)
    .where('retired_at', 'is', null)
    .executeTakeFirst();
  return row && { id, secret: row.secret };
}

function sign(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(`${PREFIX}${payload}`).digest('base64url');
}

export type IssueError = 'InvalidAgent' | 'InvalidTimeZone' | 'Unauthorized';

/**
 * SETSECURITYUSER: authenticates an active agent (ID or username) as the security user of the
 * caller's script run. With `withinDeployer`, only an agent whose permissions the deployer of the
 * running script held at deploy ('admin' covers all). Audited with the principal chain.
 */
export async function issueSecurityUser(
  db: Executor,
  now: number,
  agentRef: string,
  timeZone: string,
  caller: ScriptCaller,
  options: HandleOptions,
): Promise<Result<{ handle: string; agentId: number; timeZone: string }, IssueError>> {
  const found = await findAgent(db, agentRef);
  if (!found.ok) return found;
  const agent = found.value;
  if (agent.active !== 1) return fail('InvalidAgent', `agent ${agent.id} (${agent.username}) is not active`);
  const bu = await getBusinessUnit(db);
  const zone = timeZone.trim() || agent.time_zone || bu.timeZone;
  if (!isValidTimeZone(zone)) {
    return fail('InvalidTimeZone', `TimeZone '${zone}' is not an IANA time zone (e.g. Europe/Berlin)`);
  }
  const run = await runOf(db, caller.contactId, options);
  /** A refusal is audited as an issue is: an attempt to borrow power shows. */
  const refuse = async (reason: string) => {
    await recordAudit(
      db,
      now,
      { channel: 'script', via: caller.scriptName },
      {
        action: 'security-user.refused',
        targetType: 'agent',
        targetId: agent.id,
        details: {
          script: caller.scriptName,
          contactId: caller.contactId,
          reason,
          deployedBy: run?.deployer?.deployedBy ?? null,
          startedBy: run?.startedBy ?? null,
        },
      },
    );
    return fail('Unauthorized', reason);
  };
  // Not "no run, no check": a handle is bound to a run, so without one there is nothing to issue.
  if (!run) {
    return refuse(
      `contact ${caller.contactId} has no script run on record; a security user is issued to a running script only`,
    );
  }
  const permissions = await profilePermissions(db, agent.security_profile);
  if (options.withinDeployer) {
    if (!run.deployer) return refuse(`script '${run.scriptName}' has no deployer on record; deploy it again`);
    const missing = lacking(permissions, run.deployer.permissions);
    if (missing.length > 0) {
      return refuse(
        `agent ${agent.id} (${agent.username}) holds permissions the deployer of script '${run.scriptName}' (${run.deployer.deployedBy}) lacks: ${missing.join(', ')}`,
      );
    }
  }
  const key = await signingKey(db, now, options);
  const payload = Buffer.from(
    JSON.stringify({
      a: agent.id,
      u: agent.username,
      z: zone,
      i: now,
      n: await installationId(db),
      r: run.runId,
      k: key.id,
      p: [...permissions].sort(),
    } satisfies HandlePayload),
  ).toString('base64url');
  await recordAudit(
    db,
    now,
    { channel: 'script', via: run.scriptName },
    {
      action: 'security-user.issued',
      targetType: 'agent',
      targetId: agent.id,
      details: {
        script: run.scriptName,
        contactId: caller.contactId,
        runId: run.runId,
        timeZone: zone,
        keyId: key.id,
        deployedBy: run.deployer?.deployedBy ?? null,
        startedBy: run.startedBy,
      },
    },
  );
  return ok({
    handle: `${PREFIX}${payload}.${sign(key.secret, payload)}`,
    agentId: agent.id,
    timeZone: zone,
  });
}

/**
 * Turns a handle back into an actor, for the script run of `caller`'s contact. Refuses empty,
 * malformed, forged, expired handles, those signed with a retired or unknown key, issued by
 * another installation or to another run, and those naming an agent now inactive or renamed.
 */
export async function resolveSecurityUser(
  db: Executor,
  now: number,
  handle: string,
  caller: Pick<ScriptCaller, 'contactId'>,
  options: HandleOptions,
): Promise<Result<Actor, 'InvalidSecurityUser'>> {
  const bad = (why: string) => fail('InvalidSecurityUser' as const, why);
  if (handle.trim() === '') return bad('the security user variable is empty; run SETSECURITYUSER first');
  if (handle.startsWith(OLD_PREFIX)) {
    return bad('the security user is of an older kind (su1), no longer accepted; run SETSECURITYUSER again');
  }
  if (!handle.startsWith(PREFIX)) return bad('the security user is not a value set by SETSECURITYUSER');
  const parts = handle.slice(PREFIX.length).split('.');
  const [payload, signature] = parts;
  if (parts.length !== 2 || !payload || !signature) return bad('the security user is malformed');
  let data: unknown;
  try {
    data = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return bad('the security user is malformed');
  }
  if (!isPayload(data)) return bad('the security user is malformed');
  const key = await verifyingKey(db, data.k, options);
  if (!key) {
    return bad('the security user was signed with a retired or unknown key; run SETSECURITYUSER again');
  }
  const expected = Buffer.from(sign(key.secret, payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return bad('the security user failed its signature check (altered or from another business unit)');
  }
  if (data.n !== (await installationId(db)))
    return bad('the security user was issued by another installation');
  const { handleLifetimeSeconds } = await getBusinessUnit(db);
  if (now - data.i > handleLifetimeSeconds * 1000) {
    return bad(
      `the security user expired: issued ${new Date(data.i).toISOString()}, valid for ${handleLifetimeSeconds} s; run SETSECURITYUSER again`,
    );
  }
  const run = await runOf(db, caller.contactId, options);
  if (run?.runId !== data.r) return bad('the security user was issued to another script run');
  const agent = await db
    .selectFrom('agents')
    .select(['id', 'username', 'active', 'security_profile'])
    .where('id', '=', data.a)
    .executeTakeFirst();
  if (agent?.active !== 1) return bad(`agent ${data.a} behind the security user is no longer active`);
  if (agent.username !== data.u) {
    return bad(
      `agent ${data.a} behind the security user was '${data.u}' when it was issued and is '${agent.username}' now; run SETSECURITYUSER again`,
    );
  }
  let permissions = within(await profilePermissions(db, agent.security_profile), toPermissions(data.p));
  // A parked run resumes with the script as deployed now: whoever deployed it since bounds the
  // handle too, or a redeploy by someone with less could use a handle issued under the admin's.
  if (options.withinDeployer) permissions = within(permissions, run.deployer?.permissions ?? new Set());
  return ok({ agentId: Number(agent.id), username: agent.username, permissions, timeZone: data.z });
}

export interface Rotation {
  added: number;
  /** Retired now: with `retireOld` every other key, else those whose handles have all expired. */
  retired: number[];
  /** Still verifying handles they signed, until the last of those expires. */
  kept: Array<{ id: number; verifiesUntil: number }>;
}

/**
 * `switchboard keys rotate`: a new key signs from now on. A key that stopped signing more than a
 * handle lifetime ago verifies nothing that could still resolve, so it is retired; the others keep
 * verifying until their last handle expires, unless `retireOld` retires them at once (a leaked
 * key: every handle they signed stops resolving).
 */
export async function rotateSigningKeys(
  db: Executor,
  now: number,
  ctx: OperationContext,
  options: { retireOld: boolean },
): Promise<Rotation> {
  const added = await addKey(db, now);
  const { handleLifetimeSeconds } = await getBusinessUnit(db);
  const keys = await db
    .selectFrom('security_keys')
    .select(['id', 'created_at', 'retired_at'])
    .orderBy('id')
    .execute();
  const rotation: Rotation = { added: added.id, retired: [], kept: [] };
  keys.forEach((key, i) => {
    const id = Number(key.id);
    if (id === added.id || key.retired_at !== null) return;
    // It signed until the next key was made; its last handle expires a lifetime after that.
    const successor = keys[i + 1];
    const verifiesUntil = Number(successor?.created_at ?? now) + handleLifetimeSeconds * 1000;
    if (options.retireOld || verifiesUntil <= now) rotation.retired.push(id);
    else rotation.kept.push({ id, verifiesUntil });
  });
  if (rotation.retired.length > 0) {
    await db
      .updateTable('security_keys')
      .set({ retired_at: now })
      .where('id', 'in', rotation.retired)
      .execute();
  }
  await recordAudit(db, now, ctx, {
    action: 'security-key.rotated',
    targetType: 'security-key',
    targetId: added.id,
    details: {
      retireOld: options.retireOld,
      retired: rotation.retired,
      kept: rotation.kept.map((k) => k.id),
    },
  });
  return rotation;
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
