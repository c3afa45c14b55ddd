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
    | 'security-key';
  targetId: number | string;
  details?: Record<string, unknown>;
}

export function describeActor(ctx: OperationContext): string {
  const who = ctx.actor ? `agent:${ctx.actor.agentId} (${ctx.actor.username})` : ctx.channel;
  return ctx.via ? `${who} via ${ctx.via}` : who;
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
