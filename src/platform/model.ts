import { SCRIPT_TYPES, type ScriptType } from '../script/types.js';

/** The platform's vocabulary: the states and names every rule and resource uses. */

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

/** Through which door an operation came; recorded in the audit log. */
export type Channel = 'script' | 'cli' | 'api' | 'scheduler' | 'world';

export interface OperationContext {
  readonly channel: Channel;
  /** Absent for system work (the scheduler, loading a world). */
  readonly actor?: Actor;
  /** Extra words for the audit actor, e.g. the script's name. */
  readonly via?: string;
  /**
   * A script acting for itself (no security user): the contact it runs for. Its run's deployer
   * bounds what it may do (security.ts `authorizeScript`).
   */
  readonly contactId?: number;
}

/** System work by the scheduler: dispatching, routing, running scripts. */
export const SCHEDULER: OperationContext = { channel: 'scheduler' };

/**
 * The range of every ID (contacts, callbacks, agents, skills, audit entries): 1 to 15 digits.
 * The API's schemas and parseId accept exactly these, and JavaScript holds them exactly.
 */
export const MAX_ID = 999_999_999_999_999;
/**
 * The largest ID a new row may be given by hand (`POST /skills` with an `id`, a world's
 * fixtures). The database numbers the rows it is not given an ID for from the largest ID + 1,
 * so a hand-given ID must leave them room below MAX_ID: 999 trillion of it.
 */
export const MAX_GIVEN_ID = 999_999_999_999;
const ID_TEXT = new RegExp(`^\\d{1,${String(MAX_ID).length}}$`);

/** Parses an ID given as text ("5001", " 5001 ") or a number into an ID within 1…MAX_ID, or undefined. */
export function parseId(text: string | number | null | undefined): number | undefined {
  if (typeof text === 'number')
    return Number.isInteger(text) && text > 0 && text <= MAX_ID ? text : undefined;
  if (typeof text !== 'string') return undefined;
  const t = text.trim();
  if (!ID_TEXT.test(t)) return undefined;
  const n = Number(t);
  return n > 0 ? n : undefined;
}
