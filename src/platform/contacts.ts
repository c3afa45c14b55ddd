import { fail, ok, type Result } from '../result.js';
import type { Executor } from '../storage/store.js';
import { recordAudit } from './audit.js';
import { getBusinessUnit } from './business-unit.js';
import {
  type Contact,
  type ContactState,
  type Direction,
  denied,
  type MediaType,
  type OperationContext,
  parseId,
  toContact,
} from './model.js';
import { queueScriptRun } from './script-runs.js';

export interface StartContactInput {
  mediaType: MediaType;
  direction?: Direction;
  /** `Active` (in a script, the default) or `Queued` (waiting for an agent of `skillId`). */
  state?: Exclude<ContactState, 'Ended'>;
  /** Fixed ID (world fixtures); otherwise the next one. */
  id?: number;
  skillId?: number | null;
  agentId?: number | null;
  targetAgentId?: number | null;
  /** Only for `targetAgentId`: how long the target agent is waited for. Default: the business unit's. */
  targetWaitSeconds?: number;
  priority?: number;
  phoneNumber?: string | null;
  ani?: string | null;
  dnis?: string | null;
  callbackId?: number | null;
}

/** Creates a contact; a Queued one also gets its queue entry (routing is the caller's next step). */
export async function startContact(
  db: Executor,
  now: number,
  input: StartContactInput,
  ctx: OperationContext,
): Promise<Contact> {
  const state = input.state ?? 'Active';
  const row = await db
    .insertInto('contacts')
    .values({
      ...(input.id === undefined ? {} : { id: input.id }),
      master_id: null,
      media_type: input.mediaType,
      direction: input.direction ?? 'Inbound',
      state,
      skill_id: input.skillId ?? null,
      agent_id: input.agentId ?? null,
      target_agent_id: input.targetAgentId ?? null,
      phone_number: input.phoneNumber ?? null,
      ani: input.ani ?? null,
      dnis: input.dnis ?? null,
      disconnect_reason: null,
      callback_id: input.callbackId ?? null,
      created_at: now,
      updated_at: now,
      ended_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  if (state === 'Queued') {
    const wait = input.targetWaitSeconds ?? (await getBusinessUnit(db)).agentWaitSeconds;
    await db
      .insertInto('queue_entries')
      .values({
        contact_id: row.id,
        skill_id: input.skillId ?? null,
        target_agent_id: input.targetAgentId ?? null,
        target_until: input.targetAgentId == null ? null : now + wait * 1000,
        priority: input.priority ?? 0,
        queued_at: now,
      })
      .execute();
  }
  const contact = toContact(row);
  await recordAudit(db, now, ctx, {
    action: 'contact.started',
    targetType: 'contact',
    targetId: contact.id,
    details: { mediaType: contact.mediaType, direction: contact.direction, state, skillId: contact.skillId },
  });
  return contact;
}

export type EndContactError = 'Unauthorized' | 'InvalidContactID' | 'ContactNotActive';

/**
 * End a Contact: the contact leaves its queue, its agent is released to Available, a callback
 * it carried is Completed, and the audit log says who ended it and why. Checks, in order: the
 * actor may `contacts:end`, the ID is a number of a known contact, the contact is not Ended.
 */
export async function endContact(
  db: Executor,
  now: number,
  contactRef: string | number,
  reason: string,
  ctx: OperationContext,
): Promise<Result<Contact, EndContactError>> {
  const unauthorized = denied(ctx, 'contacts:end');
  if (unauthorized) return unauthorized;
  const id = parseId(contactRef);
  if (id === undefined) {
    return fail(
      'InvalidContactID',
      `ContactID '${String(contactRef)}' is not a contact ID (a positive number)`,
    );
  }
  const row = await db.selectFrom('contacts').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return fail('InvalidContactID', `no contact with ID ${id}`);
  if (row.state === 'Ended') {
    return fail(
      'ContactNotActive',
      `contact ${id} has already ended (${row.disconnect_reason ?? 'no reason'})`,
    );
  }
  // Guarded on the state so that two enders racing produce one end and one ContactNotActive.
  const updated = await db
    .updateTable('contacts')
    .set({ state: 'Ended', disconnect_reason: reason, ended_at: now, updated_at: now })
    .where('id', '=', id)
    .where('state', '!=', 'Ended')
    .returningAll()
    .executeTakeFirst();
  if (!updated) return fail('ContactNotActive', `contact ${id} has already ended`);
  await db.deleteFrom('queue_entries').where('contact_id', '=', id).execute();
  // Its script, wherever it is parked or running, owes an ONRELEASE: whichever process holds
  // or next claims the run delivers it.
  await db
    .updateTable('script_runs')
    .set({ released: 1, updated_at: now })
    .where('contact_id', '=', id)
    .execute();
  if (updated.agent_id !== null) {
    await db
      .updateTable('agents')
      .set({ state: 'Available', state_since: now })
      .where('id', '=', Number(updated.agent_id))
      .where('state', 'in', ['Inbound', 'Outbound'])
      .execute();
  }
  if (updated.callback_id !== null) {
    await db
      .updateTable('scheduled_callbacks')
      .set({ state: 'Completed', updated_at: now })
      .where('id', '=', Number(updated.callback_id))
      .where('state', 'in', ['Queued', 'Delivered'])
      .execute();
  }
  await recordAudit(db, now, ctx, {
    action: 'contact.ended',
    targetType: 'contact',
    targetId: id,
    details: {
      reason,
      previousState: row.state,
      agentId: row.agent_id === null ? null : Number(row.agent_id),
    },
  });
  return ok(toContact(updated));
}

export interface CreateContactInput {
  mediaType: MediaType;
  direction?: Direction;
  skillId?: number;
  /** A deployed script to run for the contact, with `variables` visible from BEGIN. */
  script?: string;
  variables?: Record<string, string | number | boolean>;
  ani?: string;
  dnis?: string;
}

/**
 * Starts a contact from the API or CLI: with a script it is Active in that script; else with a
 * skill it is Queued for an agent; else Active. Checks the skill and the script exist.
 */
export async function createContact(
  db: Executor,
  now: number,
  input: CreateContactInput,
  ctx: OperationContext,
): Promise<Result<Contact, 'Unauthorized' | 'InvalidSkillId' | 'InvalidScript'>> {
  const unauthorized = denied(ctx, 'contacts:write');
  if (unauthorized) return unauthorized;
  if (input.skillId !== undefined) {
    const skill = await db
      .selectFrom('skills')
      .select('active')
      .where('id', '=', input.skillId)
      .executeTakeFirst();
    if (skill?.active !== 1)
      return fail('InvalidSkillId', `no active skill with ID ${input.skillId}`, 'skillId');
  }
  if (input.script !== undefined) {
    const script = await db
      .selectFrom('scripts')
      .select('name')
      .where('name', '=', input.script)
      .executeTakeFirst();
    if (!script) return fail('InvalidScript', `script '${input.script}' is not deployed`, 'script');
  }
  const contact = await startContact(
    db,
    now,
    {
      mediaType: input.mediaType,
      direction: input.direction ?? 'Inbound',
      state: input.script === undefined && input.skillId !== undefined ? 'Queued' : 'Active',
      skillId: input.skillId ?? null,
      ani: input.ani ?? null,
      dnis: input.dnis ?? null,
    },
    ctx,
  );
  if (input.script !== undefined)
    await queueScriptRun(db, now, contact.id, input.script, input.variables ?? {});
  return ok(contact);
}

/**
 * Signals a contact's script: the signal waits in its script run until a process delivers it at
 * ONSIGNAL (once the script is parked at STOP). Fails for unknown or ended contacts and for a
 * contact with no script running.
 */
export async function signalContact(
  db: Executor,
  now: number,
  contactRef: string | number,
  params: string[],
  ctx: OperationContext,
): Promise<Result<Contact, 'Unauthorized' | 'InvalidContactID' | 'ContactNotActive' | 'NoScriptRunning'>> {
  const unauthorized = denied(ctx, 'contacts:write');
  if (unauthorized) return unauthorized;
  const id = parseId(contactRef);
  const contact = id === undefined ? undefined : await getContact(db, id);
  if (!contact) return fail('InvalidContactID', `no contact with ID ${String(contactRef)}`);
  if (contact.state === 'Ended') return fail('ContactNotActive', `contact ${contact.id} has already ended`);
  const run = await db
    .selectFrom('script_runs')
    .select('signals')
    .where('contact_id', '=', contact.id)
    .executeTakeFirst();
  if (!run) return fail('NoScriptRunning', `contact ${contact.id} has no script running to signal`);
  const signals = [...(JSON.parse(run.signals) as string[][]), params.slice(0, 9)];
  await db
    .updateTable('script_runs')
    .set({ signals: JSON.stringify(signals), updated_at: now })
    .where('contact_id', '=', contact.id)
    .execute();
  await recordAudit(db, now, ctx, {
    action: 'contact.signaled',
    targetType: 'contact',
    targetId: contact.id,
    details: { params },
  });
  return ok(contact);
}

export async function getContact(db: Executor, id: number): Promise<Contact | undefined> {
  const row = await db.selectFrom('contacts').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toContact(row) : undefined;
}

export interface ListOptions {
  /** Items after this id (the cursor). */
  afterId?: number;
  limit?: number;
}

export async function listContacts(
  db: Executor,
  filter: { state?: ContactState } & ListOptions = {},
): Promise<Contact[]> {
  let q = db.selectFrom('contacts').selectAll().orderBy('id');
  if (filter.state) q = q.where('state', '=', filter.state);
  if (filter.afterId !== undefined) q = q.where('id', '>', filter.afterId);
  if (filter.limit !== undefined) q = q.limit(filter.limit);
  return (await q.execute()).map(toContact);
}
