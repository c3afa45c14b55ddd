import type { Clock } from '../clock.js';
import { fail, ok, type Result } from '../result.js';
import type { ActionCatalog } from '../script/action-contract.js';
import type { Executor, Store } from '../storage/store.js';
import { getAgent, listAgents, setAgentState } from './agents.js';
import { getBusinessUnit } from './business-unit.js';
import {
  type CallbackChanges,
  cancelCallback,
  countPendingCallbacks,
  dispatchDueCallbacks,
  getCallback,
  listCallbacks,
  nextCallbackDue,
  type QueueCallbackInput,
  queueCallback,
  type ScheduleCallbackInput,
  scheduleCallback,
  updateCallback,
} from './callbacks.js';
import {
  type CreateContactInput,
  createContact,
  endContact,
  getContact,
  listContacts,
  type StartContactInput,
  signalContact,
  startContact,
} from './contacts.js';
import {
  type AgentState,
  type AuditEntry,
  type Contact,
  type OperationContext,
  parseId,
  toAuditEntry,
} from './model.js';
import { parsePhoneNumber } from './phone-number.js';
import { nextTargetWaitEnd, routeQueuedContacts } from './routing.js';
import { deployScript, getScript } from './scripts.js';
import { issueSecurityUser, resolveSecurityUser } from './security.js';
import { type CreateSkillInput, createSkill, listSkills } from './skills.js';
import { authenticate, createToken, revokeToken } from './tokens.js';
import { checkWorld, loadWorld } from './world.js';

class WorldRejected extends Error {
  constructor(readonly result: { ok: false; code: 'InvalidWorld'; message: string }) {
    super(result.message);
  }
}

/** What happened, told after it committed: the runtime resumes scripts, the server notifies peers. */
export interface PlatformEvents {
  /** `scriptOwed`: the contact's parked script still has its ONRELEASE to run. */
  contactEnded?(contact: Contact, info: { scriptOwed: boolean }): void;
  contactRouted?(routed: { contactId: number; agentId: number; callbackId: number | null }): void;
  callbackScheduled?(callback: { id: number; dueAt: number }): void;
  contactSignaled?(contactId: number): void;
}

export interface PlatformOptions {
  store: Store;
  clock: Clock;
  /** Row locks for claiming due callbacks; on for PostgreSQL, where several processes claim at once. */
  lockRows?: boolean;
}

/**
 * The platform's operations, each one transaction on the store, with routing run after any
 * change that can free an agent or queue a contact. Actions, the CLI and the HTTP API all call
 * these: one copy of every domain rule.
 */
export function createPlatform(options: PlatformOptions) {
  const { store, clock } = options;
  const listeners: PlatformEvents[] = [];
  const emit = <K extends keyof PlatformEvents>(
    event: K,
    ...args: Parameters<NonNullable<PlatformEvents[K]>>
  ) => {
    for (const l of listeners) (l[event] as ((...a: typeof args) => void) | undefined)?.(...args);
  };
  const tx = <T>(work: (db: Executor, now: number) => Promise<T>) =>
    store.transaction((trx) => work(trx, clock.now()));
  const route = async (db: Executor, now: number) => {
    const routed = await routeQueuedContacts(db, now);
    return routed;
  };
  const tellRouted = (routed: Awaited<ReturnType<typeof routeQueuedContacts>>) => {
    for (const r of routed) emit('contactRouted', r);
  };

  return {
    store,
    clock,
    on(events: PlatformEvents): () => void {
      listeners.push(events);
      return () => {
        const i = listeners.indexOf(events);
        if (i >= 0) listeners.splice(i, 1);
      };
    },

    /** Loads a world fixture into an empty store. */
    async loadWorld(value: unknown): Promise<Result<void, 'InvalidWorld'>> {
      const checked = checkWorld(value);
      if (!checked.ok) return checked;
      const loaded = await tx(async (db, now) => {
        const r = await loadWorld(db, now, checked.value);
        // Thrown, not returned, so that the half-loaded world rolls back and the store stays empty.
        if (!r.ok) throw new WorldRejected(r);
        await store.continueIds(db);
        return ok(await route(db, now));
      }).catch((thrown: unknown) => {
        if (thrown instanceof WorldRejected) return thrown.result;
        throw thrown;
      });
      if (!loaded.ok) return loaded;
      tellRouted(loaded.value);
      return ok(undefined);
    },

    businessUnit: () => getBusinessUnit(store.db),

    issueSecurityUser: (agentRef: string, timeZone = '') =>
      tx((db, now) => issueSecurityUser(db, now, agentRef, timeZone)),

    resolveSecurityUser: (handle: string) => resolveSecurityUser(store.db, handle),

    async startContact(input: StartContactInput, ctx: OperationContext): Promise<Contact> {
      const [contact, routed] = await tx(async (db, now) => {
        const c = await startContact(db, now, input, ctx);
        return [c, c.state === 'Queued' ? await route(db, now) : []] as const;
      });
      tellRouted(routed);
      return contact;
    },

    async createContact(input: CreateContactInput, ctx: OperationContext) {
      const result = await tx(async (db, now) => {
        const r = await createContact(db, now, input, ctx);
        return r.ok ? { ...r, routed: r.value.state === 'Queued' ? await route(db, now) : [] } : r;
      });
      if (result.ok) {
        tellRouted(result.routed);
        emit('contactSignaled', result.value.id);
      }
      return result;
    },

    async endContact(contactRef: string | number, reason: string, ctx: OperationContext) {
      const result = await tx(async (db, now) => {
        const r = await endContact(db, now, contactRef, reason, ctx);
        if (!r.ok) return r;
        const run = await db
          .selectFrom('script_runs')
          .select('status')
          .where('contact_id', '=', r.value.id)
          .executeTakeFirst();
        return {
          ...r,
          scriptOwed: run !== undefined,
          routed: await route(db, now),
        };
      });
      if (result.ok) {
        emit('contactEnded', result.value, { scriptOwed: result.scriptOwed });
        tellRouted(result.routed);
      }
      return result;
    },

    signalContact: (contactRef: string | number, params: string[], ctx: OperationContext) =>
      tx((db, now) => signalContact(db, now, contactRef, params, ctx)).then((r) => {
        if (r.ok) emit('contactSignaled', r.value.id);
        return r;
      }),

    deployScript: (text: string, catalog: ActionCatalog, ctx: OperationContext) =>
      tx((db, now) => deployScript(db, now, text, catalog, ctx)),

    async scheduleCallback(
      input: ScheduleCallbackInput,
      ctx: OperationContext,
      idempotency?: { key: string; requestHash: string },
    ) {
      const result = await tx((db, now) => scheduleCallback(db, now, input, ctx, idempotency));
      if (result.ok)
        emit('callbackScheduled', { id: result.value.id, dueAt: Date.parse(result.value.scheduledFor) });
      return result;
    },

    cancelCallback: (id: number, ctx: OperationContext) => tx((db, now) => cancelCallback(db, now, id, ctx)),

    async updateCallback(id: number, changes: CallbackChanges, ctx: OperationContext) {
      const result = await tx((db, now) => updateCallback(db, now, id, changes, ctx));
      if (result.ok) emit('callbackScheduled', { id, dueAt: Date.parse(result.value.scheduledFor) });
      return result;
    },

    createSkill: (input: CreateSkillInput, ctx: OperationContext) =>
      tx((db, now) => createSkill(db, now, input, ctx)),

    createToken: (agentId: number, label: string, ctx: OperationContext) =>
      tx((db, now) => createToken(db, now, agentId, label, ctx)),

    revokeToken: (ref: string, ctx: OperationContext) => tx((db, now) => revokeToken(db, now, ref, ctx)),

    authenticate: (token: string) => authenticate(store.db, token),

    /** Reads: no transaction, no permission check (the caller checks `*:read`). */
    read: {
      contact: (id: number) => getContact(store.db, id),
      contacts: (filter: Parameters<typeof listContacts>[1]) => listContacts(store.db, filter),
      callback: (id: number) => getCallback(store.db, id),
      callbacks: (filter: Parameters<typeof listCallbacks>[1]) => listCallbacks(store.db, filter),
      agent: (id: number) => getAgent(store.db, id),
      agents: (options: Parameters<typeof listAgents>[1]) => listAgents(store.db, options),
      skills: (options: Parameters<typeof listSkills>[1]) => listSkills(store.db, options),
      script: (name: string) => getScript(store.db, name),
      async audit(options: { afterId?: number; limit?: number }) {
        let q = store.db.selectFrom('audit_log').selectAll().orderBy('id');
        if (options.afterId !== undefined) q = q.where('id', '>', options.afterId);
        if (options.limit !== undefined) q = q.limit(options.limit);
        return (await q.execute()).map(toAuditEntry);
      },
    },

    /** QUERYCALLBACK: callbacks waiting for this number (any format the BU can read) on this skill. */
    async countPendingCallbacks(
      phoneNumber: string,
      skillRef: string | number,
    ): Promise<Result<number, 'InvalidPhoneNumber' | 'InvalidSkillId'>> {
      const skillId = parseId(skillRef);
      if (skillId === undefined) {
        return fail('InvalidSkillId', `Skill '${String(skillRef)}' is not a skill ID (a positive number)`);
      }
      const skill = await store.db
        .selectFrom('skills')
        .select('id')
        .where('id', '=', skillId)
        .executeTakeFirst();
      if (!skill) return fail('InvalidSkillId', `no skill with ID ${skillId}`);
      const bu = await getBusinessUnit(store.db);
      const phone = parsePhoneNumber(phoneNumber, { defaultCountry: bu.defaultCountry });
      if (!phone.ok) return phone;
      return ok(await countPendingCallbacks(store.db, phone.value, skillId));
    },

    /** QUEUECALLBACK: a live outbound Phone contact, queued now to the skill or target agent. */
    async queueCallback(input: QueueCallbackInput, ctx: OperationContext) {
      const result = await tx(async (db, now) => {
        const r = await queueCallback(db, now, input, ctx);
        return r.ok ? { ...r, routed: await route(db, now) } : r;
      });
      if (result.ok) tellRouted(result.routed);
      return result;
    },

    async setAgentState(agentId: number, state: AgentState, ctx: OperationContext) {
      const result = await tx(async (db, now) => {
        const r = await setAgentState(db, now, agentId, state, ctx);
        return r.ok ? { ...r, routed: state === 'Available' ? await route(db, now) : [] } : r;
      });
      if (result.ok) tellRouted(result.routed);
      return result;
    },

    /** Dispatches what is due now and routes; returns what it dispatched. */
    async dispatchDue(limit?: number) {
      const result = await tx(async (db, now) => {
        const dispatched = await dispatchDueCallbacks(db, now, {
          ...(limit === undefined ? {} : { limit }),
          lockRows: options.lockRows ?? false,
        });
        return { dispatched, routed: await route(db, now) };
      });
      tellRouted(result.routed);
      return result.dispatched;
    },

    /** Routing on its own: after a target agent's wait ran out, for instance. */
    async route() {
      const routed = await tx(route);
      tellRouted(routed);
      return routed;
    },

    /** The next moment something becomes due without any other event (a callback, a target wait). */
    async nextWakeAt(): Promise<number | null> {
      const [due, wait] = await Promise.all([
        nextCallbackDue(store.db),
        nextTargetWaitEnd(store.db, clock.now()),
      ]);
      if (due === null) return wait;
      return wait === null ? due : Math.min(due, wait);
    },

    /** Everything a simulation reports at its end. */
    async snapshot() {
      const audit = await store.db.selectFrom('audit_log').selectAll().orderBy('id').execute();
      return {
        contacts: await listContacts(store.db),
        callbacks: await listCallbacks(store.db),
        agents: await listAgents(store.db),
        audit: audit.map(toAuditEntry) as AuditEntry[],
      };
    },
  };
}

export type Platform = ReturnType<typeof createPlatform>;
