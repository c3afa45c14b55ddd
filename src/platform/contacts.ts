import { fail, ok, type Result } from '../result.js';
import { PREDEFINED_VARIABLES, RESERVED_VARIABLES, scriptRunsFor, scriptTypeOf } from '../script/types.js';
import type { Executor } from '../storage/store.js';
import { changeAgentState } from './agents.js';
import { recordAudit } from './audit.js';
import { getBusinessUnit } from './business-unit.js';
import { transitionCallbacks } from './callback-states.js';
import { recordEvents } from './events.js';
import {
  type ContactState,
  type Direction,
  type MediaType,
  type OperationContext,
  parseId,
} from './model.js';
import { authorize } from './permissions.js';
import { queueContacts, unqueueContact } from './queue.js';
import { type Contact, toContact } from './resources.js';
import { queueRun, releaseRun, signalRun } from './script-runs.js';
import { getScript } from './scripts.js';
import { requireSkill } from './skills.js';

export interface StartContactInput {
  mediaType: MediaType;
  direction?: Direction;
  /** `Active` (in a script, the default), `Queued` (waiting for an agent of `skillId`), or `Ended` (history in a world). */
  state?: ContactState;
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
  /** For an `Ended` contact (a world's history). */
  disconnectReason?: string | null;
}

/** A contact started without a state is one being worked. */
export const DEFAULT_CONTACT_STATE: ContactState = 'Active';

/** Creates a contact; a Queued one is queued too (routing is the caller's next step). */
export async function startContact(
  db: Executor,
  now: number,
  input: StartContactInput,
  ctx: OperationContext,
): Promise<Contact> {
  const state = input.state ?? DEFAULT_CONTACT_STATE;
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
      disconnect_reason: state === 'Ended' ? (input.disconnectReason ?? null) : null,
      callback_id: input.callbackId ?? null,
      created_at: now,
      updated_at: now,
      ended_at: state === 'Ended' ? now : null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  const contact = toContact(row);
  recordEvents(db, [
    {
      type: 'contact.created',
      at: now,
      contactId: contact.id,
      mediaType: contact.mediaType,
      state,
      skillId: contact.skillId,
      callbackId: contact.callbackId,
    },
  ]);
  if (state === 'Queued') {
    const wait = input.targetWaitSeconds ?? (await getBusinessUnit(db)).agentWaitSeconds;
    await queueContacts(
      db,
      now,
      [
        {
          contactId: contact.id,
          skillId: contact.skillId,
          targetAgentId: contact.targetAgentId,
          priority: input.priority ?? 0,
        },
      ],
      wait,
    );
  }
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
 * it carried is Completed, its script owes its ONRELEASE, and the audit log says who ended it and
 * why. Checks, in order: the actor may end contacts, the ID is a number of a known contact, the
 * contact has not ended. Locks, in the platform's one order: the contact, its agent, its callback.
 */
export async function endContact(
  db: Executor,
  now: number,
  contactRef: string | number,
  reason: string,
  ctx: OperationContext,
): Promise<Result<Contact, EndContactError>> {
  const unauthorized = authorize(ctx, 'contacts.end');
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
  await unqueueContact(db, id);
  const scriptOwed = await releaseRun(db, now, id);
  const agentId = updated.agent_id === null ? null : Number(updated.agent_id);
  recordEvents(db, [{ type: 'contact.ended', at: now, contactId: id, reason, agentId, scriptOwed }]);
  if (agentId !== null) await changeAgentState(db, now, agentId, 'Available', ['Inbound', 'Outbound']);
  if (updated.callback_id !== null)
    await transitionCallbacks(db, now, [Number(updated.callback_id)], 'Completed');
  await recordAudit(db, now, ctx, {
    action: 'contact.ended',
    targetType: 'contact',
    targetId: id,
    details: { reason, previousState: row.state, agentId },
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
 * Variables the platform sets for every contact (DESIGN §3.2): a start request may not, or a
 * script written to end "its own" contact could be pointed at another. ANI and DNIS are fields
 * of the request. Compared without case, as variable names are.
 */
const PLATFORM_VARIABLES = new Map(
  [...PREDEFINED_VARIABLES, ...RESERVED_VARIABLES].map((name) => [name.toLowerCase(), name]),
);

/** The first start variable the platform keeps for itself, as a failure naming it. */
function refusePlatformVariables(variables: Record<string, unknown>) {
  for (const given of Object.keys(variables)) {
    const name = PLATFORM_VARIABLES.get(given.toLowerCase());
    if (name === undefined) continue;
    const field =
      name === 'ANI' || name === 'DNIS' ? ` (give it as the request's '${name.toLowerCase()}' field)` : '';
    return fail(
      'InvalidRequest',
      `variables.${given}: ${name} is set by the platform for every contact and cannot be given${field}`,
      `variables.${given}`,
    );
  }
  return undefined;
}

/**
 * Starts a contact from the API or CLI: with a script it is Active in that script; else with a
 * skill it is Queued for an agent; else Active. Checks the skill, and that the script is deployed
 * and made for the contact's media type (or Generic).
 */
export async function createContact(
  db: Executor,
  now: number,
  input: CreateContactInput,
  ctx: OperationContext,
): Promise<Result<Contact, 'Unauthorized' | 'InvalidSkillId' | 'InvalidScript' | 'InvalidRequest'>> {
  const unauthorized = authorize(ctx, 'contacts.start');
  if (unauthorized) return unauthorized;
  const variables = input.variables ?? {};
  const reserved = refusePlatformVariables(variables);
  if (reserved) return reserved;
  if (input.skillId !== undefined) {
    const skill = await requireSkill(db, input.skillId, { label: 'skillId' });
    if (!skill.ok) return skill;
  }
  const script = input.script === undefined ? undefined : await getScript(db, input.script);
  if (input.script !== undefined) {
    if (!script) return fail('InvalidScript', `script '${input.script}' is not deployed`, 'script');
    if (!scriptRunsFor(script.script, input.mediaType)) {
      return fail(
        'InvalidScript',
        `script '${script.name}' is a ${scriptTypeOf(script.script)} script; a ${input.mediaType} contact runs ${input.mediaType} or Generic scripts`,
        'script',
      );
    }
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
  if (script) {
    await queueRun(db, now, contact.id, script.name, variables, ctx);
    await recordAudit(db, now, ctx, {
      action: 'contact.script-started',
      targetType: 'contact',
      targetId: contact.id,
      details: { script: script.name, scriptHash: script.hash, variables },
    });
  }
  return ok(contact);
}

/**
 * Signals a contact's script: the signal waits with its run until a process delivers it at
 * ONSIGNAL (once the script is parked at STOP). Fails for unknown or ended contacts and for a
 * contact with no script running.
 */
export async function signalContact(
  db: Executor,
  now: number,
  contactRef: string | number,
  params: string[],
  ctx: OperationContext,
  options: { lockRows: boolean },
): Promise<
  Result<
    Contact,
    'Unauthorized' | 'InvalidContactID' | 'ContactNotActive' | 'NoScriptRunning' | 'TooManySignals'
  >
> {
  const unauthorized = authorize(ctx, 'contacts.signal');
  if (unauthorized) return unauthorized;
  const id = parseId(contactRef);
  const contact = id === undefined ? undefined : await getContact(db, id);
  if (!contact) return fail('InvalidContactID', `no contact with ID ${String(contactRef)}`);
  if (contact.state === 'Ended') return fail('ContactNotActive', `contact ${contact.id} has already ended`);
  const { maxPendingSignals } = await getBusinessUnit(db);
  const sent = await signalRun(db, now, contact.id, params, { ...options, maxPending: maxPendingSignals });
  if (sent === 'noRun')
    return fail('NoScriptRunning', `contact ${contact.id} has no script running to signal`);
  if (sent === 'full') {
    return fail(
      'TooManySignals',
      `contact ${contact.id}'s script has ${maxPendingSignals} signals waiting already (the business unit's maxPendingSignals); send more once it has taken some`,
    );
  }
  recordEvents(db, [{ type: 'contact.signaled', at: now, contactId: contact.id }]);
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

/** How many contacts are in each state (metrics). */
export async function countContactsByState(db: Executor): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('contacts')
    .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('state')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
}
