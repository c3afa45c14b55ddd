import type { Executor } from '../storage/store.js';
import type { AgentState, ContactState, MediaType } from './model.js';

/**
 * What changed, as DESIGN §8 names it. Each is recorded beside the change, inside its
 * transaction, and told to listeners only after that transaction commits: a listener never hears
 * of a change that was rolled back. `at` is the transaction's time (epoch ms).
 */
export type PlatformEvent =
  | {
      type: 'contact.created';
      at: number;
      contactId: number;
      mediaType: MediaType;
      state: ContactState;
      skillId: number | null;
      callbackId: number | null;
    }
  | {
      type: 'contact.queued';
      at: number;
      contactId: number;
      skillId: number | null;
      targetAgentId: number | null;
    }
  | { type: 'contact.routed'; at: number; contactId: number; agentId: number; callbackId: number | null }
  | {
      type: 'contact.ended';
      at: number;
      contactId: number;
      reason: string;
      /** The agent the contact had (now freed), if any. */
      agentId: number | null;
      /** The contact's parked script still owes its ONRELEASE. */
      scriptOwed: boolean;
    }
  | { type: 'contact.signaled'; at: number; contactId: number }
  | { type: 'callback.scheduled' | 'callback.rescheduled'; at: number; callbackId: number; dueAt: number }
  | { type: 'callback.canceled'; at: number; callbackId: number }
  | { type: 'callback.dispatched'; at: number; callbackId: number; contactId: number; lateMs: number }
  | { type: 'callback.delivered'; at: number; callbackId: number; contactId: number; agentId: number }
  | { type: 'callback.completed'; at: number; callbackId: number; contactId: number | null }
  | { type: 'agent.state_changed'; at: number; agentId: number; from: AgentState; to: AgentState }
  | { type: 'script.deployed'; at: number; name: string }
  /** A contact's script was queued to run: a server process should claim it. */
  | { type: 'run.queued'; at: number; contactId: number; script: string }
  /** A run crash-looped (its lease ran out `leaseExpiries` times) and was taken out of the queue for good. */
  | { type: 'run.quarantined'; at: number; contactId: number; script: string; leaseExpiries: number }
  /**
   * Routing passed over rows another transaction held locked (PostgreSQL): nothing is lost, but
   * routing should look again shortly. Not an event of the outside world; the scheduler acts on it.
   */
  | { type: 'routing.contended'; at: number; skipped: number };

export type PlatformEventType = PlatformEvent['type'];

/** Events recorded so far by each open transaction, keyed by the executor its work was given. */
const pending = new WeakMap<Executor, PlatformEvent[]>();

/**
 * Records events in the transaction `db` belongs to. Outside a transaction the platform opened
 * (a test calling a rule on the bare store) there is nobody to tell, and they are dropped.
 */
export function recordEvents(db: Executor, events: readonly PlatformEvent[]): void {
  pending.get(db)?.push(...events);
}

/** Runs `work` on `db` (a fresh transaction) and returns its result with the events it recorded. */
export async function collectEvents<T>(
  db: Executor,
  work: () => Promise<T>,
): Promise<{ value: T; events: PlatformEvent[] }> {
  const events: PlatformEvent[] = [];
  pending.set(db, events);
  try {
    return { value: await work(), events };
  } finally {
    pending.delete(db);
  }
}
