import { afterEach, beforeEach, expect, it } from 'vitest';
import { withAgents } from '../../test/support/platform.js';
import { baseWorld, NOW } from '../../test/support/simulate.js';
import { describeEachStore } from '../../test/support/stores.js';
import { actions } from '../actions/registry.js';
import { createSimulatedClock, type SimulatedClock } from '../clock.js';
import { createLogger } from '../logger.js';
import { getCallback } from '../platform/callbacks.js';
import { getContact } from '../platform/contacts.js';
import { createPlatform } from '../platform/platform.js';
import { type Server, startServer } from '../serve.js';
import type { Store } from '../storage/store.js';

/**
 * The server's scheduler in process, on a simulated clock: moving the clock fires the scheduler's
 * timers, and `idle()` says when it has done what is due. Nothing waits on the wall clock, so
 * lateness is exact. (The real-time lateness is measured by bench/scheduler.mjs.)
 */

const CLI = { channel: 'cli' } as const;
const SKILL = 2001;
const ANA = 1001;
const START = Date.parse(NOW);
const iso = (ms: number) => new Date(ms).toISOString();

/** The base world with ana Available and, optionally, a script on the callbacks skill. */
function world(options: { script?: string; anaAvailable?: boolean; callbacks?: unknown[] } = {}) {
  const base = withAgents(
    baseWorld(),
    options.anaAvailable === false ? {} : { [ANA]: { state: 'Available' } },
  );
  return {
    ...base,
    skills: base.skills.map((s) => (s.id === SKILL && options.script ? { ...s, script: options.script } : s)),
    ...(options.callbacks ? { callbacks: options.callbacks } : {}),
  };
}

function callback(dueAt: number, extra: Record<string, unknown> = {}) {
  return {
    firstName: 'Erika',
    lastName: 'Mustermann',
    phoneNumber: '+4930901820',
    skillId: SKILL,
    scheduleDate: iso(dueAt),
    ...extra,
  };
}

/**
 * A skill script: BEGIN → ASSIGN → `middle` …; ONSIGNAL → END; ONRELEASE → COMMITMENT (a callback
 * tomorrow whose notes say `released <ContactID>`: evidence that the handler ran) → END.
 */
function skillScript(name: string, middle: Array<Record<string, unknown>>) {
  return JSON.stringify({
    name,
    mediaType: 'Phone',
    actions: [
      { id: '1', action: 'BEGIN', branches: { Default: '2' } },
      {
        id: '2',
        action: 'ASSIGN',
        properties: { Variable: 'Greeting', Value: 'hello {FirstName}' },
        branches: { Default: middle[0]?.id ?? '9' },
      },
      ...middle,
      { id: '9', action: 'END' },
      { id: '10', action: 'ONSIGNAL', branches: { Default: '9' } },
      { id: '20', action: 'ONRELEASE', branches: { Default: '21' } },
      {
        id: '21',
        action: 'COMMITMENT',
        properties: {
          PhoneNumber: '{PhoneNumber}',
          Skill: String(SKILL),
          CommitmentDate: iso(START + 86_400_000),
          Notes: 'released {ContactID}',
        },
        branches: { Success: '22', Error: '22', Default: '22' },
      },
      { id: '22', action: 'END' },
    ],
  });
}

describeEachStore('the scheduler (in process, on a simulated clock)', (kind) => {
  let store: Store;
  let clock: SimulatedClock;
  const servers: Server[] = [];

  beforeEach(async () => {
    store = await kind.open();
    clock = createSimulatedClock(START);
  });

  afterEach(async () => {
    for (const s of servers.splice(0)) await s.stop();
    await store.close();
  });

  /** A platform of the test's own on the same store and clock (as another process, or the CLI, would be). */
  const platform = () => createPlatform({ store, clock });

  async function load(w: Record<string, unknown>) {
    const loaded = await platform().loadWorld(w);
    if (!loaded.ok) throw new Error(loaded.message);
  }

  async function serve(): Promise<Server> {
    const server = await startServer({
      store,
      clock,
      log: createLogger('silent'),
      owner: `test-${servers.length}`,
    });
    servers.push(server);
    await server.idle();
    return server;
  }

  /** Moves the clock to `at` (firing the scheduler's timers) and waits until every server has done what is due. */
  /**
   * Moves the clock to `ms` one due timer at a time, the servers doing what each brings before the
   * clock moves on (what a timer wakes runs after `set` returns): lateness stays exact.
   */
  async function at(ms: number) {
    for (let next = clock.nextTimerAt(); next !== null && next <= ms; next = clock.nextTimerAt()) {
      clock.set(next);
      for (const s of servers) await s.idle();
    }
    clock.set(ms);
    for (const s of servers) await s.idle();
  }

  async function deploy(text: string) {
    const deployed = await platform().deployScript(text, actions, CLI);
    if (!deployed.ok) throw new Error(deployed.message);
  }

  async function schedule(server: Server, dueAt: number) {
    const cb = await server.platform.scheduleCallback(callback(dueAt), CLI);
    if (!cb.ok) throw new Error(cb.message);
    await server.idle();
    return cb.value;
  }

  const dispatchedAudit = async (callbackId: number) =>
    store.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'callback.dispatched')
      .where('target_id', '=', String(callbackId))
      .execute();

  const lateMs = async (callbackId: number) => {
    const rows = await dispatchedAudit(callbackId);
    expect(rows).toHaveLength(1);
    return Number((JSON.parse(rows[0]?.details ?? '{}') as { lateMs: number }).lateMs);
  };

  const callbackState = async (id: number) => (await getCallback(store.db, id))?.state;

  const runRow = (contactId: number) =>
    store.db.selectFrom('script_runs').selectAll().where('contact_id', '=', contactId).executeTakeFirst();

  const signalsOf = (contactId: number) =>
    store.db.selectFrom('script_run_signals').selectAll().where('contact_id', '=', contactId).execute();

  /** The contact a dispatched callback became. */
  const contactOf = async (callbackId: number) => {
    const cb = await getCallback(store.db, callbackId);
    if (!cb?.contactId) throw new Error(`callback ${callbackId} has no contact`);
    return cb.contactId;
  };

  const agentState = async (id: number) =>
    (await store.db.selectFrom('agents').select('state').where('id', '=', id).executeTakeFirst())?.state;

  it('dispatches a callback at its due time exactly and routes it to an Available agent', async () => {
    const dueAt = START + 1_000;
    await load(world({ callbacks: [callback(dueAt)] }));
    const [cb] = await platform()
      .snapshot()
      .then((s) => s.callbacks);
    if (!cb) throw new Error('no callback loaded');
    await serve();
    await at(dueAt - 1);
    expect(await callbackState(cb.id)).toBe('Scheduled');
    await at(dueAt);
    expect(await callbackState(cb.id)).toBe('Delivered');
    expect(await lateMs(cb.id)).toBe(0);
    const contact = await getContact(store.db, await contactOf(cb.id));
    expect(contact).toMatchObject({
      state: 'Active',
      direction: 'Outbound',
      mediaType: 'Phone',
      agentId: ANA,
      callbackId: cb.id,
      phoneNumber: '+4930901820',
    });
    expect(await agentState(ANA)).toBe('Outbound');
  });

  it('wakes for a callback scheduled earlier than the one it sleeps for', async () => {
    await load(world());
    const server = await serve();
    const later = await schedule(server, START + 30_000);
    // The scheduler sleeps until the later one; the sooner one must bring its timer forward.
    const sooner = await schedule(server, START + 300);
    await at(START + 300);
    expect(await callbackState(sooner.id)).toBe('Delivered');
    expect(await lateMs(sooner.id)).toBe(0);
    expect(await callbackState(later.id)).toBe('Scheduled');
  });

  it("runs the skill's script for the delivered contact; a signal resumes it at ONSIGNAL and END ends it", async () => {
    await load(world({ script: 'outbound' }));
    await deploy(skillScript('outbound', [{ id: '3', action: 'STOP' }]));
    const server = await serve();
    const cb = await schedule(server, START + 200);
    await at(START + 200);
    expect(await callbackState(cb.id)).toBe('Delivered');
    const contactId = await contactOf(cb.id);
    expect(await runRow(contactId)).toMatchObject({
      script_name: 'outbound',
      status: 'stopped',
      released: 0,
      owner: null,
    });
    expect(await signalsOf(contactId)).toEqual([]);
    expect((await getContact(store.db, contactId))?.state).toBe('Active');

    const signaled = await server.platform.signalContact(contactId, ['go'], CLI);
    expect(signaled.ok).toBe(true);
    await server.idle();
    expect(await runRow(contactId)).toBeUndefined();
    expect(await signalsOf(contactId)).toEqual([]);
    expect(await getContact(store.db, contactId)).toMatchObject({
      state: 'Ended',
      disconnectReason: 'ScriptEnded',
    });
    expect(await callbackState(cb.id)).toBe('Completed');
    expect(await agentState(ANA)).toBe('Available');
    // END released the contact, so ONRELEASE ran too.
    const evidence = await store.db
      .selectFrom('scheduled_callbacks')
      .select('state')
      .where('notes', '=', `released ${contactId}`)
      .execute();
    expect(evidence).toEqual([{ state: 'Scheduled' }]);
  });

  it('parks a run at WAIT and resumes it when the seconds are over, not before', async () => {
    await load(world({ script: 'waiter' }));
    await deploy(
      skillScript('waiter', [
        { id: '3', action: 'WAIT', properties: { Seconds: '1' }, branches: { Default: '9' } },
      ]),
    );
    const server = await serve();
    const dueAt = START + 200;
    const cb = await schedule(server, dueAt);
    await at(dueAt);
    const contactId = await contactOf(cb.id);
    expect(await runRow(contactId)).toMatchObject({ status: 'waiting', resume_at: dueAt + 1_000 });
    await at(dueAt + 999);
    expect((await runRow(contactId))?.status).toBe('waiting');
    expect((await getContact(store.db, contactId))?.state).toBe('Active');

    await at(dueAt + 1_000);
    expect(await runRow(contactId)).toBeUndefined();
    expect(await getContact(store.db, contactId)).toMatchObject({
      state: 'Ended',
      disconnectReason: 'ScriptEnded',
      endedAt: iso(dueAt + 1_000),
    });
    expect(await callbackState(cb.id)).toBe('Completed');
  });

  it('keeps a signal to a run parked at WAIT for when it stops, without claiming the run meanwhile', async () => {
    await load(world({ script: 'waits-then-stops' }));
    await deploy(
      skillScript('waits-then-stops', [
        { id: '3', action: 'WAIT', properties: { Seconds: '60' }, branches: { Default: '4' } },
        { id: '4', action: 'STOP' },
      ]),
    );
    const server = await serve();
    const cb = await schedule(server, START + 200);
    await at(START + 200);
    const contactId = await contactOf(cb.id);
    const parked = await runRow(contactId);
    expect((await server.platform.signalContact(contactId, ['early'], CLI)).ok).toBe(true);
    await server.idle();
    // Not claimed while it waits: the row is as it was parked, the signal waits beside it.
    expect(await runRow(contactId)).toEqual(parked);
    expect((await signalsOf(contactId)).map((s) => JSON.parse(s.params))).toEqual([['early']]);

    // The WAIT ends, the run parks at STOP, and the waiting signal resumes it at ONSIGNAL → END.
    await at(START + 200 + 60_000);
    expect(await runRow(contactId)).toBeUndefined();
    expect(await getContact(store.db, contactId)).toMatchObject({
      state: 'Ended',
      disconnectReason: 'ScriptEnded',
    });
  });

  it('runs ONRELEASE when a contact whose script is parked at WAIT is ended', async () => {
    await load(world({ script: 'long-wait' }));
    await deploy(
      skillScript('long-wait', [
        { id: '3', action: 'WAIT', properties: { Seconds: '600' }, branches: { Default: '9' } },
      ]),
    );
    const server = await serve();
    const cb = await schedule(server, START + 200);
    await at(START + 200);
    const contactId = await contactOf(cb.id);
    expect((await runRow(contactId))?.status).toBe('waiting');

    const ended = await server.platform.endContact(contactId, 'EndedByOperator', CLI);
    expect(ended.ok).toBe(true);
    await server.idle();
    expect(await runRow(contactId)).toBeUndefined();
    expect(await getContact(store.db, contactId)).toMatchObject({
      state: 'Ended',
      disconnectReason: 'EndedByOperator',
    });
    const evidence = await store.db
      .selectFrom('scheduled_callbacks')
      .select(['state', 'skill_id'])
      .where('notes', '=', `released ${contactId}`)
      .execute();
    expect(evidence).toEqual([{ state: 'Scheduled', skill_id: SKILL }]);
    const scheduledByScript = await store.db
      .selectFrom('audit_log')
      .select('channel')
      .where('action', '=', 'callback.scheduled')
      .where('channel', '=', 'script')
      .execute();
    expect(scheduledByScript).toHaveLength(1);
  });

  it('never both cancels and dispatches a callback when a cancel races the dispatch', async () => {
    // Nobody available: dispatched callbacks stay Queued, each with its contact.
    await load(world({ anaAvailable: false }));
    const server = await serve();
    const count = 60;
    const dueAt = START + 2_000;
    const ids: number[] = [];
    for (let i = 0; i < count; i++) ids.push((await schedule(server, dueAt)).id);
    // From another platform on the same store: a third before the due time, a third racing the
    // dispatch, a third after it.
    const canceler = platform();
    const cancel = (id: number) => canceler.cancelCallback(id, CLI).then((result) => ({ id, result }));
    const before = await Promise.all(ids.slice(0, 20).map(cancel));
    const racing = ids.slice(20, 40).map(cancel);
    clock.set(dueAt);
    const during = await Promise.all(racing);
    await server.idle();
    const after = await Promise.all(ids.slice(40).map(cancel));
    let canceled = 0;
    for (const { id, result } of [...before, ...during, ...after]) {
      const cb = await getCallback(store.db, id);
      const contacts = await store.db
        .selectFrom('contacts')
        .select('id')
        .where('callback_id', '=', id)
        .execute();
      if (result.ok) {
        canceled++;
        expect(cb?.state).toBe('Canceled');
        expect(contacts).toEqual([]);
        expect(cb?.contactId).toBeNull();
      } else {
        expect(result.code).toBe('CallbackNotScheduled');
        expect(cb?.state).toBe('Queued');
        expect(contacts).toHaveLength(1);
        expect(cb?.contactId).toBe(Number(contacts[0]?.id));
        expect(await dispatchedAudit(id)).toHaveLength(1);
      }
    }
    expect(before.every((c) => c.result.ok)).toBe(true);
    expect(after.every((c) => !c.result.ok)).toBe(true);
    expect(canceled).toBeGreaterThanOrEqual(20);
    expect(canceled).toBeLessThanOrEqual(40);
  });

  it('stops while sleeping without waiting for its timer, and a second server on the same store takes over', async () => {
    await load(world());
    const first = await serve();
    const later = await schedule(first, START + 20_000);
    // Asleep until the 20 s callback: stop resolves with the clock standing still.
    await first.stop();
    servers.splice(servers.indexOf(first), 1);

    const soon = await platform().scheduleCallback(callback(START + 300), CLI);
    if (!soon.ok) throw new Error(soon.message);
    await at(START + 300);
    // The first server is gone: nobody dispatched it.
    expect(await callbackState(soon.value.id)).toBe('Scheduled');

    await serve();
    expect(await callbackState(soon.value.id)).toBe('Delivered');
    expect(await dispatchedAudit(soon.value.id)).toHaveLength(1);
    expect(
      await store.db.selectFrom('contacts').select('id').where('callback_id', '=', soon.value.id).execute(),
    ).toHaveLength(1);
    expect(await callbackState(later.id)).toBe('Scheduled');
  });
});
