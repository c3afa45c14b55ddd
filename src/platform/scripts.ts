import { fail, ok, type Result } from '../result.js';
import type { ActionCatalog } from '../script/action-contract.js';
import type { Finding } from '../script/finding.js';
import type { Script } from '../script/types.js';
import { hasErrors, validateScriptText } from '../script/validate.js';
import type { Executor } from '../storage/store.js';
import { recordAudit } from './audit.js';
import { denied, type OperationContext } from './model.js';

export interface DeployedScript {
  name: string;
  script: Script;
  updatedAt: string;
}

/** Deploys a script under its `name`: only a script without validation errors is stored. */
export async function deployScript(
  db: Executor,
  now: number,
  text: string,
  catalog: ActionCatalog,
  ctx: OperationContext,
): Promise<Result<{ script: DeployedScript; findings: Finding[] }, 'Unauthorized' | 'InvalidScript'>> {
  const unauthorized = denied(ctx, 'scripts:write');
  if (unauthorized) return unauthorized;
  const { script, findings } = validateScriptText(text, catalog);
  if (!script || hasErrors(findings)) {
    const first = findings.find((f) => f.severity === 'error');
    return fail('InvalidScript', first ? `${first.path}: ${first.message}` : 'the script is not valid');
  }
  const body = JSON.stringify(script);
  const existing = await db
    .selectFrom('scripts')
    .select('name')
    .where('name', '=', script.name)
    .executeTakeFirst();
  if (existing) {
    await db.updateTable('scripts').set({ body, updated_at: now }).where('name', '=', script.name).execute();
  } else {
    await db.insertInto('scripts').values({ name: script.name, body, updated_at: now }).execute();
  }
  await recordAudit(db, now, ctx, {
    action: existing ? 'script.updated' : 'script.created',
    targetType: 'script',
    targetId: script.name,
  });
  return ok({ script: { name: script.name, script, updatedAt: new Date(now).toISOString() }, findings });
}

export async function getScript(db: Executor, name: string): Promise<DeployedScript | undefined> {
  const row = await db.selectFrom('scripts').selectAll().where('name', '=', name).executeTakeFirst();
  if (!row) return undefined;
  return {
    name: row.name,
    script: JSON.parse(row.body) as Script,
    updatedAt: new Date(Number(row.updated_at)).toISOString(),
  };
}
