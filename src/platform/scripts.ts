import { createHash } from 'node:crypto';
import { fail, ok, type Result } from '../result.js';
import type { ActionCatalog } from '../script/action-contract.js';
import type { Finding } from '../script/finding.js';
import type { Script } from '../script/types.js';
import { hasErrors, validateScriptText } from '../script/validate.js';
import type { Executor } from '../storage/store.js';
import { describeActor, recordAudit } from './audit.js';
import { recordEvents } from './events.js';
import type { OperationContext, Permission } from './model.js';
import { authorize, parsePermissions } from './permissions.js';

export interface DeployedScript {
  name: string;
  script: Script;
  updatedAt: string;
  /** SHA-256 of the body as stored: names the exact script a contact ran in the audit. */
  hash: string;
}

/** The audit's name for one exact script body. */
export function scriptHash(body: string): string {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

/** Deploys a script under its `name`: only a script without validation errors is stored. */
export async function deployScript(
  db: Executor,
  now: number,
  text: string,
  catalog: ActionCatalog,
  ctx: OperationContext,
): Promise<Result<{ script: DeployedScript; findings: Finding[] }, 'Unauthorized' | 'InvalidScript'>> {
  const unauthorized = authorize(ctx, 'scripts.deploy');
  if (unauthorized) return unauthorized;
  const { script, findings } = validateScriptText(text, catalog);
  if (!script || hasErrors(findings)) {
    const first = findings.find((f) => f.severity === 'error');
    return fail('InvalidScript', first ? `${first.path}: ${first.message}` : 'the script is not valid');
  }
  const body = JSON.stringify(script);
  const deployer = {
    deployed_by: describeActor(ctx),
    // The operator (CLI, a world, `apply`) deploys with every permission; an agent, with its own.
    deployer_permissions: JSON.stringify(ctx.actor ? [...ctx.actor.permissions].sort() : ['admin']),
  };
  const previous = await db
    .selectFrom('scripts')
    .select('body')
    .where('name', '=', script.name)
    .executeTakeFirst();
  // Insert, else update: the primary key decides which, even when two deploys race.
  const created = await db
    .insertInto('scripts')
    .values({ name: script.name, body, updated_at: now, ...deployer })
    .onConflict((oc) => oc.column('name').doNothing())
    .returning('name')
    .executeTakeFirst();
  if (!created) {
    await db
      .updateTable('scripts')
      .set({ body, updated_at: now, ...deployer })
      .where('name', '=', script.name)
      .execute();
  }
  recordEvents(db, [{ type: 'script.deployed', at: now, name: script.name }]);
  await recordAudit(db, now, ctx, {
    action: created ? 'script.created' : 'script.updated',
    targetType: 'script',
    targetId: script.name,
    details: {
      hash: scriptHash(body),
      ...(previous ? { previousHash: scriptHash(previous.body) } : {}),
    },
  });
  return ok({
    script: { name: script.name, script, updatedAt: new Date(now).toISOString(), hash: scriptHash(body) },
    findings,
  });
}

export async function getScript(db: Executor, name: string): Promise<DeployedScript | undefined> {
  const row = await db.selectFrom('scripts').selectAll().where('name', '=', name).executeTakeFirst();
  if (!row) return undefined;
  return {
    name: row.name,
    script: JSON.parse(row.body) as Script,
    updatedAt: new Date(Number(row.updated_at)).toISOString(),
    hash: scriptHash(row.body),
  };
}

/** Validates a script without deploying it. */
export function validateScript(
  text: string,
  catalog: ActionCatalog,
): { valid: boolean; findings: Finding[] } {
  const { findings } = validateScriptText(text, catalog);
  return { valid: !hasErrors(findings), findings };
}

/** Who deployed a script and the permissions they held then: the most its security users may hold. */
export async function deployerOf(
  db: Executor,
  name: string,
): Promise<{ deployedBy: string; permissions: Set<Permission> } | undefined> {
  const row = await db
    .selectFrom('scripts')
    .select(['deployed_by', 'deployer_permissions'])
    .where('name', '=', name)
    .executeTakeFirst();
  return row && { deployedBy: row.deployed_by, permissions: parsePermissions(row.deployer_permissions) };
}
