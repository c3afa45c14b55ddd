import { afterEach, beforeEach, expect, it } from 'vitest';
import { withAgents } from '../../test/support/platform.js';
import { waitFor } from '../../test/support/server-process.js';
import { baseWorld } from '../../test/support/simulate.js';
import { describeEachStore } from '../../test/support/stores.js';
import { actions } from '../actions/registry.js';
import { systemClock } from '../clock.js';
import { createLogger } from '../logger.js';
import { getCallback } from '../platform/callbacks.js';
import { getContact } from '../platform/contacts.js';
import { createPlatform } from '../platform/platform.js';
import { type Server, startServer } from '../serve.js';
import type { Store } from '../storage/store.js';

const CLI = { channel: 'cli' } as const;
const SKILL = 2001;
const ANA = 1001;
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
  const tomorrow = iso(Date.now() + 86_400_000);
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
          CommitmentDate: tomorrow,
          Notes: 'released {ContactID}',
        },
        branches: { Success: '22', Error: '22', Default: '22' },
      },
      { id: '22', action: 'END' },
    ],
  });
}

describeEachStore('the scheduler (in process)', (kind) => {
  let store: Store;
  const servers: Server[] = [];

  beforeEach(async () => {
    store = await kind.open();
  });

  afterEach(async () => {
    for (const s of servers.splice(0)) await s.stop();
    await store.close();
  });

  async function load(w: Record<string, unknown>) {
    const loaded = await createPlatform({ store, clock: systemClock }).loadWorld(w);
    if (!loaded.ok) throw new Error(loaded.message);
  }

  async function serve(): Promise<Server> {
    const server = await startServer({ store, log: createLogger('silent'), owner: `test-${servers.length}` });
    servers.push(server);
    return server;
  }

  async function deploy(text: string) {
    const deployed = await createPlatform({ store, clock: systemClock }).deployScript(text, actions, CLI);
    if (!deployed.ok) throw new Error(deployed.message);
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

  /** The contact a dispatched callback became. */
  const contactOf = async (callbackId: number) => {
    const cb = await getCallback(store.db, callbackId);
    if (!cb?.contactId) throw new Error(`callback ${callbackId} has no contact`);
    return cb.contactId;
  };

  it('dispatches a callback at its due time and routes it to an Available agent', async () => {
    const dueAt = Date.now() + 1_000;
    await load(world({ callbacks: [callback(dueAt)] }));
    const [cb] = await createPlatform({ store, clock: systemClock })
      .snapshot()
      .then((s) => s.callbacks);
    if (!cb) throw new Error('no callback loaded');
    await serve();
    expect(Date.now(), 'the server started after the due time: the test proves nothing').toBeLessThan(dueAt);
    await waitFor('the callback delivered', async () => (await callbackState(cb.id)) === 'Delivered', {
      timeoutMs: 5_000,
    });
    // Dispatched when due, not when a poll came round: a correctness bound, not a benchmark.
    expect(await lateMs(cb.id)).toBeLessThan(250);
    const contact = await getContact(store.db, await contactOf(cb.id));
    expect(contact).toMatchObject({
      state: 'Active',
      direction: 'Outbound',
      mediaType: 'Phone',
      agentId: ANA,
      callbackId: cb.id,
      phoneNumber: '+4930901820',
    });
    const ana = await store.db.selectFrom('agents').select('state').where('id', '=', ANA).executeTakeFirst();
    expect(ana?.state).toBe('Outbound');
  });

  it('wakes for a callback scheduled earlier than the one it sleeps for', async () => {
    await load(world());
    const server = await serve();
    const later = await server.platform.scheduleCallback(callback(Date.now() + 30_000), CLI);
    if (!later.ok) throw new Error(later.message);
    // Let the scheduler settle into its 30 s sleep.
    await new Promise((r) => setTimeout(r, 150));
    const sooner = await server.platform.scheduleCallback(callback(Date.now() + 300), CLI);
    if (!sooner.ok) throw new Error(sooner.message);
    await waitFor(
      'the earlier callback dispatched',
      async () => (await callbackState(sooner.value.id)) !== 'Scheduled',
      {
        timeoutMs: 5_000,
      },
    );
    expect(await lateMs(sooner.value.id)).toBeLessThan(250);
    expect(await callbackState(later.value.id)).toBe('Scheduled');
  });

  it("runs the skill's script for the delivered contact; a signal resumes it at ONSIGNAL and END ends it", async () => {
    await load(world({ script: 'outbound' }));
    await deploy(skillScript('outbound', [{ id: '3', action: 'STOP' }]));
    const server = await serve();
    const cb = await server.platform.scheduleCallback(callback(Date.now() + 200), CLI);
    if (!cb.ok) throw new Error(cb.message);
    const contactId = await waitFor('the callback delivered', async () =>
      (await callbackState(cb.value.id)) === 'Delivered' ? contactOf(cb.value.id) : undefined,
    );
    const parked = await waitFor('the script parked at STOP', async () => {
      const row = await runRow(contactId);
      return row?.status === 'stopped' ? row : undefined;
    });
    expect(parked).toMatchObject({ script_name: 'outbound', signals: '[]', released: 0, owner: null });
    expect((await getContact(store.db, contactId))?.state).toBe('Active');

    const signaled = await server.platform.signalContact(contactId, ['go'], CLI);
    expect(signaled.ok).toBe(true);
    await waitFor('the run finished', async () => (await runRow(contactId)) === undefined, {
      timeoutMs: 5_000,
    });
    expect(await getContact(store.db, contactId)).toMatchObject({
      state: 'Ended',
      disconnectReason: 'ScriptEnded',
    });
    expect(await callbackState(cb.value.id)).toBe('Completed');
    const ana = await store.db.selectFrom('agents').select('state').where('id', '=', ANA).executeTakeFirst();
    expect(ana?.state).toBe('Available');
    // END released the contact, so ONRELEASE ran too.
    const evidence = await store.db
      .selectFrom('scheduled_callbacks')
      .select('state')
      .where('notes', '=', `released ${contactId}`)
      .execute();
    expect(evidence).toEqual([{ state: 'Scheduled' }]);
  });

  it('parks a run at WAIT and resumes it after the seconds', async () => {
    await load(world({ script: 'waiter' }));
    await deploy(
      skillScript('waiter', [
        { id: '3', action: 'WAIT', properties: { Seconds: '1' }, branches: { Default: '9' } },
      ]),
    );
    const server = await serve();
    const before = Date.now();
    const cb = await server.platform.scheduleCallback(callback(Date.now() + 200), CLI);
    if (!cb.ok) throw new Error(cb.message);
    const contactId = await waitFor('the callback delivered', async () =>
      (await callbackState(cb.value.id)) === 'Delivered' ? contactOf(cb.value.id) : undefined,
    );
    const waiting = await waitFor('the run waiting', async () => {
      const row = await runRow(contactId);
      return row?.status === 'waiting' ? row : undefined;
    });
    const seenAt = Date.now();
    // The WAIT began after the callback was due and before the run was seen parked.
    expect(Number(waiting.resume_at)).toBeGreaterThanOrEqual(before + 200 + 1_000);
    expect(Number(waiting.resume_at)).toBeLessThanOrEqual(seenAt + 1_000);
    expect((await getContact(store.db, contactId))?.state).toBe('Active');

    await waitFor('the run resumed and ended', async () => (await runRow(contactId)) === undefined, {
      timeoutMs: 5_000,
    });
    const ended = await getContact(store.db, contactId);
    expect(ended).toMatchObject({ state: 'Ended', disconnectReason: 'ScriptEnded' });
    // Not before the WAIT was over.
    expect(Date.parse(ended?.endedAt ?? '')).toBeGreaterThanOrEqual(Number(waiting.resume_at));
    expect(await callbackState(cb.value.id)).toBe('Completed');
  });

  it('runs ONRELEASE when a contact whose script is parked at WAIT is ended', async () => {
    await load(world({ script: 'long-wait' }));
    await deploy(
      skillScript('long-wait', [
        { id: '3', action: 'WAIT', properties: { Seconds: '600' }, branches: { Default: '9' } },
      ]),
    );
    const server = await serve();
    const cb = await server.platform.scheduleCallback(callback(Date.now() + 200), CLI);
    if (!cb.ok) throw new Error(cb.message);
    const contactId = await waitFor('the callback delivered', async () =>
      (await callbackState(cb.value.id)) === 'Delivered' ? contactOf(cb.value.id) : undefined,
    );
    await waitFor('the run waiting', async () => (await runRow(contactId))?.status === 'waiting');

    const ended = await server.platform.endContact(contactId, 'EndedByOperator', CLI);
    expect(ended.ok).toBe(true);
    await waitFor('the released run finished', async () => (await runRow(contactId)) === undefined, {
      timeoutMs: 5_000,
    });
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
    // Time enough to schedule them all first (a transaction each; slower on PostgreSQL).
    const dueAt = Date.now() + 2_000;
    const ids: number[] = [];
    for (let i = 0; i < count; i++) {
      const cb = await server.platform.scheduleCallback(callback(dueAt + (i % 5) * 10), CLI);
      if (!cb.ok) throw new Error(cb.message);
      ids.push(cb.value.id);
    }
    expect(dueAt - Date.now(), 'scheduling took too long for the race to be set up').toBeGreaterThan(200);
    // Cancel them all from another platform on the same store, spread around the due time.
    const canceler = createPlatform({ store, clock: systemClock });
    const wait = dueAt - 150 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const results = await Promise.all(
      ids.map(async (id, i) => {
        // From 150 ms before the due time to 250 ms after it, in an order unlike the ids'.
        await new Promise((r) => setTimeout(r, ((i * 37) % count) * (400 / count)));
        return { id, result: await canceler.cancelCallback(id, CLI) };
      }),
    );
    await waitFor(
      'no callback left Scheduled',
      async () =>
        (await store.db
          .selectFrom('scheduled_callbacks')
          .select('id')
          .where('state', '=', 'Scheduled')
          .executeTakeFirst()) === undefined,
      { timeoutMs: 5_000 },
    );
    let canceled = 0;
    for (const { id, result } of results) {
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
    // The window straddles the dispatch, so both outcomes occur; never both for one callback.
    expect(canceled).toBeGreaterThan(0);
    expect(canceled).toBeLessThan(count);
  });

  it('stops promptly while sleeping, and a second server on the same store takes over', async () => {
    await load(world());
    const first = await serve();
    const later = await first.platform.scheduleCallback(callback(Date.now() + 20_000), CLI);
    if (!later.ok) throw new Error(later.message);
    await new Promise((r) => setTimeout(r, 100));
    const stopping = Date.now();
    await first.stop();
    servers.splice(servers.indexOf(first), 1);
    // It was asleep until the 20 s callback: stop does not wait for it.
    expect(Date.now() - stopping).toBeLessThan(2_000);

    const soon = await createPlatform({ store, clock: systemClock }).scheduleCallback(
      callback(Date.now() + 300),
      CLI,
    );
    if (!soon.ok) throw new Error(soon.message);
    await new Promise((r) => setTimeout(r, 500));
    // The first server is gone: nobody dispatched it.
    expect(await callbackState(soon.value.id)).toBe('Scheduled');

    await serve();
    await waitFor(
      'the second server dispatched it',
      async () => (await callbackState(soon.value.id)) === 'Delivered',
      {
        timeoutMs: 5_000,
      },
    );
    expect(await dispatchedAudit(soon.value.id)).toHaveLength(1);
    expect(
      await store.db.selectFrom('contacts').select('id').where('callback_id', '=', soon.value.id).execute(),
    ).toHaveLength(1);
    expect(await callbackState(later.value.id)).toBe('Scheduled');
  });
});
