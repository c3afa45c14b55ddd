import type { Executor } from '../storage/store.js';
import type { OperationContext } from './model.js';

export interface AuditRecord {
  action: string;
  targetType: 'contact' | 'callback' | 'agent' | 'skill' | 'script' | 'business-unit' | 'token';
  targetId: number | string;
  details?: Record<string, unknown>;
}

export function describeActor(ctx: OperationContext): string {
  const who = ctx.actor ? `agent:${ctx.actor.agentId} (${ctx.actor.username})` : ctx.channel;
  return ctx.via ? `${who} via ${ctx.via}` : who;
}

/** Appends one audit entry inside the caller's transaction, so it commits with the change. */
export async function recordAudit(db: Executor, at: number, ctx: OperationContext, record: AuditRecord) {
  await db
    .insertInto('audit_log')
    .values({
      at,
      actor: describeActor(ctx),
      channel: ctx.channel,
      action: record.action,
      target_type: record.targetType,
      target_id: String(record.targetId),
      details: JSON.stringify(record.details ?? {}),
    })
    .execute();
}
