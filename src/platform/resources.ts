import { type Static, Type } from '@sinclair/typebox';
import type { Selectable } from 'kysely';
import type { AgentTable, AuditTable, CallbackTable, ContactTable, SkillTable } from '../storage/schema.js';
import { literals, Nullable } from '../typebox.js';
import {
  AGENT_STATES,
  CALLBACK_STATES,
  CONTACT_STATES,
  DIRECTIONS,
  MAX_GIVEN_ID,
  MAX_ID,
  MEDIA_TYPES,
} from './model.js';

/**
 * The resources as the platform hands them out — the HTTP API's responses, a simulation's world,
 * a world file's fields — declared once. Times are UTC ISO 8601 instants.
 */

const Instant = Type.String({ format: 'date-time' });

export const ContactSchema = Type.Object({
  id: Type.Integer(),
  masterId: Type.Integer(),
  state: literals(CONTACT_STATES),
  mediaType: literals(MEDIA_TYPES),
  direction: literals(DIRECTIONS),
  skillId: Nullable(Type.Integer()),
  agentId: Nullable(Type.Integer()),
  targetAgentId: Nullable(Type.Integer()),
  phoneNumber: Nullable(Type.String()),
  ani: Nullable(Type.String()),
  dnis: Nullable(Type.String()),
  disconnectReason: Nullable(Type.String()),
  callbackId: Nullable(Type.Integer()),
  createdAt: Instant,
  endedAt: Nullable(Instant),
});
export type Contact = Static<typeof ContactSchema>;

export const CallbackSchema = Type.Object({
  id: Type.Integer(),
  state: literals(CALLBACK_STATES),
  firstName: Type.String(),
  lastName: Type.String(),
  phoneNumber: Type.String({ description: 'E.164' }),
  skillId: Type.Integer(),
  targetAgentId: Nullable(Type.Integer()),
  scheduledFor: Type.String({ format: 'date-time', description: 'UTC instant' }),
  timeZone: Type.String({ description: 'The zone the schedule date was given in' }),
  notes: Type.String(),
  contactId: Nullable(Type.Integer()),
  createdAt: Instant,
});
export type ScheduledCallback = Static<typeof CallbackSchema>;

export const AgentSchema = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  firstName: Type.String(),
  lastName: Type.String(),
  active: Type.Boolean(),
  state: literals(AGENT_STATES),
  stateSince: Instant,
  skills: Type.Array(Type.Integer()),
  securityProfile: Nullable(Type.String()),
  timeZone: Nullable(Type.String()),
});
export type Agent = Static<typeof AgentSchema>;

const Count = (minimum: number, maximum: number, description: string) =>
  Type.Integer({ minimum, maximum, description });

/** The business unit's settings (DESIGN §2; docs/security.md for the budgets), with their bounds. */
export const BusinessUnitSchema = Type.Object({
  name: Type.String({ minLength: 1 }),
  timeZone: Type.String(),
  defaultCountry: Type.String({ pattern: '^[A-Za-z]{2}$' }),
  callbackHorizonDays: Count(1, 3650, 'How far ahead a callback may be scheduled'),
  agentWaitSeconds: Type.Integer({ minimum: 0 }),
  strictPhoneNumbers: Type.Boolean(),
  runCpuMsPerEvent: Count(10, 60_000, 'CPU ms a script run may spend on one event'),
  runCpuMsTotal: Count(10, 3_600_000, 'CPU ms a script run may spend over its life'),
  runMaxSteps: Count(100, 100_000_000, 'Actions a script run may run over its life'),
  runMaxResumes: Count(1, 1_000_000, 'Times a script run may resume (after a WAIT, by a signal)'),
  runMaxLeaseExpiries: Count(1, 100, 'Lease expiries (a crash loop) before a run is quarantined'),
  maxPendingSignals: Count(1, 10_000, 'Signals that may wait for one run'),
  handleLifetimeSeconds: Count(60, 2_592_000, 'How long a security user stays valid'),
});

export const SkillSchema = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  mediaType: literals(MEDIA_TYPES),
  direction: literals(DIRECTIONS),
  active: Type.Boolean(),
  script: Nullable(Type.String()),
});
export type Skill = Static<typeof SkillSchema>;

export const AuditEntrySchema = Type.Object({
  id: Type.Integer(),
  at: Instant,
  actor: Type.String(),
  channel: Type.String(),
  action: Type.String(),
  targetType: Type.String(),
  targetId: Type.String(),
  details: Type.Record(Type.String(), Type.Unknown()),
});
export type AuditEntry = Static<typeof AuditEntrySchema>;

/** An ID (model.ts MAX_ID): it fits a PostgreSQL bigint and a JavaScript number exactly. */
export const IdSchema = Type.Integer({ minimum: 1, maximum: MAX_ID });
/** The ID of a new row given by hand: low enough that the IDs the database gives out stay IDs. */
export const GivenIdSchema = Type.Integer({
  minimum: 1,
  maximum: MAX_GIVEN_ID,
  description: `At most ${MAX_GIVEN_ID.toLocaleString('en')}: the IDs given out after it must stay in range`,
});

/** The fields of a new callback, as the API's create body and a world file take them. */
export const CallbackInputSchema = Type.Object(
  {
    firstName: Type.Optional(Type.String({ maxLength: 200 })),
    lastName: Type.Optional(Type.String({ maxLength: 200 })),
    phoneNumber: Type.String({ minLength: 1, maxLength: 64 }),
    skillId: Type.Union([IdSchema, Type.String({ maxLength: 32 })]),
    targetAgentId: Type.Optional(Type.Union([IdSchema, Type.String({ maxLength: 32 }), Type.Null()])),
    scheduleDate: Type.String({
      minLength: 1,
      maxLength: 100,
      description: 'ISO 8601; wall-clock in timeZone (default: your agent’s)',
    }),
    timeZone: Type.Optional(Type.String({ maxLength: 64 })),
    notes: Type.Optional(Type.String({ maxLength: 4000 })),
  },
  { additionalProperties: false },
);
export type CallbackInput = Static<typeof CallbackInputSchema>;

const iso = (ms: number) => new Date(ms).toISOString();
const idOrNull = (value: number | null) => (value === null ? null : Number(value));

export function toContact(row: Selectable<ContactTable>): Contact {
  return {
    id: Number(row.id),
    masterId: Number(row.master_id ?? row.id),
    state: row.state as Contact['state'],
    mediaType: row.media_type as Contact['mediaType'],
    direction: row.direction as Contact['direction'],
    skillId: idOrNull(row.skill_id),
    agentId: idOrNull(row.agent_id),
    targetAgentId: idOrNull(row.target_agent_id),
    phoneNumber: row.phone_number,
    ani: row.ani,
    dnis: row.dnis,
    disconnectReason: row.disconnect_reason,
    callbackId: idOrNull(row.callback_id),
    createdAt: iso(Number(row.created_at)),
    endedAt: row.ended_at === null ? null : iso(Number(row.ended_at)),
  };
}

export function toCallback(row: Selectable<CallbackTable>): ScheduledCallback {
  return {
    id: Number(row.id),
    state: row.state as ScheduledCallback['state'],
    firstName: row.first_name,
    lastName: row.last_name,
    phoneNumber: row.phone_number,
    skillId: Number(row.skill_id),
    targetAgentId: idOrNull(row.target_agent_id),
    scheduledFor: iso(Number(row.due_at)),
    timeZone: row.time_zone,
    notes: row.notes,
    contactId: idOrNull(row.contact_id),
    createdAt: iso(Number(row.created_at)),
  };
}

export function toAgent(row: Selectable<AgentTable>, skills: number[]): Agent {
  return {
    id: Number(row.id),
    username: row.username,
    firstName: row.first_name,
    lastName: row.last_name,
    active: row.active === 1,
    state: row.state as Agent['state'],
    stateSince: iso(Number(row.state_since)),
    skills,
    securityProfile: row.security_profile,
    timeZone: row.time_zone,
  };
}

export function toSkill(row: Selectable<SkillTable>): Skill {
  return {
    id: Number(row.id),
    name: row.name,
    mediaType: row.media_type as Skill['mediaType'],
    direction: row.direction as Skill['direction'],
    active: row.active === 1,
    script: row.script,
  };
}

export function toAuditEntry(row: Selectable<AuditTable>): AuditEntry {
  return {
    id: Number(row.id),
    at: iso(Number(row.at)),
    actor: row.actor,
    channel: row.channel,
    action: row.action,
    targetType: row.target_type,
    targetId: row.target_id,
    details: JSON.parse(row.details) as Record<string, unknown>,
  };
}
