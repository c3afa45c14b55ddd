import type { Executor } from '../storage/store.js';
import { recordAudit } from './audit.js';
import { queueScriptRun } from './script-runs.js';

export interface RoutedContact {
  contactId: number;
  agentId: number;
  callbackId: number | null;
}

/**
 * Offers queued contacts to agents: highest priority first, then queue order; each goes to its
 * target agent while the target wait lasts, else to the longest-idle Available agent with its
 * skill. Every assignment is guarded (`state = 'Available'`, queue row still there) so that two
 * processes routing at once never give one contact two agents or one agent two contacts.
 */
export async function routeQueuedContacts(db: Executor, now: number): Promise<RoutedContact[]> {
  const routed: RoutedContact[] = [];
  const anyAvailable = await db
    .selectFrom('agents')
    .select('id')
    .where('state', '=', 'Available')
    .where('active', '=', 1)
    .limit(1)
    .executeTakeFirst();
  if (!anyAvailable) return routed;

  const queue = await db
    .selectFrom('queue_entries')
    .innerJoin('contacts', 'contacts.id', 'queue_entries.contact_id')
    .select([
      'queue_entries.contact_id',
      'queue_entries.skill_id',
      'queue_entries.target_agent_id',
      'queue_entries.target_until',
      'contacts.callback_id',
    ])
    .orderBy('queue_entries.priority', 'desc')
    .orderBy('queue_entries.queued_at')
    .orderBy('queue_entries.contact_id')
    .execute();

  for (const entry of queue) {
    const targetOnly =
      entry.target_agent_id !== null && (entry.target_until === null || now < Number(entry.target_until));
    let agents = db
      .selectFrom('agents')
      .select('agents.id')
      .where('agents.state', '=', 'Available')
      .where('agents.active', '=', 1)
      // An agent set Available by hand while still on a contact must not be given a second one.
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('contacts')
              .select('contacts.id')
              .whereRef('contacts.agent_id', '=', 'agents.id')
              .where('contacts.state', '=', 'Active'),
          ),
        ),
      );
    if (targetOnly) {
      agents = agents.where('agents.id', '=', Number(entry.target_agent_id));
    } else if (entry.skill_id !== null) {
      agents = agents
        .innerJoin('agent_skills', 'agent_skills.agent_id', 'agents.id')
        .where('agent_skills.skill_id', '=', Number(entry.skill_id));
    } else {
      continue;
    }
    const agent = await agents.orderBy('agents.state_since').orderBy('agents.id').limit(1).executeTakeFirst();
    if (!agent) continue;

    const agentId = Number(agent.id);
    const contactId = Number(entry.contact_id);
    const callbackId = entry.callback_id === null ? null : Number(entry.callback_id);
    const taken = await db.deleteFrom('queue_entries').where('contact_id', '=', contactId).executeTakeFirst();
    if (Number(taken.numDeletedRows) !== 1) continue;
    // A delivered callback puts the agent Outbound; any other queued contact (QUEUECALLBACK
    // included) is taken in the ACD state, Inbound.
    const claimed = await db
      .updateTable('agents')
      .set({ state: callbackId === null ? 'Inbound' : 'Outbound', state_since: now })
      .where('id', '=', agentId)
      .where('state', '=', 'Available')
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) {
      throw new Error(`agent ${agentId} stopped being Available while routing contact ${contactId}`);
    }
    await db
      .updateTable('contacts')
      .set({ state: 'Active', agent_id: agentId, updated_at: now })
      .where('id', '=', contactId)
      .execute();
    if (callbackId !== null) {
      await db
        .updateTable('scheduled_callbacks')
        .set({ state: 'Delivered', updated_at: now })
        .where('id', '=', callbackId)
        .execute();
    }
    // "A custom outbound script associated with the skill" runs for the contact it delivers;
    // queued here, in the same transaction, so that a crash cannot deliver without it.
    if (entry.skill_id !== null) await queueSkillScript(db, now, contactId, Number(entry.skill_id));
    await recordAudit(
      db,
      now,
      { channel: 'scheduler' },
      {
        action: 'contact.routed',
        targetType: 'contact',
        targetId: contactId,
        details: { agentId, callbackId },
      },
    );
    routed.push({ contactId, agentId, callbackId });
  }
  return routed;
}

async function queueSkillScript(db: Executor, now: number, contactId: number, skillId: number) {
  const skill = await db.selectFrom('skills').select('script').where('id', '=', skillId).executeTakeFirst();
  if (!skill?.script) return;
  await queueScriptRun(db, now, contactId, skill.script);
}

/** The next time routing must look again without any other event: a target wait running out. */
export async function nextTargetWaitEnd(db: Executor, now: number): Promise<number | null> {
  const row = await db
    .selectFrom('queue_entries')
    .select((eb) => eb.fn.min('target_until').as('next'))
    .where('target_until', '>', now)
    .executeTakeFirst();
  return row?.next == null ? null : Number(row.next);
}
