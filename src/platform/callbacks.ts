import { fail, ok, type Result } from '../result.js';
import type { Executor } from '../storage/store.js';
import { recordAudit } from './audit.js';
import { type BusinessUnit, getBusinessUnit } from './business-unit.js';
import { startContact } from './contacts.js';
import {
  type CallbackState,
  type Contact,
  denied,
  type OperationContext,
  parseId,
  type ScheduledCallback,
  toCallback,
} from './model.js';
import { parsePhoneNumber } from './phone-number.js';
import { parseCommitmentDateTime, parseScheduleDate, type ScheduleDateResult } from './schedule-date.js';

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
 * skill, target agent, schedule date, phone number. Pure apart from the lookups it reads.
 */
export async function checkCallback(
  db: Executor,
  now: number,
  bu: BusinessUnit,
  input: ScheduleCallbackInput | (Omit<ScheduleCallbackInput, 'scheduleDate'> & { scheduleDate?: undefined }),
  ctx: OperationContext,
  /** An edit that does not move the callback keeps its due time (which may be a moment past). */
  keepDue?: { at: number; timeZone: string },
): Promise<Result<ValidCallback, ScheduleCallbackError>> {
  const unauthorized = denied(ctx, 'callbacks:write');
  if (unauthorized) return unauthorized;
  const skillId = parseId(input.skillId);
  if (skillId === undefined) {
    return fail(
      'InvalidSkillId',
      `SkillId '${String(input.skillId)}' is not a skill ID (a positive number)`,
      'skillId',
    );
  }
  const skill = await db.selectFrom('skills').selectAll().where('id', '=', skillId).executeTakeFirst();
  if (!skill) return fail('InvalidSkillId', `no skill with ID ${skillId}`, 'skillId');
  if (skill.active !== 1)
    return fail('InvalidSkillId', `skill ${skillId} (${skill.name}) is not active`, 'skillId');
  if (skill.media_type !== 'Phone' || skill.direction !== 'Outbound') {
    return fail(
      'InvalidSkillId',
      `skill ${skillId} (${skill.name}) is an ${skill.direction} ${skill.media_type} skill; callbacks need an Outbound Phone skill`,
      'skillId',
    );
  }

  const target = await checkTargetAgent(db, input.targetAgentId, 'TargetAgentId');
  if (!target.ok) return target;
  const targetAgentId = target.value;

  const zone = input.timeZone?.trim() || ctx.actor?.timeZone || bu.timeZone;
  const dateOptions = { now, timeZone: zone, horizonDays: bu.callbackHorizonDays };
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
    skillId,
    targetAgentId,
    dueAt: when.value.at,
    timeZone: when.value.timeZone,
  });
}

/**
 * A target agent: `""`, null or absent means none (route to the skill); otherwise the numeric
 * ID of an active agent — a username is refused, as Studio refuses it.
 */
export async function checkTargetAgent(
  db: Executor,
  target: string | number | null | undefined,
  property: string,
): Promise<Result<number | null, 'InvalidTargetAgentId'>> {
  if (target === null || target === undefined || String(target).trim() === '') return ok(null);
  const id = parseId(target);
  if (id === undefined) {
    return fail(
      'InvalidTargetAgentId',
      `${property} '${String(target)}' is not an agent ID; give the agent's numeric ID (not a username), or "" to route to the skill`,
      'targetAgentId',
    );
  }
  const agent = await db
    .selectFrom('agents')
    .select(['id', 'active'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!agent) return fail('InvalidTargetAgentId', `no agent with ID ${id}`, 'targetAgentId');
  if (agent.active !== 1) return fail('InvalidTargetAgentId', `agent ${id} is not active`, 'targetAgentId');
  return ok(id);
}

/** Schedule Callback / COMMITMENT: stores a commitment that the scheduler dispatches when due. */
export async function scheduleCallback(
  db: Executor,
  now: number,
  input: ScheduleCallbackInput,
  ctx: OperationContext,
  idempotency?: { key: string; requestHash: string },
): Promise<Result<ScheduledCallback, ScheduleCallbackError | 'IdempotencyKeyReused'>> {
  if (idempotency && ctx.actor) {
    const earlier = await db
      .selectFrom('scheduled_callbacks')
      .selectAll()
      .where('created_by', '=', ctx.actor.agentId)
      .where('idempotency_key', '=', idempotency.key)
      .executeTakeFirst();
    if (earlier) {
      if (earlier.request_hash !== idempotency.requestHash) {
        return fail(
          'IdempotencyKeyReused',
          `Idempotency-Key '${idempotency.key}' was used for a different request`,
        );
      }
      return ok(toCallback(earlier));
    }
  }
  const bu = await getBusinessUnit(db);
  const checked = await checkCallback(db, now, bu, input, ctx);
  if (!checked.ok) return checked;
  const v = checked.value;
  const row = await db
    .insertInto('scheduled_callbacks')
    .values({
      first_name: input.firstName?.trim() ?? '',
      last_name: input.lastName?.trim() ?? '',
      phone_number: v.phoneNumber,
      skill_id: v.skillId,
      target_agent_id: v.targetAgentId,
      due_at: v.dueAt,
      time_zone: v.timeZone,
      notes: input.notes ?? '',
      state: 'Scheduled',
      contact_id: null,
      created_by: ctx.actor?.agentId ?? null,
      created_at: now,
      updated_at: now,
      idempotency_key: idempotency && ctx.actor ? idempotency.key : null,
      request_hash: idempotency && ctx.actor ? idempotency.requestHash : null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  const callback = toCallback(row);
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
  const skillId = parseId(input.skillId);
  const skill =
    skillId === undefined
      ? undefined
      : await db
          .selectFrom('skills')
          .select(['id', 'active', 'media_type'])
          .where('id', '=', skillId)
          .executeTakeFirst();
  if (skill?.active !== 1 || skill.media_type !== 'Phone') {
    return fail('InvalidSkillId', `Skill '${String(input.skillId)}' is not an active Phone skill`);
  }
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
      skillId: Number(skill.id),
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
  const row = await db.selectFrom('scheduled_callbacks').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) return fail('NotFound', `no scheduled callback with ID ${id}`);
  if (row.state !== 'Scheduled') {
    return fail(
      'CallbackNotScheduled',
      `callback ${id} is ${row.state}; only a Scheduled callback can change`,
    );
  }
  const bu = await getBusinessUnit(db);
  const merged = {
    phoneNumber: changes.phoneNumber ?? row.phone_number,
    skillId: changes.skillId ?? Number(row.skill_id),
    targetAgentId: changes.targetAgentId === undefined ? row.target_agent_id : changes.targetAgentId,
    ...(changes.timeZone === undefined ? {} : { timeZone: changes.timeZone }),
    ...(changes.scheduleDate === undefined ? {} : { scheduleDate: changes.scheduleDate }),
  };
  const checked = await checkCallback(db, now, bu, merged, ctx, {
    at: Number(row.due_at),
    timeZone: row.time_zone,
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
    .where('state', '=', 'Scheduled')
    .returningAll()
    .executeTakeFirst();
  if (!updated)
    return fail('CallbackNotScheduled', `callback ${id} was dispatched meanwhile; it can no longer change`);
  await recordAudit(db, now, ctx, {
    action: 'callback.updated',
    targetType: 'callback',
    targetId: id,
    details: { changed: Object.keys(changes), scheduledFor: new Date(v.dueAt).toISOString() },
  });
  return ok(toCallback(updated));
}

/** How many callbacks are waiting for this number on this skill: scheduled, or queued as contacts. */
export async function countPendingCallbacks(
  db: Executor,
  phoneNumber: string,
  skillId: number,
): Promise<number> {
  const scheduled = await db
    .selectFrom('scheduled_callbacks')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('phone_number', '=', phoneNumber)
    .where('skill_id', '=', skillId)
    .where('state', 'in', ['Scheduled', 'Queued'])
    .executeTakeFirstOrThrow();
  // QUEUECALLBACK contacts are callbacks too while they wait in the queue.
  const queued = await db
    .selectFrom('contacts')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('phone_number', '=', phoneNumber)
    .where('skill_id', '=', skillId)
    .where('state', '=', 'Queued')
    .where('callback_id', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(scheduled.n) + Number(queued.n);
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

export type ChangeCallbackError = 'NotFound' | 'CallbackNotScheduled' | 'Unauthorized';

/** Cancels a callback that has not been dispatched yet. */
export async function cancelCallback(
  db: Executor,
  now: number,
  id: number,
  ctx: OperationContext,
): Promise<Result<ScheduledCallback, ChangeCallbackError>> {
  const unauthorized = denied(ctx, 'callbacks:write');
  if (unauthorized) return unauthorized;
  // Guarded on the state: a cancel racing the dispatch either wins or sees Queued.
  const row = await db
    .updateTable('scheduled_callbacks')
    .set({ state: 'Canceled', updated_at: now })
    .where('id', '=', id)
    .where('state', '=', 'Scheduled')
    .returningAll()
    .executeTakeFirst();
  if (!row) {
    const existing = await getCallback(db, id);
    if (!existing) return fail('NotFound', `no scheduled callback with ID ${id}`);
    return fail(
      'CallbackNotScheduled',
      `callback ${id} is ${existing.state}; only a Scheduled callback can change`,
    );
  }
  await recordAudit(db, now, ctx, { action: 'callback.canceled', targetType: 'callback', targetId: id });
  return ok(toCallback(row));
}

/**
 * Takes callbacks that are due (oldest first, at most `limit`) and turns each into a Queued
 * outbound Phone contact for its skill or target agent. Run inside one transaction: the claim,
 * the contacts, the queue entries and the state changes commit together or not at all. Set-based
 * — a few statements a batch, each `INSERT … SELECT` from the claimed rows — so that thousands a
 * second keep their time.
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
  const bu = await getBusinessUnit(db);
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
  await db
    .updateTable('scheduled_callbacks')
    .set((eb) => ({
      state: 'Queued',
      updated_at: now,
      contact_id: eb
        .selectFrom('contacts')
        .select('contacts.id')
        .whereRef('contacts.callback_id', '=', 'scheduled_callbacks.id'),
    }))
    .where('id', 'in', ids)
    .execute();
  await db
    .insertInto('queue_entries')
    .values(
      contacts.map((c) => ({
        contact_id: c.id,
        skill_id: c.skill_id,
        target_agent_id: c.target_agent_id,
        target_until: c.target_agent_id === null ? null : now + bu.agentWaitSeconds * 1000,
        priority: 0,
        queued_at: now,
      })),
    )
    .execute();
  const dueAt = new Map(claimed.map((c) => [Number(c.id), Number(c.due_at)]));
  const dispatched = contacts.map((c) => ({
    callbackId: Number(c.callback_id),
    contactId: Number(c.id),
    lateMs: now - (dueAt.get(Number(c.callback_id)) ?? now),
  }));
  await db
    .insertInto('audit_log')
    .values(
      dispatched.map((d) => ({
        at: now,
        actor: 'scheduler',
        channel: 'scheduler',
        action: 'callback.dispatched',
        target_type: 'callback',
        target_id: String(d.callbackId),
        details: JSON.stringify({ contactId: d.contactId, lateMs: d.lateMs }),
      })),
    )
    .execute();
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
