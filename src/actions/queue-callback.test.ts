import { describe, expect, it } from 'vitest';
import { withAgents } from '../../test/support/platform.js';
import { baseWorld, branches, chain, runActions } from '../../test/support/simulate.js';
import type { ScriptAction } from '../script/types.js';
import type { SimulationReport } from '../simulator/simulate.js';

const WIRED = { Success: 'end', Error: 'end', Default: 'end' };

const queue = (
  properties: Record<string, string> = {},
  id = 'q',
  wired: Record<string, string> = WIRED,
): ScriptAction => ({
  id,
  action: 'QUEUECALLBACK',
  properties: { Skill: '2001', ...properties },
  branches: wired,
});

/** What the action itself decided: its own result, whether wired or followed through Default. */
const resultOf = (report: SimulationReport, id = 'q') => {
  const step = report.trace.find((t) => t.id === id);
  return step?.outcome ?? step?.branch;
};
const contact = (report: SimulationReport, id: number) => report.world.contacts.find((c) => c.id === id);
const agent = (report: SimulationReport, id: number) => report.world.agents.find((a) => a.id === id);

const worldWithAnaAvailable = () => withAgents(baseWorld(), { 1001: { state: 'Available' } });

describe('QUEUECALLBACK', () => {
  it('takes Success and queues a live outbound Phone contact now, to the caller ({ANI}) by default', async () => {
    const report = await runActions(chain(queue({ CallerID: '+4989000000' })), {
      mediaType: 'Phone',
      variables: { ANI: '+49301234567' },
    });
    expect(branches(report)).toEqual(['begin:Default', 'q:Success', 'end']);
    // 5003 is the run's own contact; the queued callback is the next one.
    expect(contact(report, 5004)).toMatchObject({
      state: 'Queued',
      mediaType: 'Phone',
      direction: 'Outbound',
      skillId: 2001,
      agentId: null,
      targetAgentId: null,
      phoneNumber: '+49301234567',
      ani: '+4989000000',
      callbackId: null,
      createdAt: '2026-11-23T08:00:00.000Z',
    });
    // No scheduled callback: the contact is live now.
    expect(report.world.callbacks).toEqual([]);
  });

  it('the calling script goes on, and its own contact ends as usual', async () => {
    const report = await runActions(chain(queue({ PhoneNumber: '+49301234567' })), { mediaType: 'Phone' });
    expect(report.outcome).toBe('ended');
    expect(contact(report, report.contactId)).toMatchObject({
      state: 'Ended',
      disconnectReason: 'ScriptEnded',
    });
    expect(contact(report, 5004)?.state).toBe('Queued');
  });

  it('routes at once to an Available agent with the skill, who takes it Inbound (ACD), not Outbound', async () => {
    const report = await runActions(chain(queue({ PhoneNumber: '+49301234567' })), {
      mediaType: 'Phone',
      world: worldWithAnaAvailable(),
    });
    expect(contact(report, 5004)).toMatchObject({ state: 'Active', agentId: 1001 });
    expect(agent(report, 1001)?.state).toBe('Inbound');
    expect(report.world.audit.find((a) => a.action === 'contact.routed')).toMatchObject({
      at: '2026-11-23T08:00:00.000Z',
      targetId: '5004',
      details: { agentId: 1001, callbackId: null },
    });
  });

  it('waits for a target agent who is not available rather than giving the contact to another', async () => {
    const report = await runActions(chain(queue({ PhoneNumber: '+49301234567', TargetAgent: '1002' })), {
      mediaType: 'Phone',
      world: worldWithAnaAvailable(),
    });
    expect(contact(report, 5004)).toMatchObject({ state: 'Queued', targetAgentId: 1002, agentId: null });
    expect(agent(report, 1001)?.state).toBe('Available');
  });

  it("falls back to any agent with the skill when the target agent's wait (agentWaitSeconds) runs out", async () => {
    const report = await runActions(chain(queue({ PhoneNumber: '+49301234567', TargetAgent: '1002' })), {
      mediaType: 'Phone',
      world: worldWithAnaAvailable(),
      until: Date.parse('2026-11-23T09:00:00Z'),
    });
    expect(contact(report, 5004)).toMatchObject({ state: 'Active', agentId: 1001 });
    expect(report.world.audit.find((a) => a.action === 'contact.routed')?.at).toBe(
      '2026-11-23T08:02:00.000Z',
    );
  });

  it('offers the higher Priority first when an agent frees up', async () => {
    // ana is on call 5010; two callbacks queue behind it, the second with Priority 5; then 5010 ends.
    const world = withAgents(baseWorld(), { 1001: { state: 'Inbound' } });
    world.contacts.push({
      id: 5010,
      mediaType: 'Phone',
      state: 'Active',
      skillId: 2003,
      agentId: 1001,
    } as never);
    const report = await runActions(
      chain(
        { id: 'su', action: 'SETSECURITYUSER', properties: { Agent: 'ana' }, branches: { Default: 'low' } },
        queue({ PhoneNumber: '+49301111111' }, 'low', { Success: 'high' }),
        queue({ PhoneNumber: '+49302222222', Priority: '5' }, 'high', { Success: 'kill' }),
        {
          id: 'kill',
          action: 'KILLCONTACT',
          properties: { ContactID: '5010' },
          branches: { Default: 'end' },
        },
      ),
      { mediaType: 'Phone', world },
    );
    expect(branches(report)).toEqual([
      'begin:Default',
      'su:Default',
      'low:Success',
      'high:Success',
      'kill:Default (OnSuccess)',
      'end',
    ]);
    const low = report.world.contacts.find((c) => c.phoneNumber === '+49301111111');
    const high = report.world.contacts.find((c) => c.phoneNumber === '+49302222222');
    expect(high).toMatchObject({ state: 'Active', agentId: 1001 });
    expect(low).toMatchObject({ state: 'Queued', agentId: null });
  });

  it('runs in a Generic script too: the script type is the validator’s concern, not the runtime’s', async () => {
    const report = await runActions(chain(queue({ PhoneNumber: '+49301234567' })), { mediaType: 'Generic' });
    expect(resultOf(report)).toBe('Success');
    expect(contact(report, 5004)?.state).toBe('Queued');
  });

  it('counts as a pending callback for QUERYCALLBACK while it waits', async () => {
    const report = await runActions(
      chain(queue({ PhoneNumber: '+49301234567' }, 'q', { Success: 'query' }), {
        id: 'query',
        action: 'QUERYCALLBACK',
        properties: { PhoneNumber: '030 1234567', Skill: '2001' },
        branches: { Default: 'end' },
      }),
      { mediaType: 'Phone' },
    );
    expect(report.variables.CallbackCount).toBe('1');
  });
});

describe('QUEUECALLBACK Error', () => {
  it.each([
    ['letters for PhoneNumber', { PhoneNumber: 'abc' }, /^InvalidPhoneNumber: /],
    ['no PhoneNumber and no ANI', {}, /^InvalidPhoneNumber: Phone number is empty/],
    ['a non-numeric Skill', { PhoneNumber: '+49301234567', Skill: 'sales' }, /^InvalidSkillId: /],
    ['an unknown Skill', { PhoneNumber: '+49301234567', Skill: '9999' }, /^InvalidSkillId: /],
    [
      'a Chat Skill',
      { PhoneNumber: '+49301234567', Skill: '2002' },
      /^InvalidSkillId: skill 2002 \(Chat support\) is an Inbound Chat skill; QUEUECALLBACK needs a Phone skill$/,
    ],
    ['an inactive Skill', { PhoneNumber: '+49301234567', Skill: '2004' }, /^InvalidSkillId: /],
    [
      'a username as TargetAgent',
      { PhoneNumber: '+49301234567', TargetAgent: 'ana' },
      /^InvalidTargetAgentId: /,
    ],
    [
      'an unknown TargetAgent',
      { PhoneNumber: '+49301234567', TargetAgent: '9999' },
      /^InvalidTargetAgentId: /,
    ],
    [
      'an inactive TargetAgent',
      { PhoneNumber: '+49301234567', TargetAgent: '1003' },
      /^InvalidTargetAgentId: /,
    ],
    [
      'a Priority that is not a number',
      { PhoneNumber: '+49301234567', Priority: 'high' },
      /^InvalidPriority: Priority 'high'/,
    ],
    ['a fractional Priority', { PhoneNumber: '+49301234567', Priority: '1.5' }, /^InvalidPriority: /],
  ] as const)(
    'takes Error for %s, with _ERR naming the problem and no contact queued',
    async (_what, properties, reason) => {
      const report = await runActions(chain(queue(properties)), { mediaType: 'Phone' });
      expect(resultOf(report)).toBe('Error');
      const err = String(report.variables._ERR);
      expect(err).toMatch(reason);
      expect(err).not.toMatch(/\n/);
      expect(report.world.contacts.map((c) => c.id)).toEqual([5001, 5002, 5003]);
    },
  );

  it('takes Default when Error is not wired', async () => {
    const report = await runActions(
      chain(queue({ PhoneNumber: 'abc' }, 'q', { Success: 'end', Default: 'fallback' }), {
        id: 'fallback',
        action: 'ASSIGN',
        properties: { Variable: 'fellBack', Value: 'yes' },
        branches: { Default: 'end' },
      }),
      { mediaType: 'Phone' },
    );
    expect(resultOf(report)).toBe('Error');
    expect(report.variables.fellBack).toBe('yes');
  });
});
