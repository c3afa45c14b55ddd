import { createHash } from 'node:crypto';
import { fail, ok, type Result } from '../result.js';
import type { Executor } from '../storage/store.js';
import { checkTargetAgent } from './agents.js';
import { type AuditRecord, changedFields, recordAudit } from './audit.js';
import { type BusinessUnit, getBusinessUnit } from './business-unit.js';
import { EDITABLE_CALLBACK_STATE, transitionCallbacks } from './callback-states.js';
import { startContact } from './contacts.js';
import { recordEvents } from './events.js';
import { type CallbackState, type OperationContext, SCHEDULER } from './model.js';
import { authorize, ruleOf } from './permissions.js';
import { parsePhoneNumber } from './phone-number.js';
import { queueContacts } from './queue.js';
import { type Contact, type ScheduledCallback, toCallback } from './resources.js';
import { parseCommitmentDateTime, parseScheduleDate, type ScheduleDateResult } from './schedule-date.js';
import { requireSkill } from './skills.js';

/** When the callback is due: an ISO 8601 `scheduleDate`, or COMMITMENT's separate date and time. */
export type CallbackWhen = string | { date: string; time: string };

export interface ScheduleCallbackInput {
  firstName?: string;
  lastName?: string;
  phoneNumber: string;
  skillId: string | number;
  /** `""`, null or absent: route to the skill. Takes precedence over the skill when set. */
  targetAgentId?: string | number | null;
  scheduleDate: CallbackWhen;
  /** Zone for a wall-clock `scheduleDate`; default the actor's, else the business unit's. */
  timeZone?: string;
  notes?: string;
}

export type ScheduleCallbackError =
  | 'Unauthorized'
  | 'InvalidSkillId'
  | 'InvalidTargetAgentId'
  | 'InvalidScheduleDate'
  | 'InvalidPhoneNumber';

export interface ValidCallback {
  phoneNumber: string;
  skillId: number;
  targetAgentId: number | null;
  dueAt: number;
  timeZone: string;
}

/**
 * The rules of Schedule Callback, checked in the order Studio's branches are listed:
 * skill, target agent, schedule date, phone number.
 */
async function checkCallback(
  db: Executor,
  now: number,
  bu: BusinessUnit,
  input: ScheduleCallbackInput | (Omit<ScheduleCallbackInput, 'scheduleDate'> & { scheduleDate?: undefined }),
  ctx: OperationContext,
  options: {
    /** An edit that does not move the callback keeps its due time (which may be a moment past). */
    keepDue?: { at: number; timeZone: string };
    /** A callback of the past (a world's history): any time; its skill and agent may since be inactive. */
    history?: boolean;
  } = {},
): Promise<Result<ValidCallback, Exclude<ScheduleCallbackError, 'Unauthorized'>>> {
  const { keepDue, history = false } = options;
  const skill = await requireSkill(db, input.skillId, {
    active: !history,
    label: 'SkillId',
    mediaType: 'Phone',
    direction: 'Outbound',
    requirement: 'callbacks need an Outbound Phone skill',
  });
  if (!skill.ok) return skill;

  const target = await checkTargetAgent(db, input.targetAgentId, 'TargetAgentId', { active: !history });
  if (!target.ok) return target;

  const zone = input.timeZone?.trim() || ctx.actor?.timeZone || bu.timeZone;
  const dateOptions = history
    ? {
        now,
        timeZone: zone,
        horizonDays: Number.POSITIVE_INFINITY,
        pastToleranceSeconds: Number.POSITIVE_INFINITY,
      }
    : { now, timeZone: zone, horizonDays: bu.callbackHorizonDays };
  const when: ScheduleDateResult =
    input.scheduleDate === undefined
      ? ok(keepDue ?? { at: now, timeZone: zone })
      : typeof input.scheduleDate === 'string'
        ? parseScheduleDate(input.scheduleDate, dateOptions)
        : parseCommitmentDateTime(input.scheduleDate.date, input.scheduleDate.time, dateOptions);
  if (!when.ok) return fail('InvalidScheduleDate', when.message, 'scheduleDate');

  const phone = parsePhoneNumber(input.phoneNumber, {
    defaultCountry: bu.defaultCountry,
    strict: bu.strictPhoneNumbers,
  });
  if (!phone.ok) return fail('InvalidPhoneNumber', phone.message, 'phoneNumber');

  return ok({
    phoneNumber: phone.value,
    skillId: Number(skill.value.id),
    targetAgentId: target.value,
    dueAt: when.value.at,
    timeZone: when.value.timeZone,
  });
}

/**
 * SHA-256 of a request in a canonical form (object keys sorted, at every depth), so that a retry
 * is recognised whatever order its client wrote the fields in.
 */
function requestHash(value: unknown): string {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
          )
        : v;
  return createHash('sha256')
    .update(JSON.stringify(canonical(value)))
    .digest('hex');
}

/** The columns of a callback row, from its input and what the rules made of it. */
function callbackColumns(
  now: number,
  input: Pick<ScheduleCallbackInput, 'firstName' | 'lastName' | 'notes'>,
  valid: ValidCallback,
  state: CallbackState,
  contactId: number | null = null,
) {
  return {
    first_name: input.firstName?.trim() ?? '',
    last_name: input.lastName?.trim() ?? '',
    phone_number: valid.phoneNumber,
    skill_id: valid.skillId,
    target_agent_id: valid.targetAgentId,
    due_at: valid.dueAt,
    time_zone: valid.timeZone,
    notes: input.notes ?? '',
    state,
    contact_id: contactId,
    created_at: now,
    updated_at: now,
  };
}

/**
 * Schedule Callback / COMMITMENT: stores a commitment that the scheduler dispatches when due.
 * With an `idempotencyKey` (per actor), a retry returns the callback the first request made, and
 * the same key with another request is IdempotencyKeyReused. Two retries racing are settled by
 * the unique key on (created_by, idempotency_key): the loser's insert does nothing and it returns
 * the winner's callback.
 */
export async function scheduleCallback(
  db: Executor,
  now: number,
  input: ScheduleCallbackInput,
  ctx: OperationContext,
  options: { idempotencyKey?: string /** A world fixture's own ID. */; id?: number } = {},
): Promise<Result<ScheduledCallback, ScheduleCallbackError | 'IdempotencyKeyReused'>> {
  const { idempotencyKey } = options;
  const unauthorized = authorize(ctx, 'callbacks.schedule');
  if (unauthorized) return unauthorized;
  const idempotency =
    idempotencyKey !== undefined && ctx.actor
      ? { key: idempotencyKey, hash: requestHash(input), agentId: ctx.actor.agentId }
      : undefined;
  const earlier = async () => {
    if (!idempotency) return undefined;
    const row = await db
      .selectFrom('scheduled_callbacks')
      .selectAll()
      .where('created_by', '=', idempotency.agentId)
      .where('idempotency_key', '=', idempotency.key)
      .executeTakeFirst();
    if (!row) return undefined;
    return row.request_hash === idempotency.hash
      ? ok(toCallback(row))
      : fail('IdempotencyKeyReused', `Idempotency-Key '${idempotency.key}' was used for a different request`);
  };
  // A retry of a request that succeeded answers as it did, even if the input would now be refused
  // (its schedule date has since passed, say).
  const retried = await earlier();
  if (retried) return retried;

  const bu = await getBusinessUnit(db);
  const checked = await checkCallback(db, now, bu, input, ctx);
  if (!checked.ok) return checked;
  const v = checked.value;
  let insert = db.insertInto('scheduled_callbacks').values({
    ...(options.id === undefined ? {} : { id: options.id }),
    ...callbackColumns(now, input, v, 'Scheduled'),
    created_by: ctx.actor?.agentId ?? null,
    idempotency_key: idempotency?.key ?? null,
    request_hash: idempotency?.hash ?? null,
  });
  if (idempotency)
    insert = insert.onConflict((oc) => oc.columns(['created_by', 'idempotency_key']).doNothing());
  const row = await insert.returningAll().executeTakeFirst();
  if (!row) {
    // Another request with this key committed first: answer as it did.
    const winner = await earlier();
    if (winner) return winner;
    throw new Error(`callback with Idempotency-Key '${idempotency?.key}' conflicted but cannot be found`);
  }
  const callback = toCallback(row);
  recordEvents(db, [{ type: 'callback.scheduled', at: now, callbackId: callback.id, dueAt: v.dueAt }]);
  await recordAudit(db, now, ctx, {
    action: 'callback.scheduled',
    targetType: 'callback',
    targetId: callback.id,
    details: {
      phoneNumber: callback.phoneNumber,
      skillId: callback.skillId,
      targetAgentId: callback.targetAgentId,
      scheduledFor: callback.scheduledFor,
    },
  });
  return ok(callback);
}

/**
 * A callback of the past, as a world fixture holds history (Queued, Delivered, Completed,
 * Canceled): read by the same rules as a new one, except that it may lie in the past and its
 * skill may since have been made inactive.
 */
export async function recordCallbackHistory(
  db: Executor,
  now: number,
  input: ScheduleCallbackInput,
  state: CallbackState,
  ids: { id?: number; contactId?: number | null },
  ctx: OperationContext,
): Promise<Result<ScheduledCallback, Exclude<ScheduleCallbackError, 'Unauthorized'>>> {
  const bu = await getBusinessUnit(db);
  const checked = await checkCallback(db, now, bu, input, ctx, { history: true });
  if (!checked.ok) return checked;
  const row = await db
    .insertInto('scheduled_callbacks')
    .values({
      ...(ids.id === undefined ? {} : { id: ids.id }),
      ...callbackColumns(now, input, checked.value, state, ids.contactId ?? null),
      created_by: null,
      idempotency_key: null,
      request_hash: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return ok(toCallback(row));
}

export interface QueueCallbackInput {
  phoneNumber: string;
  callerId?: string;
  skillId: string | number;
  targetAgentId?: string | number | null;
  priority?: string | number;
}

export type QueueCallbackError =
  | 'InvalidPhoneNumber'
  | 'InvalidSkillId'
  | 'InvalidTargetAgentId'
  | 'InvalidPriority';

/** QUEUECALLBACK: a live outbound Phone contact, queued now to a Phone skill or a target agent. */
export async function queueCallback(
  db: Executor,
  now: number,
  input: QueueCallbackInput,
  ctx: OperationContext,
): Promise<Result<Contact, QueueCallbackError>> {
  const bu = await getBusinessUnit(db);
  const phone = parsePhoneNumber(input.phoneNumber, {
    defaultCountry: bu.defaultCountry,
    strict: bu.strictPhoneNumbers,
  });
  if (!phone.ok) return phone;
  const skill = await requireSkill(db, input.skillId, {
    label: 'Skill',
    mediaType: 'Phone',
    requirement: 'QUEUECALLBACK needs a Phone skill',
  });
  if (!skill.ok) return skill;
  const target = await checkTargetAgent(db, input.targetAgentId, 'TargetAgent');
  if (!target.ok) return target;
  const priority = input.priority === undefined || input.priority === '' ? 0 : Number(input.priority);
  if (!Number.isInteger(priority)) {
    return fail('InvalidPriority', `Priority '${String(input.priority)}' is not a whole number`);
  }
  const contact = await startContact(
    db,
    now,
    {
      mediaType: 'Phone',
      direction: 'Outbound',
      state: 'Queued',
      skillId: Number(skill.value.id),
      targetAgentId: target.value,
      priority,
      phoneNumber: phone.value,
      ani: input.callerId?.trim() || null,
    },
    ctx,
  );
  return ok(contact);
}

export type CallbackChanges = Partial<Omit<ScheduleCallbackInput, 'scheduleDate'>> & {
  scheduleDate?: string;
};

export type ChangeCallbackError = 'NotFound' | 'CallbackNotScheduled' | 'Unauthorized';

/**
 * A callback targeted at an agent is that agent's promise to a customer: another agent may change
 * or cancel it only as a supervisor (`callbacks.changeOthers`), on top of `callbacks:write`.
 */
function authorizeChange(ctx: OperationContext, callback: ScheduledCallback) {
  const target = callback.targetAgentId;
  if (target === null || ctx.actor === undefined || target === ctx.actor.agentId) return undefined;
  const denied = authorize(ctx, 'callbacks.changeOthers');
  if (!denied) return undefined;
  return fail(
    'Unauthorized',
    `callback ${callback.id} is targeted at agent ${target}: changing another agent's callback needs ${ruleOf('callbacks.changeOthers').permission} (${denied.message})`,
  );
}

const notEditable = (id: number, state: string) =>
  fail(
    'CallbackNotScheduled',
    `callback ${id} is ${state}; only a ${EDITABLE_CALLBACK_STATE} callback can change`,
  );

/**
 * Reschedules or edits a callback while it is still Scheduled: the changed fields are checked by
 * the same rules as a new one. Guarded on the state, so an edit racing the dispatch either wins
 * or gets CallbackNotScheduled — never half of each.
 */
export async function updateCallback(
  db: Executor,
  now: number,
  id: number,
  changes: CallbackChanges,
  ctx: OperationContext,
): Promise<Result<ScheduledCallback, ScheduleCallbackError | ChangeCallbackError>> {
  const unauthorized = authorize(ctx, 'callbacks.update');
  if (unauthorized) return unauthorized;
  const row = await db.selectFrom('scheduled_callbacks').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return fail('NotFound', `no scheduled callback with ID ${id}`);
  const before = toCallback(row);
  const notTheirs = authorizeChange(ctx, before);
  if (notTheirs) return notTheirs;
  if (row.state !== EDITABLE_CALLBACK_STATE) return notEditable(id, row.state);
  const bu = await getBusinessUnit(db);
  const merged = {
    phoneNumber: changes.phoneNumber ?? row.phone_number,
    skillId: changes.skillId ?? Number(row.skill_id),
    targetAgentId: changes.targetAgentId === undefined ? row.target_agent_id : changes.targetAgentId,
    ...(changes.timeZone === undefined ? {} : { timeZone: changes.timeZone }),
    ...(changes.scheduleDate === undefined ? {} : { scheduleDate: changes.scheduleDate }),
  };
  const checked = await checkCallback(db, now, bu, merged, ctx, {
    keepDue: { at: Number(row.due_at), timeZone: row.time_zone },
  });
  if (!checked.ok) return checked;
  const v = checked.value;
  const updated = await db
    .updateTable('scheduled_callbacks')
    .set({
      first_name: changes.firstName?.trim() ?? row.first_name,
      last_name: changes.lastName?.trim() ?? row.last_name,
      notes: changes.notes ?? row.notes,
      phone_number: v.phoneNumber,
      skill_id: v.skillId,
      target_agent_id: v.targetAgentId,
      due_at: v.dueAt,
      time_zone: v.timeZone,
      updated_at: now,
    })
    .where('id', '=', id)
    .where('state', '=', EDITABLE_CALLBACK_STATE)
    .returningAll()
    .executeTakeFirst();
  if (!updated)
    return fail('CallbackNotScheduled', `callback ${id} was dispatched meanwhile; it can no longer change`);
  recordEvents(db, [{ type: 'callback.rescheduled', at: now, callbackId: id, dueAt: v.dueAt }]);
  await recordAudit(db, now, ctx, {
    action: 'callback.updated',
    targetType: 'callback',
    targetId: id,
    details: { changes: changedFields(before, toCallback(updated)) },
  });
  return ok(toCallback(updated));
}

/** Cancels a callback that has not been dispatched yet. */
export async function cancelCallback(
  db: Executor,
  now: number,
  id: number,
  ctx: OperationContext,
): Promise<Result<ScheduledCallback, ChangeCallbackError>> {
  const unauthorized = authorize(ctx, 'callbacks.cancel');
  if (unauthorized) return unauthorized;
  const found = await getCallback(db, id);
  if (!found) return fail('NotFound', `no scheduled callback with ID ${id}`);
  const notTheirs = authorizeChange(ctx, found);
  if (notTheirs) return notTheirs;
  const [moved] = await transitionCallbacks(db, now, [id], 'Canceled');
  const callback = (await getCallback(db, id)) ?? found;
  if (!moved) return notEditable(id, callback.state);
  await recordAudit(db, now, ctx, {
    action: 'callback.canceled',
    targetType: 'callback',
    targetId: id,
    details: { previousState: found.state },
  });
  return ok(callback);
}

/** How many callbacks are waiting for this number on this skill: scheduled, or queued as contacts. */
export async function countPendingCallbacks(
  db: Executor,
  phoneNumber: string,
  skillRef: string | number,
): Promise<Result<number, 'InvalidPhoneNumber' | 'InvalidSkillId'>> {
  const skill = await requireSkill(db, skillRef, { label: 'Skill', active: false });
  if (!skill.ok) return skill;
  const bu = await getBusinessUnit(db);
  const phone = parsePhoneNumber(phoneNumber, { defaultCountry: bu.defaultCountry });
  if (!phone.ok) return phone;
  const skillId = Number(skill.value.id);
  const scheduled = await db
    .selectFrom('scheduled_callbacks')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('phone_number', '=', phone.value)
    .where('skill_id', '=', skillId)
    .where('state', 'in', ['Scheduled', 'Queued'])
    .executeTakeFirstOrThrow();
  // QUEUECALLBACK contacts are callbacks too while they wait in the queue.
  const queued = await db
    .selectFrom('contacts')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('phone_number', '=', phone.value)
    .where('skill_id', '=', skillId)
    .where('state', '=', 'Queued')
    .where('callback_id', 'is', null)
    .executeTakeFirstOrThrow();
  return ok(Number(scheduled.n) + Number(queued.n));
}

export async function getCallback(db: Executor, id: number): Promise<ScheduledCallback | undefined> {
  const row = await db.selectFrom('scheduled_callbacks').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toCallback(row) : undefined;
}

export async function listCallbacks(
  db: Executor,
  filter: {
    state?: CallbackState;
    skillId?: number;
    agentId?: number;
    afterId?: number;
    limit?: number;
  } = {},
): Promise<ScheduledCallback[]> {
  let q = db.selectFrom('scheduled_callbacks').selectAll().orderBy('id');
  if (filter.state) q = q.where('state', '=', filter.state);
  if (filter.skillId !== undefined) q = q.where('skill_id', '=', filter.skillId);
  if (filter.agentId !== undefined) q = q.where('target_agent_id', '=', filter.agentId);
  if (filter.afterId !== undefined) q = q.where('id', '>', filter.afterId);
  if (filter.limit !== undefined) q = q.limit(filter.limit);
  return (await q.execute()).map(toCallback);
}

/** How many callbacks are in each state (metrics). */
export async function countCallbacksByState(db: Executor): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('scheduled_callbacks')
    .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('state')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
}

/**
 * Takes callbacks that are due (oldest first, at most `limit`) and turns each into a Queued
 * outbound Phone contact for its skill or target agent. Run inside one transaction: the claim,
 * the contacts, the queue entries and the state changes commit together or not at all. Set-based
 * — a few statements a batch, each `INSERT … SELECT` from the claimed rows — so that thousands a
 * second keep their time; the state change, the queueing and the audit are the same rules the
 * one-at-a-time paths use, given the whole batch.
 */
export async function dispatchDueCallbacks(
  db: Executor,
  now: number,
  options: { limit?: number; lockRows?: boolean } = {},
): Promise<Array<{ callbackId: number; contactId: number; lateMs: number }>> {
  let due = db
    .selectFrom('scheduled_callbacks')
    .select(['id', 'due_at'])
    .where('state', '=', 'Scheduled')
    .where('due_at', '<=', now)
    .orderBy('due_at')
    .orderBy('id')
    .limit(options.limit ?? 500);
  // Several processes claim at once on PostgreSQL: each takes rows no other has locked. (SQLite
  // has one writer at a time: its transactions begin IMMEDIATE.)
  if (options.lockRows) due = due.forUpdate().skipLocked();
  const claimed = await due.execute();
  if (claimed.length === 0) return [];
  const ids = claimed.map((c) => Number(c.id));
  const contacts = await db
    .insertInto('contacts')
    .columns([
      'media_type',
      'direction',
      'state',
      'skill_id',
      'target_agent_id',
      'phone_number',
      'callback_id',
      'created_at',
      'updated_at',
    ])
    .expression((eb) =>
      eb
        .selectFrom('scheduled_callbacks')
        .select((s) => [
          s.val('Phone').as('media_type'),
          s.val('Outbound').as('direction'),
          s.val('Queued').as('state'),
          'skill_id',
          'target_agent_id',
          'phone_number',
          'id',
          s.val(now).as('created_at'),
          s.val(now).as('updated_at'),
        ])
        .where('id', 'in', ids)
        .orderBy('due_at')
        .orderBy('id'),
    )
    .returning(['id', 'callback_id', 'skill_id', 'target_agent_id'])
    .execute();
  recordEvents(
    db,
    contacts.map((c) => ({
      type: 'contact.created' as const,
      at: now,
      contactId: Number(c.id),
      mediaType: 'Phone' as const,
      state: 'Queued' as const,
      skillId: c.skill_id === null ? null : Number(c.skill_id),
      callbackId: Number(c.callback_id),
    })),
  );
  const moved = await transitionCallbacks(db, now, ids, 'Queued', {
    also: {
      contact_id: (eb) =>
        // The contact just made: a Scheduled callback has no other (a world naming one is refused).
        // No max() or LIMIT: PostgreSQL would plan them as a backward scan of every contact.
        eb
          .selectFrom('contacts')
          .select('contacts.id')
          .whereRef('contacts.callback_id', '=', 'scheduled_callbacks.id'),
    },
  });
  await queueContacts(
    db,
    now,
    contacts.map((c) => ({
      contactId: Number(c.id),
      skillId: c.skill_id === null ? null : Number(c.skill_id),
      targetAgentId: c.target_agent_id === null ? null : Number(c.target_agent_id),
      priority: 0,
    })),
    // Only a callback for an agent waits for them: most batches need not read the business unit.
    contacts.some((c) => c.target_agent_id !== null) ? (await getBusinessUnit(db)).agentWaitSeconds : 0,
  );
  const dispatched = moved
    .sort((a, b) => a.dueAt - b.dueAt || a.id - b.id)
    .map((m) => ({
      callbackId: m.id,
      contactId: Number(m.contactId),
      lateMs: now - m.dueAt,
    }));
  await recordAudit(
    db,
    now,
    SCHEDULER,
    dispatched.map(
      (d): AuditRecord => ({
        action: 'callback.dispatched',
        targetType: 'callback',
        targetId: d.callbackId,
        details: { contactId: d.contactId, lateMs: d.lateMs },
      }),
    ),
  );
  return dispatched;
}

/** When the next Scheduled callback is due, or null when none is. */
export async function nextCallbackDue(db: Executor): Promise<number | null> {
  const row = await db
    .selectFrom('scheduled_callbacks')
    .select('due_at')
    .where('state', '=', 'Scheduled')
    .orderBy('due_at')
    .limit(1)
    .executeTakeFirst();
  return row ? Number(row.due_at) : null;
}
