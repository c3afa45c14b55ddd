import type { KyselyPlugin } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { type OpenWorld, openWorld, withAgents } from '../../test/support/platform.js';
import { baseWorld, chain, runActions } from '../../test/support/simulate.js';
import { describeEachStore } from '../../test/support/stores.js';
import { createSimulatedClock } from '../clock.js';
import { openSqliteStore } from '../storage/sqlite/open-sqlite.js';
import type { OperationContext } from './model.js';
import { createPlatform } from './platform.js';
import { routeQueuedContacts } from './routing.js';

const API: OperationContext = { channel: 'api' };

let open: OpenWorld | undefined;
afterEach(async () => {
  await open?.close();
  open = undefined;
});

/** Opens the base world with some agents' states changed at load. */
async function world(states: Record<number, string> = {}, extra: Record<string, unknown> = {}) {
  const changes = Object.fromEntries(Object.entries(states).map(([id, state]) => [id, { state }]));
  open = await openWorld({ ...withAgents(baseWorld(), changes), ...extra });
  return open;
}

async function schedule(o: OpenWorld, scheduleDate: string, extra: Record<string, unknown> = {}) {
  const made = await o.platform.scheduleCallback(
    { phoneNumber: '+4930123456', skillId: 2001, scheduleDate, ...extra },
    API,
  );
  if (!made.ok) throw new Error(made.message);
  return made.value;
}

async function queueContact(o: OpenWorld, skillId: number, extra: Record<string, unknown> = {}) {
  return o.platform.startContact(
    { mediaType: 'Phone', direction: 'Inbound', state: 'Queued', skillId, ...extra },
    API,
  );
}

async function setState(o: OpenWorld, agentId: number, state: 'Available' | 'Unavailable') {
  const r = await o.platform.setAgentState(agentId, state, API);
  if (!r.ok) throw new Error(r.message);
}

const contactOf = async (o: OpenWorld, id: number) => (await o.snapshot()).contacts.find((c) => c.id === id);
const agentOf = async (o: OpenWorld, id: number) => (await o.snapshot()).agents.find((a) => a.id === id);
const callbackOf = async (o: OpenWorld, id: number) =>
  (await o.snapshot()).callbacks.find((c) => c.id === id);
const auditOf = async (o: OpenWorld, action: string) =>
  (await o.snapshot()).audit.filter((a) => a.action === action);

describe('dispatching a due callback', () => {
  it('dispatches at its due instant exactly, into a Queued outbound Phone contact carrying the callback', async () => {
    const o = await world();
    const cb = await schedule(o, '2026-11-23T09:00:30.250Z', { targetAgentId: '' });
    await o.advanceTo('2026-11-23T09:00:30.249Z');
    expect((await callbackOf(o, cb.id))?.state).toBe('Scheduled');

    await o.advanceTo('2026-11-23T10:00:00Z');
    expect(await auditOf(o, 'callback.dispatched')).toEqual([
      expect.objectContaining({
        at: '2026-11-23T09:00:30.250Z',
        actor: 'scheduler',
        targetId: String(cb.id),
        details: { contactId: 5003, lateMs: 0 },
      }),
    ]);
    expect(await contactOf(o, 5003)).toMatchObject({
      state: 'Queued',
      mediaType: 'Phone',
      direction: 'Outbound',
      skillId: 2001,
      agentId: null,
      phoneNumber: '+4930123456',
      callbackId: cb.id,
      createdAt: '2026-11-23T09:00:30.250Z',
    });
    expect(await callbackOf(o, cb.id)).toMatchObject({ state: 'Queued', contactId: 5003 });
  });

  it('dispatches several callbacks each at its own time, in due order', async () => {
    const o = await world();
    const late = await schedule(o, '2026-11-23T09:30:00Z');
    const early = await schedule(o, '2026-11-23T09:10:00Z');
    await o.advanceTo('2026-11-23T12:00:00Z');
    const dispatched = await auditOf(o, 'callback.dispatched');
    expect(dispatched.map((a) => [a.targetId, a.at, a.details.lateMs])).toEqual([
      [String(early.id), '2026-11-23T09:10:00.000Z', 0],
      [String(late.id), '2026-11-23T09:30:00.000Z', 0],
    ]);
  });

  it('delivers to an Available agent with the skill, who goes Outbound; ending the contact completes it and frees the agent', async () => {
    const o = await world({ 1001: 'Available' });
    const cb = await schedule(o, '2026-11-23T09:00:00Z', { notes: 'VIP' });
    await o.advanceTo('2026-11-23T09:05:00Z');
    expect(await callbackOf(o, cb.id)).toMatchObject({ state: 'Delivered', contactId: 5003 });
    expect(await contactOf(o, 5003)).toMatchObject({ state: 'Active', agentId: 1001, callbackId: cb.id });
    expect(await agentOf(o, 1001)).toMatchObject({
      state: 'Outbound',
      stateSince: '2026-11-23T09:00:00.000Z',
    });
    expect(await auditOf(o, 'contact.routed')).toEqual([
      expect.objectContaining({
        at: '2026-11-23T09:00:00.000Z',
        targetId: '5003',
        details: { agentId: 1001, callbackId: cb.id },
      }),
    ]);

    const ended = await o.platform.endContact(5003, 'AgentHungUp', API);
    expect(ended.ok).toBe(true);
    expect(await callbackOf(o, cb.id)).toMatchObject({ state: 'Completed' });
    expect(await agentOf(o, 1001)).toMatchObject({
      state: 'Available',
      stateSince: '2026-11-23T09:05:00.000Z',
    });
  });

  it('keeps a dispatched callback queued while no agent is free, and delivers it when one becomes Available', async () => {
    const o = await world();
    const cb = await schedule(o, '2026-11-23T09:00:00Z');
    await o.advanceTo('2026-11-23T09:20:00Z');
    expect((await callbackOf(o, cb.id))?.state).toBe('Queued');
    await setState(o, 1002, 'Available');
    expect(await callbackOf(o, cb.id)).toMatchObject({ state: 'Delivered' });
    expect(await agentOf(o, 1002)).toMatchObject({
      state: 'Outbound',
      stateSince: '2026-11-23T09:20:00.000Z',
    });
  });
});

describe('a callback a script schedules, with the simulation run on (--until)', () => {
  it('is dispatched at its due time and delivered; trace and world carry the simulated times', async () => {
    const report = await runActions(
      chain(
        { id: 'su', action: 'SETSECURITYUSER', properties: { Agent: 'ana' }, branches: { Default: 'cb' } },
        {
          id: 'cb',
          action: 'PRMS_CREATE',
          properties: { PhoneNumber: '+4930123456', SkillId: '2001', ScheduleDate: '2026-11-23T10:00' },
          branches: { Success: 'end', Default: 'end' },
        },
      ),
      {
        world: withAgents(baseWorld(), { 1002: { state: 'Available' } }),
        until: Date.parse('2026-11-23T12:00:00Z'),
      },
    );
    const actions = report.trace.filter((t) => t.event === undefined);
    expect(actions.map((t) => t.at)).toEqual(Array(4).fill('2026-11-23T08:00:00.000Z'));
    // What happened, in the trace too (DESIGN §4).
    expect(report.trace.filter((t) => t.event !== undefined)).toEqual([
      // What the script did…
      {
        at: '2026-11-23T08:00:00.000Z',
        event: 'callback.scheduled',
        callbackId: 1,
        scheduledFor: '2026-11-23T09:00:00.000Z',
      },
      {
        at: '2026-11-23T08:00:00.000Z',
        event: 'contact.ended',
        contactId: 5003,
        reason: 'ScriptEnded',
        agentId: null,
      },
      // …and what the clock brought after it.
      {
        at: '2026-11-23T09:00:00.000Z',
        event: 'callback.dispatched',
        callbackId: 1,
        contactId: 5004,
        lateMs: 0,
      },
      {
        at: '2026-11-23T09:00:00.000Z',
        event: 'contact.queued',
        contactId: 5004,
        skillId: 2001,
        targetAgentId: null,
      },
      {
        at: '2026-11-23T09:00:00.000Z',
        event: 'contact.routed',
        contactId: 5004,
        agentId: 1002,
        callbackId: 1,
      },
      {
        at: '2026-11-23T09:00:00.000Z',
        event: 'agent.state_changed',
        agentId: 1002,
        from: 'Available',
        to: 'Outbound',
      },
      {
        at: '2026-11-23T09:00:00.000Z',
        event: 'callback.delivered',
        callbackId: 1,
        contactId: 5004,
        agentId: 1002,
      },
    ]);
    // 10:00 wall-clock in ana's Europe/Madrid is 09:00 UTC.
    expect(report.world.callbacks[0]).toMatchObject({
      state: 'Delivered',
      scheduledFor: '2026-11-23T09:00:00.000Z',
      contactId: 5004,
    });
    expect(report.world.contacts.find((c) => c.id === 5004)).toMatchObject({
      state: 'Active',
      direction: 'Outbound',
      agentId: 1002,
      callbackId: 1,
      createdAt: '2026-11-23T09:00:00.000Z',
    });
    expect(report.world.agents.find((a) => a.id === 1002)).toMatchObject({
      state: 'Outbound',
      stateSince: '2026-11-23T09:00:00.000Z',
    });
    expect(report.world.audit.find((a) => a.action === 'callback.dispatched')?.details).toEqual({
      contactId: 5004,
      lateMs: 0,
    });
  });
});

describe('choosing the agent', () => {
  it('gives the contact to the longest-idle Available agent with its skill', async () => {
    const o = await world();
    await o.advanceTo('2026-11-23T08:05:00Z');
    await setState(o, 1002, 'Available');
    await o.advanceTo('2026-11-23T08:10:00Z');
    await setState(o, 1001, 'Available');
    const c = await queueContact(o, 2001);
    expect(await contactOf(o, c.id)).toMatchObject({ state: 'Active', agentId: 1002 });
    expect((await agentOf(o, 1001))?.state).toBe('Available');
  });

  it('breaks a tie in idle time by the lower agent ID', async () => {
    const o = await world({ 1001: 'Available', 1002: 'Available' });
    const c = await queueContact(o, 2001);
    expect(await contactOf(o, c.id)).toMatchObject({ agentId: 1001 });
  });

  it('passes over an Available agent without the skill', async () => {
    const o = await world({ 1001: 'Available' });
    // ana has only 2001; the inbound hotline 2003 waits for ben.
    const c = await queueContact(o, 2003);
    expect(await contactOf(o, c.id)).toMatchObject({ state: 'Queued', agentId: null });
    await setState(o, 1002, 'Available');
    expect(await contactOf(o, c.id)).toMatchObject({ state: 'Active', agentId: 1002 });
  });

  it('passes over an inactive agent, even one marked Available', async () => {
    const o = await world({ 1003: 'Available' });
    const c = await queueContact(o, 2001);
    expect(await contactOf(o, c.id)).toMatchObject({ state: 'Queued', agentId: null });
    expect(await agentOf(o, 1003)).toMatchObject({ state: 'Available', active: false });
  });

  it('serves queued contacts in queue order', async () => {
    const o = await world();
    const first = await queueContact(o, 2003);
    await o.advanceTo('2026-11-23T08:01:00Z');
    const second = await queueContact(o, 2003);
    await o.advanceTo('2026-11-23T08:02:00Z');
    const third = await queueContact(o, 2003);

    await setState(o, 1002, 'Available');
    expect(await contactOf(o, first.id)).toMatchObject({ state: 'Active', agentId: 1002 });
    expect((await contactOf(o, second.id))?.state).toBe('Queued');
    await o.platform.endContact(first.id, 'Done', API);
    expect(await contactOf(o, second.id)).toMatchObject({ state: 'Active', agentId: 1002 });
    expect((await contactOf(o, third.id))?.state).toBe('Queued');
  });

  it('never gives one agent two contacts', async () => {
    const o = await world({ 1001: 'Available' });
    const a = await queueContact(o, 2001);
    const b = await queueContact(o, 2001);
    await o.platform.dispatchDue();
    await o.platform.dispatchDue();
    const contacts = (await o.snapshot()).contacts.filter((c) => c.id === a.id || c.id === b.id);
    expect(contacts.map((c) => [c.id, c.state, c.agentId])).toEqual([
      [a.id, 'Active', 1001],
      [b.id, 'Queued', null],
    ]);
    expect((await agentOf(o, 1001))?.state).toBe('Inbound');
  });

  it('does not offer a second contact to an agent set Available while still on one', async () => {
    const o = await world({ 1001: 'Available' });
    const a = await queueContact(o, 2001);
    expect(await contactOf(o, a.id)).toMatchObject({ state: 'Active', agentId: 1001 });
    await setState(o, 1001, 'Available');
    const b = await queueContact(o, 2001);
    expect(await contactOf(o, b.id)).toMatchObject({ state: 'Queued', agentId: null });
    // Once the first contact ends the agent is free for the next.
    await o.platform.endContact(a.id, 'Done', API);
    expect(await contactOf(o, b.id)).toMatchObject({ state: 'Active', agentId: 1001 });
  });
});

describe('an agent-targeted callback', () => {
  it("waits for its agent, then after the business unit's agentWaitSeconds (120) goes to another agent with the skill", async () => {
    const o = await world({ 1001: 'Available' });
    const cb = await schedule(o, '2026-11-23T09:00:00Z', { targetAgentId: 1002 });
    await o.advanceTo('2026-11-23T09:01:59.999Z');
    expect(await callbackOf(o, cb.id)).toMatchObject({ state: 'Queued', targetAgentId: 1002 });
    expect((await agentOf(o, 1001))?.state).toBe('Available');

    await o.advanceTo('2026-11-23T10:00:00Z');
    expect(await auditOf(o, 'contact.routed')).toEqual([
      expect.objectContaining({
        at: '2026-11-23T09:02:00.000Z',
        details: { agentId: 1001, callbackId: cb.id },
      }),
    ]);
    expect((await callbackOf(o, cb.id))?.state).toBe('Delivered');
    expect((await agentOf(o, 1001))?.state).toBe('Outbound');
    expect((await agentOf(o, 1002))?.state).toBe('Unavailable');
  });

  it('goes to its agent when they become Available before the wait ends', async () => {
    const o = await world({ 1001: 'Available' });
    const cb = await schedule(o, '2026-11-23T09:00:00Z', { targetAgentId: 1002 });
    await o.advanceTo('2026-11-23T09:01:00Z');
    await setState(o, 1002, 'Available');
    expect(await contactOf(o, 5003)).toMatchObject({ state: 'Active', agentId: 1002, callbackId: cb.id });
    expect((await agentOf(o, 1002))?.state).toBe('Outbound');
    await o.advanceTo('2026-11-23T10:00:00Z');
    expect((await agentOf(o, 1001))?.state).toBe('Available');
    expect(await auditOf(o, 'contact.routed')).toHaveLength(1);
  });

  it('uses agentWaitSeconds from the business unit', async () => {
    const w = baseWorld();
    const o = await world(
      { 1001: 'Available' },
      { businessUnit: { ...w.businessUnit, agentWaitSeconds: 30 } },
    );
    await schedule(o, '2026-11-23T09:00:00Z', { targetAgentId: 1002 });
    await o.advanceTo('2026-11-23T10:00:00Z');
    expect((await auditOf(o, 'contact.routed'))[0]?.at).toBe('2026-11-23T09:00:30.000Z');
  });
});

describe('canceling a callback', () => {
  it('cancels a Scheduled callback, which is then never dispatched', async () => {
    const o = await world({ 1001: 'Available' });
    const cb = await schedule(o, '2026-11-23T09:00:00Z');
    const canceled = await o.platform.cancelCallback(cb.id, API);
    expect(canceled).toMatchObject({ ok: true, value: { id: cb.id, state: 'Canceled' } });
    await o.advanceTo('2026-11-24T09:00:00Z');
    expect((await callbackOf(o, cb.id))?.state).toBe('Canceled');
    expect(await auditOf(o, 'callback.dispatched')).toEqual([]);
    expect((await o.snapshot()).contacts.some((c) => c.callbackId === cb.id)).toBe(false);
    expect(await auditOf(o, 'callback.canceled')).toEqual([
      expect.objectContaining({ targetId: String(cb.id), actor: 'anonymous' }),
    ]);
  });

  it('refuses to cancel a callback that has been dispatched (CallbackNotScheduled)', async () => {
    const o = await world();
    const cb = await schedule(o, '2026-11-23T09:00:00Z');
    await o.advanceTo('2026-11-23T09:00:00Z');
    const canceled = await o.platform.cancelCallback(cb.id, API);
    expect(canceled).toEqual({
      ok: false,
      code: 'CallbackNotScheduled',
      message: `callback ${cb.id} is Queued; only a Scheduled callback can change`,
    });
    expect((await callbackOf(o, cb.id))?.state).toBe('Queued');
  });

  it('reports NotFound for an unknown callback', async () => {
    const o = await world();
    expect(await o.platform.cancelCallback(99, API)).toMatchObject({ ok: false, code: 'NotFound' });
  });
});

describe('loading a world', () => {
  async function load(world: unknown) {
    const store = await openSqliteStore(':memory:');
    try {
      return await createPlatform({
        store,
        clock: createSimulatedClock(Date.parse('2026-11-23T08:00:00Z')),
      }).loadWorld(world);
    } finally {
      await store.close();
    }
  }

  const withAgent = (change: Record<string, unknown>) => {
    const w = baseWorld();
    return { ...w, agents: [{ ...w.agents[0], ...change }, ...w.agents.slice(1)] };
  };

  const pastCallback = { phoneNumber: '+4930123456', skillId: 2001, scheduleDate: '2026-11-23T07:00:00Z' };

  it('links a callback to the contact that names it, without the callback saying so too', async () => {
    const o = await world(
      {},
      {
        contacts: [{ id: 5001, mediaType: 'Phone', state: 'Ended', callbackId: 7001 }],
        callbacks: [{ ...pastCallback, id: 7001, state: 'Completed' }],
      },
    );
    expect((await o.snapshot()).callbacks).toMatchObject([{ id: 7001, state: 'Completed', contactId: 5001 }]);
  });

  it.each([
    [
      'an agent with an unknown skill',
      withAgent({ skills: [2001, 9999] }),
      'agent 1001 has unknown skill 9999',
    ],
    [
      'an agent with an unknown security profile',
      withAgent({ securityProfile: 'Boss' }),
      "agent 1001 has unknown security profile 'Boss'",
    ],
    [
      'an agent with a bad time zone',
      withAgent({ timeZone: 'Mars/Olympus' }),
      "agent 1001 time zone 'Mars/Olympus' is not an IANA time zone",
    ],
    [
      'a duplicate agent ID',
      { ...baseWorld(), agents: [...baseWorld().agents, { id: 1001, username: 'dup' }] },
      'agent 1001 is listed twice',
    ],
    [
      'a duplicate username',
      { ...baseWorld(), agents: [...baseWorld().agents, { id: 1009, username: 'ana' }] },
      "username 'ana' is used twice",
    ],
    [
      'a duplicate skill ID',
      {
        ...baseWorld(),
        skills: [
          ...baseWorld().skills,
          { id: 2001, name: 'Again', mediaType: 'Phone', direction: 'Outbound' },
        ],
      },
      'skill 2001 is listed twice',
    ],
    [
      'a duplicate contact ID',
      { ...baseWorld(), contacts: [...baseWorld().contacts, { id: 5001, mediaType: 'Chat' }] },
      'contact 5001 is listed twice',
    ],
    [
      'a bad business unit time zone',
      { ...baseWorld(), businessUnit: { timeZone: 'Europe/Atlantis' } },
      "businessUnit.timeZone 'Europe/Atlantis' is not an IANA time zone",
    ],
    [
      'a contact with an unknown skill',
      { ...baseWorld(), contacts: [{ id: 5001, mediaType: 'Chat', state: 'Queued', skillId: 9999 }] },
      'contact 5001 has unknown skill 9999',
    ],
    [
      'a queued contact naming a callback that is not queued',
      {
        ...baseWorld(),
        contacts: [{ id: 5001, mediaType: 'Phone', state: 'Queued', skillId: 2001, callbackId: 7001 }],
        callbacks: [
          {
            id: 7001,
            state: 'Delivered',
            contactId: 5001,
            phoneNumber: '+4930123456',
            skillId: 2001,
            scheduleDate: '2026-11-23T07:00:00Z',
          },
        ],
      },
      'contact 5001 is Queued, so its callback 7001 must be Queued, not Delivered',
    ],
    [
      'a callback naming a contact that does not name it back',
      {
        ...baseWorld(),
        contacts: [{ id: 5001, mediaType: 'Phone', state: 'Active', agentId: 1001 }],
        callbacks: [{ ...pastCallback, id: 7001, state: 'Delivered', contactId: 5001 }],
      },
      'callbacks[0] has contactId 5001, but contact 5001 does not name it in its callbackId',
    ],
    [
      'a Queued callback no contact holds (it could never move)',
      { ...baseWorld(), callbacks: [{ ...pastCallback, id: 7001, state: 'Queued' }] },
      'callbacks[0] is Queued, so a contact of the world must name it in its callbackId',
    ],
    [
      'two contacts naming one callback',
      {
        ...baseWorld(),
        contacts: [5001, 5002].map((id) => ({ id, mediaType: 'Phone', state: 'Ended', callbackId: 7001 })),
        callbacks: [{ ...pastCallback, id: 7001, state: 'Completed' }],
      },
      'contacts 5001 and 5002 both name callback 7001; a callback has one contact',
    ],
  ])('rejects %s with a one-line message', async (_what, world, message) => {
    const loaded = await load(world);
    expect(loaded).toMatchObject({ ok: false, code: 'InvalidWorld' });
    if (loaded.ok) return;
    expect(loaded.message).toContain(message);
    expect(loaded.message).not.toMatch(/\n/);
  });

  it('takes the business unit’s budgets within their bounds, and refuses one outside them', async () => {
    const budgets = { maxPendingSignals: 2, runCpuMsPerEvent: 50, handleLifetimeSeconds: 600 };
    const store = await openSqliteStore(':memory:');
    try {
      const platform = createPlatform({
        store,
        clock: createSimulatedClock(Date.parse('2026-11-23T08:00:00Z')),
      });
      const world = baseWorld();
      expect(
        await platform.loadWorld({ ...world, businessUnit: { ...world.businessUnit, ...budgets } }),
      ).toEqual({
        ok: true,
        value: undefined,
      });
      expect(await platform.businessUnit()).toMatchObject(budgets);
    } finally {
      await store.close();
    }
    const refused = await load({ ...baseWorld(), businessUnit: { maxPendingSignals: 0 } });
    expect(refused).toMatchObject({ ok: false, code: 'InvalidWorld' });
    if (!refused.ok) expect(refused.message).toContain('/businessUnit/maxPendingSignals');
  });

  it('rejects an unknown permission, naming where it is and what it got', async () => {
    const w = baseWorld();
    w.securityProfiles[0] = { name: 'Supervisor', permissions: ['contacts:end', 'contacts:nuke'] };
    const loaded = await load(w);
    expect(loaded).toMatchObject({ ok: false, code: 'InvalidWorld' });
    if (loaded.ok) return;
    expect(loaded.message).toMatch(/^\/securityProfiles\/0\/permissions\/1: .*\(got "contacts:nuke"\)$/);
  });

  it('rejects a callback the platform would refuse, naming callbacks[i] and the code', async () => {
    const loaded = await load({
      ...baseWorld(),
      callbacks: [{ phoneNumber: '+4930123456', skillId: 2003, scheduleDate: '2026-11-24T09:00:00Z' }],
    });
    expect(loaded).toMatchObject({ ok: false, code: 'InvalidWorld' });
    if (loaded.ok) return;
    expect(loaded.message).toMatch(
      /^callbacks\[0\]: InvalidSkillId: skill 2003 \(Hotline\) is an Inbound Phone skill/,
    );
  });

  it('leaves the store empty when a world is rejected part-way, so a corrected world loads after it', async () => {
    const store = await openSqliteStore(':memory:');
    try {
      const platform = createPlatform({
        store,
        clock: createSimulatedClock(Date.parse('2026-11-23T08:00:00Z')),
      });
      const bad = await platform.loadWorld({
        ...baseWorld(),
        callbacks: [{ phoneNumber: 'letters', skillId: 2001, scheduleDate: '2026-11-24T09:00:00Z' }],
      });
      expect(bad).toMatchObject({ ok: false, code: 'InvalidWorld' });
      expect(await platform.loadWorld(baseWorld())).toEqual({ ok: true, value: undefined });
      expect((await platform.snapshot()).agents.map((a) => a.id)).toEqual([1001, 1002, 1003]);
    } finally {
      await store.close();
    }
  });
});

describeEachStore('routing at scale and under races', (kind) => {
  const NOW_MS = Date.parse('2026-11-23T08:00:00Z');
  const SKILL_TAKEN = 2001;
  const SKILL_NOBODY_HAS = 2002;

  /** `agents` Available on skill 2001, none on 2002. */
  function crowd(agents: number) {
    return {
      ...baseWorld(),
      agents: Array.from({ length: agents }, (_, i) => ({
        id: 3000 + i,
        username: `agent${i}`,
        state: 'Available',
        skills: [SKILL_TAKEN],
      })),
      contacts: [],
    };
  }

  it('reads rows in proportion to the free agents, not to a backlog on a skill nobody has', async () => {
    const store = await kind.open();
    try {
      const clock = createSimulatedClock(NOW_MS);
      const platform = createPlatform({ store, clock });
      const loaded = await platform.loadWorld(crowd(5));
      if (!loaded.ok) throw new Error(loaded.message);
      // A night's email backlog: 5,000 contacts queued on a skill no agent has.
      const backlog = 5_000;
      for (let start = 0; start < backlog; start += 500) {
        const rows = await store.db
          .insertInto('contacts')
          .values(
            Array.from({ length: 500 }, () => ({
              media_type: 'Email',
              direction: 'Inbound',
              state: 'Queued',
              skill_id: SKILL_NOBODY_HAS,
              created_at: NOW_MS,
              updated_at: NOW_MS,
            })),
          )
          .returning('id')
          .execute();
        await store.db
          .insertInto('queue_entries')
          .values(
            rows.map((r) => ({
              contact_id: r.id,
              skill_id: SKILL_NOBODY_HAS,
              target_agent_id: null,
              target_until: null,
              priority: 0,
              queued_at: NOW_MS,
            })),
          )
          .execute();
      }
      // Two calls the free agents can take.
      for (let i = 0; i < 2; i++) {
        await store.db.transaction().execute(async (trx) => {
          const [c] = await trx
            .insertInto('contacts')
            .values({
              media_type: 'Phone',
              direction: 'Inbound',
              state: 'Queued',
              skill_id: SKILL_TAKEN,
              created_at: NOW_MS,
              updated_at: NOW_MS,
            })
            .returning('id')
            .execute();
          await trx
            .insertInto('queue_entries')
            .values({
              contact_id: Number(c?.id),
              skill_id: SKILL_TAKEN,
              target_agent_id: null,
              target_until: null,
              priority: 0,
              queued_at: NOW_MS + i,
            })
            .execute();
        });
      }
      let rowsRead = 0;
      const counter: KyselyPlugin = {
        transformQuery: (args) => args.node,
        transformResult: async (args) => {
          rowsRead += args.result.rows.length;
          return args.result;
        },
      };
      const routed = await store.transaction((trx) =>
        routeQueuedContacts(trx.withPlugin(counter), NOW_MS, { lockRows: kind.name === 'postgres' }),
      );
      expect(routed.map((r) => r.agentId)).toEqual([3000, 3001]);
      // The free agents, their skills, the two contacts and the rows changed: dozens, not thousands.
      expect(rowsRead).toBeLessThan(50);
    } finally {
      await store.close();
    }
  });

  it('never fails, nor gives an agent two contacts, when two processes route at once', async () => {
    const [first, second] = await kind.openPair();
    try {
      const clock = createSimulatedClock(NOW_MS);
      // No lockRows given: a platform locks rows on PostgreSQL by default, as the CLI's does.
      const a = createPlatform({ store: first, clock });
      const b = createPlatform({ store: second, clock });
      const loaded = await a.loadWorld(crowd(10));
      if (!loaded.ok) throw new Error(loaded.message);
      const contacts = 40;
      const started = await Promise.allSettled(
        Array.from({ length: contacts }, (_, i) =>
          (i % 2 === 0 ? a : b).startContact(
            { mediaType: 'Phone', direction: 'Inbound', state: 'Queued', skillId: SKILL_TAKEN },
            API,
          ),
        ),
      );
      expect(started.filter((s) => s.status === 'rejected')).toEqual([]);
      // What a race passed over (routing.contended), the scheduler routes on its next look.
      await a.dispatchDue();
      const active = await first.db
        .selectFrom('contacts')
        .select(['id', 'agent_id'])
        .where('state', '=', 'Active')
        .where('skill_id', '=', SKILL_TAKEN)
        .execute();
      expect(active).toHaveLength(10);
      expect(new Set(active.map((c) => c.agent_id)).size).toBe(10);
      const busy = await first.db.selectFrom('agents').select('state').where('id', '>=', 3000).execute();
      expect(busy.every((agent) => agent.state === 'Inbound')).toBe(true);
      const queued = await first.db.selectFrom('queue_entries').select('contact_id').execute();
      expect(queued).toHaveLength(contacts - 10);
    } finally {
      await first.close();
    }
  });
});
