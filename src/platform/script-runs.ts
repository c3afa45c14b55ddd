import type { Executor } from '../storage/store.js';

/**
 * Queues a contact's script to run: a `pending` row any server process may claim. `variables`
 * are visible from BEGIN. Inserted in the caller's transaction, so the contact never exists
 * without its script.
 */
export async function queueScriptRun(
  db: Executor,
  now: number,
  contactId: number,
  scriptName: string,
  variables?: Record<string, unknown>,
): Promise<void> {
  await db
    .insertInto('script_runs')
    .values({
      contact_id: contactId,
      script_name: scriptName,
      status: 'pending',
      resume_at: null,
      snapshot: variables === undefined ? null : JSON.stringify({ start: { variables } }),
      signals: '[]',
      released: 0,
      owner: null,
      lease_until: null,
      created_at: now,
      updated_at: now,
    })
    .execute();
}
