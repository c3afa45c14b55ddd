import { sql, type UpdateObject } from 'kysely';
import type { Database } from '../storage/schema.js';
import type { Executor } from '../storage/store.js';
import { type PlatformEvent, recordEvents } from './events.js';
import type { CallbackState, ContactState } from './model.js';

/**
 * Every move a scheduled callback may make (DESIGN §2), and nothing else:
 * Scheduled → Queued (due: dispatched into a queued outbound contact) → Delivered (an agent took
 * that contact) → Completed (the contact ended); Queued → Completed when the contact ends before
 * an agent takes it; Scheduled → Canceled.
 */
export const CALLBACK_TRANSITIONS: Readonly<Record<CallbackState, readonly CallbackState[]>> = {
  Scheduled: ['Queued', 'Canceled'],
  Queued: ['Delivered', 'Completed'],
  Delivered: ['Completed'],
  Completed: [],
  Canceled: [],
};

/** The state of a callback whose contact is in a given state: the two move together. */
export const CALLBACK_STATE_OF_CONTACT: Readonly<Record<ContactState, CallbackState>> = {
  Queued: 'Queued',
  Active: 'Delivered',
  Ended: 'Completed',
};

/** A callback is edited (rescheduled, its notes changed) only while it waits to be dispatched. */
export const EDITABLE_CALLBACK_STATE: CallbackState = 'Scheduled';

/** The states from which a callback may move to `to`. */
export function statesLeadingTo(to: CallbackState): CallbackState[] {
  return (Object.keys(CALLBACK_TRANSITIONS) as CallbackState[]).filter((from) =>
    CALLBACK_TRANSITIONS[from].includes(to),
  );
}

export interface MovedCallback {
  id: number;
  contactId: number | null;
  dueAt: number;
}

type Columns = UpdateObject<Database, 'scheduled_callbacks', 'scheduled_callbacks'>;

/**
 * Moves callbacks to `to` — the one guarded update every state change goes through. Only rows in
 * a state the table lets reach `to` move, so a change racing another (a cancel and the dispatch,
 * two processes) moves each callback once and tells the loser nothing moved. `also` sets other
 * columns in the same update. Records the event of each move; returns the callbacks moved.
 */
export async function transitionCallbacks(
  db: Executor,
  now: number,
  ids: readonly number[],
  to: CallbackState,
  details: { agentId?: number; also?: Columns } = {},
): Promise<MovedCallback[]> {
  const from = statesLeadingTo(to);
  if (ids.length === 0 || from.length === 0) return [];
  const rows = await db
    .updateTable('scheduled_callbacks')
    .set({ ...details.also, state: to, updated_at: now })
    .where('id', 'in', ids)
    // `state || ''`, not `state`: a guard the state index cannot serve, so that PostgreSQL finds a
    // batch by its IDs (the primary key) even when its statistics are stale; planned on `state`, a
    // dispatch batch read every Scheduled callback to find its few hundred.
    .where(sql<string>`${sql.ref('state')} || ''`, 'in', from)
    .returning(['id', 'contact_id', 'due_at'])
    .execute();
  const moved = rows.map((r) => ({
    id: Number(r.id),
    contactId: r.contact_id === null ? null : Number(r.contact_id),
    dueAt: Number(r.due_at),
  }));
  recordEvents(
    db,
    moved.flatMap((m) => eventOf(to, m, now, details.agentId) ?? []),
  );
  return moved;
}

/** The event a move to `to` is (DESIGN §8 names). */
function eventOf(to: CallbackState, m: MovedCallback, at: number, agentId = 0): PlatformEvent | undefined {
  const contactId = m.contactId ?? 0;
  switch (to) {
    case 'Queued':
      return { type: 'callback.dispatched', at, callbackId: m.id, contactId, lateMs: at - m.dueAt };
    case 'Delivered':
      return { type: 'callback.delivered', at, callbackId: m.id, contactId, agentId };
    case 'Completed':
      return { type: 'callback.completed', at, callbackId: m.id, contactId: m.contactId };
    case 'Canceled':
      return { type: 'callback.canceled', at, callbackId: m.id };
    case 'Scheduled':
      return undefined;
  }
}
