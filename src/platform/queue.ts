import type { Executor } from '../storage/store.js';
import { recordEvents } from './events.js';

/** A contact waiting for an agent: of a skill, or of one target agent while its wait lasts. */
export interface QueueRequest {
  contactId: number;
  skillId: number | null;
  targetAgentId: number | null;
  /** Higher is offered first. */
  priority: number;
}

/**
 * Puts contacts in the queue routing reads — one row each, in one insert — whether one contact
 * was started or a batch of callbacks was dispatched. A targeted contact waits `targetWaitSeconds`
 * for its agent before any agent with the skill may take it.
 */
export async function queueContacts(
  db: Executor,
  now: number,
  requests: readonly QueueRequest[],
  targetWaitSeconds: number,
): Promise<void> {
  if (requests.length === 0) return;
  await db
    .insertInto('queue_entries')
    .values(
      requests.map((r) => ({
        contact_id: r.contactId,
        skill_id: r.skillId,
        target_agent_id: r.targetAgentId,
        target_until: r.targetAgentId === null ? null : now + targetWaitSeconds * 1000,
        priority: r.priority,
        queued_at: now,
      })),
    )
    .execute();
  recordEvents(
    db,
    requests.map((r) => ({
      type: 'contact.queued' as const,
      at: now,
      contactId: r.contactId,
      skillId: r.skillId,
      targetAgentId: r.targetAgentId,
    })),
  );
}

/** Takes a contact out of the queue (routed or ended); true when it was there. */
export async function unqueueContact(db: Executor, contactId: number): Promise<boolean> {
  const taken = await db.deleteFrom('queue_entries').where('contact_id', '=', contactId).executeTakeFirst();
  return Number(taken.numDeletedRows) === 1;
}
