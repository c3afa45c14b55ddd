import type { Executor } from '../storage/store.js';
import type { OperationContext } from './model.js';
import { type AuditEntry, toAuditEntry } from './resources.js';

export interface AuditRecord {
  action: string;
  targetType:
    | 'contact'
    | 'callback'
    | 'agent'
    | 'skill'
    | 'script'
    | 'business-unit'
    | 'token'
    | 'security-key'
    | 'request';
  targetId: number | string;
  details?: Record<string, unknown>;
}

export function describeActor(ctx: OperationContext): string {
  // A request without a valid token has no agent behind it: it is anonymous, not the API itself.
  const who = ctx.actor
    ? `agent:${ctx.actor.agentId} (${ctx.actor.username})`
    : ctx.channel === 'api'
      ? 'anonymous'
      : ctx.channel;
  return ctx.via ? `${who} via ${ctx.via}` : who;
}

/**
 * What an edit changed, for its audit entry: each field whose value differs, from and to. Fields
 * that change on every write (`updatedAt`) are not news.
 */
export function changedFields<T extends object>(
  before: T,
  after: T,
  ignore: readonly (keyof T)[] = [],
): Record<string, { from: unknown; to: unknown }> {
  const changed: Record<string, { from: unknown; to: unknown }> = {};
  for (const key of Object.keys(after) as (keyof T & string)[]) {
    if (ignore.includes(key)) continue;
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key]))
      changed[key] = { from: before[key], to: after[key] };
  }
  return changed;
}

/**
 * Appends audit entries inside the caller's transaction, so they commit with the change: one
 * entry for a single operation, or one per row of a set-based one (a dispatch batch) in one insert.
 */
export async function recordAudit(
  db: Executor,
  at: number,
  ctx: OperationContext,
  records: AuditRecord | readonly AuditRecord[],
): Promise<void> {
  const list = Array.isArray(records) ? records : [records as AuditRecord];
  if (list.length === 0) return;
  const actor = describeActor(ctx);
  await db
    .insertInto('audit_log')
    .values(
      list.map((record) => ({
        at,
        actor,
        channel: ctx.channel,
        action: record.action,
        target_type: record.targetType,
        target_id: String(record.targetId),
        details: JSON.stringify(record.details ?? {}),
      })),
    )
    .execute();
}

export async function listAudit(
  db: Executor,
  options: { afterId?: number; limit?: number } = {},
): Promise<AuditEntry[]> {
  let q = db.selectFrom('audit_log').selectAll().orderBy('id');
  if (options.afterId !== undefined) q = q.where('id', '>', options.afterId);
  if (options.limit !== undefined) q = q.limit(options.limit);
  return (await q.execute()).map(toAuditEntry);
}
