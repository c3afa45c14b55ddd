import { sql } from 'kysely';
import type { Clock } from '../clock.js';
import { fail, ok, type Result } from '../result.js';
import type { ActionCatalog } from '../script/action-contract.js';
import type { Executor, Store } from '../storage/store.js';
import { getAgent, listAgents, setAgentState } from './agents.js';
import { listAudit, recordAudit } from './audit.js';
import { getBusinessUnit } from './business-unit.js';
import {
  type CallbackChanges,
  cancelCallback,
  countCallbacksByState,
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
  countContactsByState,
  createContact,
  endContact,
  getContact,
  listContacts,
  type StartContactInput,
  signalContact,
  startContact,
} from './contacts.js';
import { collectEvents, type PlatformEvent } from './events.js';
import { type AgentState, type OperationContext, SCHEDULER } from './model.js';
import { authorize, type Operation } from './permissions.js';
import type { Contact } from './resources.js';
import { nextTargetWaitEnd, routeQueuedContacts } from './routing.js';
import { type ClaimOptions, claimRuns, finishRun, nextRunDue, parkRun, renewRuns } from './script-runs.js';
import { deployScript, getScript, validateScript } from './scripts.js';
import {
  authorizeScript,
  type DetachedRun,
  type HandleOptions,
  issueSecurityUser,
  resolveSecurityUser,
  rotateSigningKeys,
  type ScriptCaller,
} from './security.js';
import { type CreateSkillInput, createSkill, listSkills } from './skills.js';
import { authenticate, createToken, revokeToken } from './tokens.js';
import { checkWorld, loadWorld } from './world.js';

class WorldRejected extends Error {
  constructor(readonly result: { ok: false; code: 'InvalidWorld'; message: string }) {
    super(result.message);
  }
}

/** The script files a world lists, and the actions that compile them. */
export interface WorldScripts {
  files: ReadonlyArray<{ file: string; text: string }>;
  catalog: ActionCatalog;
}

const WORLD: OperationContext = { channel: 'world' };

/** Hears every change after the transaction that made it commits. */
export type PlatformListener = (event: PlatformEvent) => void;

export interface PlatformOptions {
  store: Store;
  clock: Clock;
  /**
   * Row locks for claiming, routing and signalling. Default: on for PostgreSQL, where several
   * processes work at once; SQLite has one writer at a time and needs none.
   */
  lockRows?: boolean;
  /**
   * Told when a listener throws. The change it heard of has committed and stays so: a listener's
   * failure never fails the operation. Default: written to stderr.
   */
  onListenerError?(error: unknown, event: PlatformEvent): void;
  /**
   * Scripts act within their deployer's permissions: SETSECURITYUSER assumes only an agent whose
   * permissions the deployer of the running script held at deploy, and a contact with no script
   * run on record gets no handle. Default on; the server always sets it, the offline simulator
   * only when told a deployer (`switchboard run --deployed-by`).
   */
  scriptsActWithinDeployer?: boolean;
  /**
   * Signs and verifies every security-user handle instead of the database's security_keys
   * (SWITCHBOARD_HANDLE_KEY, a key file): a copy of the database then holds nothing to sign with.
   */
  handleKey?: string;
  /** Script runs driven outside the work queue, by contact: the offline simulator's own run. */
  detachedRun?(contactId: number): DetachedRun | undefined;
}

type ListFilter = { afterId?: number; limit?: number };

/**
 * The platform's operations, each one transaction on the store, with routing run after any
 * change that can free an agent or queue a contact. Actions, the CLI and the HTTP API all call
 * these: one copy of every domain rule, and the one check of every permission (reads too).
 */
export function createPlatform(options: PlatformOptions) {
  const { store, clock } = options;
  const lockRows = options.lockRows ?? store.dialect === 'postgres';
  const handles: HandleOptions = {
    withinDeployer: options.scriptsActWithinDeployer ?? true,
    handleKey: options.handleKey,
    detachedRun: options.detachedRun?.bind(options),
    lockRows,
  };
  const listeners = new Set<PlatformListener>();
  const onListenerError =
    options.onListenerError ??
    ((error: unknown, event: PlatformEvent) => console.error(`a listener of ${event.type} failed:`, error));

  const publish = (events: readonly PlatformEvent[]) => {
    for (const event of events) {
      for (const listener of listeners) {
        try {
          listener(event);
        } catch (error) {
          onListenerError(error, event);
        }
      }
    }
  };
  /** One transaction; the events it recorded are told once it has committed. */
  const tx = async <T>(work: (db: Executor, now: number) => Promise<T>): Promise<T> => {
    const { value, events } = await store.transaction((trx) =>
      collectEvents(trx, () => work(trx, clock.now())),
    );
    publish(events);
    return value;
  };
  /** Routing after an operation: `cause` is who did it (the audit and a skill script's run say so). */
  const route = (db: Executor, now: number, cause: OperationContext = SCHEDULER) =>
    routeQueuedContacts(db, now, { lockRows, cause });
  /** A read: the actor must hold its permission. */
  const read = <T>(ctx: OperationContext, operation: Operation, work: () => Promise<T>) => {
    const unauthorized = authorize(ctx, operation);
    return unauthorized ? Promise.resolve(unauthorized) : work().then(ok);
  };
  const found = <T, C extends string>(value: T | undefined, code: C, message: string) =>
    value === undefined ? fail(code, message) : ok(value);

  return {
    store,
    clock,
    /** Listens to every change; returns the function that stops listening. */
    on(listener: PlatformListener): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    /**
     * Whether the actor may do `operation` at all, before its input is read (the HTTP layer asks,
     * so that a token without the permission gets 403 whatever its body holds). The operation
     * itself checks again, with its subject known.
     */
    authorize: (ctx: OperationContext, operation: Operation) => authorize(ctx, operation, 'unknown'),

    /**
     * Loads a world fixture into an empty store, with the scripts its skills run (a world file's
     * `scripts`, read by the caller) deployed first — all in one transaction: a world rejected
     * part-way leaves nothing behind, its scripts included.
     */
    async loadWorld(
      value: unknown,
      scripts?: WorldScripts,
      ctx: OperationContext = WORLD,
    ): Promise<Result<void, 'InvalidWorld'>> {
      const checked = checkWorld(value);
      if (!checked.ok) return checked;
      return tx(async (db, now) => {
        if (scripts) {
          for (const { file, text } of scripts.files) {
            const deployed = await deployScript(db, now, text, scripts.catalog, ctx);
            if (!deployed.ok) {
              throw new WorldRejected(fail('InvalidWorld', `scripts: ${file}: ${deployed.message}`));
            }
          }
        }
        const r = await loadWorld(db, now, checked.value);
        // Thrown, not returned, so that the half-loaded world rolls back and the store stays empty.
        if (!r.ok) throw new WorldRejected(r);
        await store.continueIds(db);
        const world = checked.value;
        await recordAudit(db, now, ctx, {
          action: 'world.loaded',
          targetType: 'business-unit',
          targetId: 1,
          details: {
            skills: world.skills?.length ?? 0,
            agents: world.agents?.length ?? 0,
            contacts: world.contacts?.length ?? 0,
            callbacks: world.callbacks?.length ?? 0,
            scripts: scripts?.files.map((f) => f.file) ?? [],
          },
        });
        await route(db, now, ctx);
        return ok(undefined);
      }).catch((thrown: unknown) => {
        if (thrown instanceof WorldRejected) return thrown.result;
        throw thrown;
      });
    },

    businessUnit: () => getBusinessUnit(store.db),

    /** SETSECURITYUSER, for the script run of `caller`'s contact. */
    issueSecurityUser: (agentRef: string, timeZone: string, caller: ScriptCaller) =>
      tx((db, now) => issueSecurityUser(db, now, agentRef, timeZone, caller, handles)),

    /** The actor behind a handle, as the script run of `caller`'s contact uses it. */
    resolveSecurityUser: (handle: string, caller: Pick<ScriptCaller, 'contactId'>) =>
      resolveSecurityUser(store.db, clock.now(), handle, caller, handles),

    /** `switchboard keys rotate`: a new key signs security-user handles from now on. */
    rotateSigningKeys: (options: { retireOld: boolean }, ctx: OperationContext) =>
      tx((db, now) => rotateSigningKeys(db, now, ctx, options)),

    /** A contact as a simulation or world starts it (no checks: the caller made the input). */
    startContact: (input: StartContactInput, ctx: OperationContext): Promise<Contact> =>
      tx(async (db, now) => {
        const contact = await startContact(db, now, input, ctx);
        if (contact.state === 'Queued') await route(db, now, ctx);
        return contact;
      }),

    createContact: (input: CreateContactInput, ctx: OperationContext) =>
      tx(async (db, now) => {
        const r = await createContact(db, now, input, ctx);
        if (r.ok && r.value.state === 'Queued') await route(db, now, ctx);
        return r;
      }),

    endContact: (contactRef: string | number, reason: string, ctx: OperationContext) =>
      tx(async (db, now) => {
        const r = await endContact(db, now, contactRef, reason, ctx);
        // Only a freed agent is new work for routing; a contact that had none changes nothing.
        if (r.ok && r.value.agentId !== null) await route(db, now, ctx);
        return r;
      }),

    signalContact: (contactRef: string | number, params: string[], ctx: OperationContext) =>
      tx((db, now) => signalContact(db, now, contactRef, params, ctx, { lockRows })),

    deployScript: (text: string, catalog: ActionCatalog, ctx: OperationContext) =>
      tx((db, now) => deployScript(db, now, text, catalog, ctx)),

    /** Validates a script without deploying it (a `scripts:read` operation). */
    validateScript: (text: string, catalog: ActionCatalog, ctx: OperationContext) =>
      read(ctx, 'scripts.validate', async () => validateScript(text, catalog)),

    scheduleCallback: (
      input: ScheduleCallbackInput,
      ctx: OperationContext,
      options: { idempotencyKey?: string } = {},
    ) =>
      tx(async (db, now) => {
        const unauthorized = await authorizeScript(db, ctx, 'callbacks:write', handles);
        return unauthorized ?? scheduleCallback(db, now, input, ctx, options);
      }),

    cancelCallback: (id: number, ctx: OperationContext) => tx((db, now) => cancelCallback(db, now, id, ctx)),

    updateCallback: (id: number, changes: CallbackChanges, ctx: OperationContext) =>
      tx((db, now) => updateCallback(db, now, id, changes, ctx)),

    createSkill: (input: CreateSkillInput, ctx: OperationContext) =>
      tx(async (db, now) => {
        const r = await createSkill(db, now, input, ctx);
        // An ID given by hand: the IDs the database gives out continue after it.
        if (r.ok && input.id !== undefined) await store.continueIds(db);
        return r;
      }),

    createToken: (agentId: number, label: string, ctx: OperationContext) =>
      tx((db, now) => createToken(db, now, agentId, label, ctx)),

    revokeToken: (ref: string, ctx: OperationContext) => tx((db, now) => revokeToken(db, now, ref, ctx)),

    authenticate: (token: string) => authenticate(store.db, token),

    /**
     * A request refused for want of a valid token (401) or of a permission (403): audited, so that
     * probing shows. `ctx.actor` is the token's agent when it was valid.
     */
    recordRefusal: (
      ctx: OperationContext,
      request: { method: string; route: string; status: number; code: string; message: string },
    ) =>
      tx((db, now) =>
        recordAudit(db, now, ctx, {
          action: 'request.refused',
          targetType: 'request',
          targetId: `${request.method} ${request.route}`,
          details: { status: request.status, code: request.code, message: request.message },
        }),
      ),

    /** Reads: each checks the actor's permission, as writes do. */
    read: {
      contact: (id: number, ctx: OperationContext) =>
        read(ctx, 'contacts.read', () => getContact(store.db, id)).then((r) =>
          r.ok ? found(r.value, 'InvalidContactID', `no contact with ID ${id}`) : r,
        ),
      contacts: (filter: Parameters<typeof listContacts>[1], ctx: OperationContext) =>
        read(ctx, 'contacts.read', () => listContacts(store.db, filter)),
      callback: (id: number, ctx: OperationContext) =>
        read(ctx, 'callbacks.read', () => getCallback(store.db, id)).then((r) =>
          r.ok ? found(r.value, 'NotFound', `no scheduled callback with ID ${id}`) : r,
        ),
      callbacks: (filter: Parameters<typeof listCallbacks>[1], ctx: OperationContext) =>
        read(ctx, 'callbacks.read', () => listCallbacks(store.db, filter)),
      agent: (id: number, ctx: OperationContext) =>
        read(ctx, 'agents.read', () => getAgent(store.db, id)).then((r) =>
          r.ok ? found(r.value, 'NotFound', `no agent with ID ${id}`) : r,
        ),
      agents: (filter: ListFilter, ctx: OperationContext) =>
        read(ctx, 'agents.read', () => listAgents(store.db, filter)),
      skills: (filter: ListFilter, ctx: OperationContext) =>
        read(ctx, 'skills.read', () => listSkills(store.db, filter)),
      script: (name: string, ctx: OperationContext) =>
        read(ctx, 'scripts.read', () => getScript(store.db, name)).then((r) =>
          r.ok ? found(r.value, 'NotFound', `no script named '${name}' is deployed`) : r,
        ),
      audit: (filter: ListFilter, ctx: OperationContext) =>
        read(ctx, 'audit.read', () => listAudit(store.db, filter)),
      /** Whether the database answers (health checks: no actor). */
      async health(): Promise<boolean> {
        try {
          await sql`select 1`.execute(store.db);
          return true;
        } catch {
          return false;
        }
      },
      /** Contacts by state (metrics: no actor). */
      contactCounts: () => countContactsByState(store.db),
      /** Callbacks by state (metrics: no actor). */
      callbackCounts: () => countCallbacksByState(store.db),
    },

    /** QUERYCALLBACK: callbacks waiting for this number (any format the BU can read) on this skill. */
    countPendingCallbacks: (phoneNumber: string, skillRef: string | number) =>
      countPendingCallbacks(store.db, phoneNumber, skillRef),

    /** QUEUECALLBACK: a live outbound Phone contact, queued now to the skill or target agent. */
    queueCallback: (input: QueueCallbackInput, ctx: OperationContext) =>
      tx(async (db, now) => {
        const unauthorized = await authorizeScript(db, ctx, 'contacts:write', handles);
        if (unauthorized) return unauthorized;
        const r = await queueCallback(db, now, input, ctx);
        if (r.ok) await route(db, now, ctx);
        return r;
      }),

    setAgentState: (agentId: number, state: AgentState, ctx: OperationContext) =>
      tx(async (db, now) => {
        const r = await setAgentState(db, now, agentId, state, ctx);
        if (r.ok && state === 'Available') await route(db, now, ctx);
        return r;
      }),

    /** Dispatches what is due now, and routes (even when nothing was due); returns what it dispatched. */
    dispatchDue: (limit?: number) =>
      tx(async (db, now) => {
        const dispatched = await dispatchDueCallbacks(db, now, {
          ...(limit === undefined ? {} : { limit }),
          lockRows,
        });
        await route(db, now);
        return dispatched;
      }),

    /** The next moment something becomes due without any other event (a callback, a target wait). */
    async nextWakeAt(): Promise<number | null> {
      const [due, wait] = await Promise.all([
        nextCallbackDue(store.db),
        nextTargetWaitEnd(store.db, clock.now()),
      ]);
      if (due === null) return wait;
      return wait === null ? due : Math.min(due, wait);
    },

    /**
     * The script-run work queue (platform/script-runs.ts), for the process that runs scripts: claim
     * what can run, then park or finish each run claimed.
     */
    runs: {
      /**
       * Claims what can run; a crash-looping run is quarantined instead (the business unit's
       * runMaxLeaseExpiries) and its contact ended `ScriptQuarantined`, in the same transaction.
       */
      claim: (options: Omit<ClaimOptions, 'lockRows' | 'maxLeaseExpiries'>) =>
        tx(async (db, now) => {
          const { runMaxLeaseExpiries } = await getBusinessUnit(db);
          const { claimed, quarantined } = await claimRuns(db, now, {
            ...options,
            lockRows,
            maxLeaseExpiries: runMaxLeaseExpiries,
          });
          let freed = false;
          for (const run of quarantined) {
            // A contact already ended (its ONRELEASE was what crashed) answers ContactNotActive: nothing to do.
            const ended = await endContact(db, now, run.contactId, 'ScriptQuarantined', {
              ...SCHEDULER,
              via: run.scriptName,
            });
            if (ended.ok && ended.value.agentId !== null) freed = true;
          }
          if (freed) await route(db, now);
          return claimed;
        }),
      park: (
        contactId: number,
        owner: string,
        parked: Parameters<typeof parkRun>[4],
        consumedSignals: readonly number[],
      ) => tx((db, now) => parkRun(db, now, contactId, owner, parked, consumedSignals)),
      finish: (contactId: number, owner: string) => tx((db) => finishRun(db, contactId, owner)),
      renew: (contactIds: readonly number[], owner: string, leaseMs: number) =>
        tx((db, now) => renewRuns(db, now, contactIds, owner, leaseMs)),
      nextDue: () => nextRunDue(store.db),
    },

    /** Everything a simulation reports at its end. */
    snapshot: async () => ({
      contacts: await listContacts(store.db),
      callbacks: await listCallbacks(store.db),
      agents: await listAgents(store.db),
      audit: await listAudit(store.db),
    }),
  };
}

export type Platform = ReturnType<typeof createPlatform>;
