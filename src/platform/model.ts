import type { Selectable } from 'kysely';
import { fail } from '../result.js';
import { SCRIPT_TYPES, type ScriptType } from '../script/types.js';
import type { AgentTable, AuditTable, CallbackTable, ContactTable } from '../storage/schema.js';

export const MEDIA_TYPES = SCRIPT_TYPES;
export type MediaType = ScriptType;
export const DIRECTIONS = ['Inbound', 'Outbound'] as const;
export type Direction = (typeof DIRECTIONS)[number];
export const CONTACT_STATES = ['Queued', 'Active', 'Ended'] as const;
export type ContactState = (typeof CONTACT_STATES)[number];
export const AGENT_STATES = ['Available', 'Unavailable', 'Inbound', 'Outbound'] as const;
export type AgentState = (typeof AGENT_STATES)[number];
export const CALLBACK_STATES = ['Scheduled', 'Queued', 'Delivered', 'Completed', 'Canceled'] as const;
export type CallbackState = (typeof CALLBACK_STATES)[number];

export const PERMISSIONS = [
  'contacts:read',
  'contacts:write',
  'contacts:end',
  'callbacks:read',
  'callbacks:write',
  'agents:read',
  'agents:write',
  'skills:read',
  'skills:write',
  'scripts:read',
  'scripts:write',
  'admin',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** Who performs an operation: the agent behind a security user or a bearer token. */
export interface Actor {
  readonly agentId: number;
  readonly username: string;
  readonly permissions: ReadonlySet<Permission>;
  /** The security user's time zone (SETSECURITYUSER `TimeZone`, else the agent's, else the BU's). */
  readonly timeZone: string;
}

export function can(actor: Actor, permission: Permission): boolean {
  return actor.permissions.has('admin') || actor.permissions.has(permission);
}

/** The Unauthorized failure when the operation's actor lacks `permission`; system work (no actor) may do anything. */
export function denied(ctx: OperationContext, permission: Permission) {
  if (!ctx.actor || can(ctx.actor, permission)) return undefined;
  return fail('Unauthorized', `agent ${ctx.actor.agentId}'s security profile lacks ${permission}`);
}

/** Through which door an operation came; recorded in the audit log. */
export type Channel = 'script' | 'cli' | 'api' | 'scheduler' | 'world';

export interface OperationContext {
  readonly channel: Channel;
  /** Absent for system work (the scheduler, loading a world). */
  readonly actor?: Actor;
  /** Extra words for the audit actor, e.g. the script's name. */
  readonly via?: string;
}

export interface Contact {
  id: number;
  masterId: number;
  state: ContactState;
  mediaType: MediaType;
  direction: Direction;
  skillId: number | null;
  agentId: number | null;
  targetAgentId: number | null;
  phoneNumber: string | null;
  ani: string | null;
  dnis: string | null;
  disconnectReason: string | null;
  callbackId: number | null;
  createdAt: string;
  endedAt: string | null;
}

export interface ScheduledCallback {
  id: number;
  state: CallbackState;
  firstName: string;
  lastName: string;
  phoneNumber: string;
  skillId: number;
  targetAgentId: number | null;
  scheduledFor: string;
  timeZone: string;
  notes: string;
  contactId: number | null;
  createdAt: string;
}

export interface Agent {
  id: number;
  username: string;
  firstName: string;
  lastName: string;
  active: boolean;
  state: AgentState;
  stateSince: string;
  skills: number[];
  securityProfile: string | null;
  timeZone: string | null;
}

export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  channel: string;
  action: string;
  targetType: string;
  targetId: string;
  details: Record<string, unknown>;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function toContact(row: Selectable<ContactTable>): Contact {
  return {
    id: Number(row.id),
    masterId: Number(row.master_id ?? row.id),
    state: row.state as ContactState,
    mediaType: row.media_type as MediaType,
    direction: row.direction as Direction,
    skillId: row.skill_id === null ? null : Number(row.skill_id),
    agentId: row.agent_id === null ? null : Number(row.agent_id),
    targetAgentId: row.target_agent_id === null ? null : Number(row.target_agent_id),
    phoneNumber: row.phone_number,
    ani: row.ani,
    dnis: row.dnis,
    disconnectReason: row.disconnect_reason,
    callbackId: row.callback_id === null ? null : Number(row.callback_id),
    createdAt: iso(Number(row.created_at)),
    endedAt: row.ended_at === null ? null : iso(Number(row.ended_at)),
  };
}

export function toCallback(row: Selectable<CallbackTable>): ScheduledCallback {
  return {
    id: Number(row.id),
    state: row.state as CallbackState,
    firstName: row.first_name,
    lastName: row.last_name,
    phoneNumber: row.phone_number,
    skillId: Number(row.skill_id),
    targetAgentId: row.target_agent_id === null ? null : Number(row.target_agent_id),
    scheduledFor: iso(Number(row.due_at)),
    timeZone: row.time_zone,
    notes: row.notes,
    contactId: row.contact_id === null ? null : Number(row.contact_id),
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
    state: row.state as AgentState,
    stateSince: iso(Number(row.state_since)),
    skills,
    securityProfile: row.security_profile,
    timeZone: row.time_zone,
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

/** Parses an ID given as text ("5001", " 5001 ") into a positive safe integer, or undefined. */
export function parseId(text: string | number | null | undefined): number | undefined {
  if (typeof text === 'number') return Number.isSafeInteger(text) && text > 0 ? text : undefined;
  if (typeof text !== 'string') return undefined;
  const t = text.trim();
  if (!/^\d{1,15}$/.test(t)) return undefined;
  const n = Number(t);
  return n > 0 ? n : undefined;
}
