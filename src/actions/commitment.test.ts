import { describe, expect, it } from 'vitest';
import { branches, chain, runActions } from '../../test/support/simulate.js';
import type { ScriptAction } from '../script/types.js';
import type { SimulationReport } from '../simulator/simulate.js';

const GOOD = {
  FirstName: 'Maria',
  LastName: 'Schmidt',
  PhoneNumber: '+4930123456',
  Skill: '2001',
  CommitmentDate: '2026-12-01',
  CommitmentTime: '09:30',
  Timezone: 'America/New_York',
  Notes: 'Wants a quote',
};

const commitment = (
  properties: Record<string, string | undefined> = {},
  wired: Record<string, string> = { Success: 'end', Error: 'end', Default: 'end' },
): ScriptAction => {
  const merged: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...GOOD, ...properties })) if (v !== undefined) merged[k] = v;
  return { id: 'c', action: 'COMMITMENT', properties: merged, branches: wired };
};

/** What the action itself decided: its own result, whether wired or followed through Default. */
const resultOf = (report: SimulationReport) => {
  const step = report.trace.find((t) => t.id === 'c');
  return step?.outcome ?? step?.branch;
};

describe('COMMITMENT schedules a callback from the contact itself', () => {
  it('takes Success with CallbackId, without any security user', async () => {
    const report = await runActions(chain(commitment()));
    expect(branches(report)).toEqual(['begin:Default', 'c:Success', 'end']);
    expect(report.variables.CallbackId).toBe('1');
    expect(report.world.callbacks).toEqual([
      {
        id: 1,
        state: 'Scheduled',
        firstName: 'Maria',
        lastName: 'Schmidt',
        phoneNumber: '+4930123456',
        skillId: 2001,
        targetAgentId: null,
        scheduledFor: '2026-12-01T14:30:00.000Z',
        timeZone: 'America/New_York',
        notes: 'Wants a quote',
        contactId: null,
        createdAt: '2026-11-23T08:00:00.000Z',
      },
    ]);
    expect(report.world.audit.find((a) => a.action === 'callback.scheduled')?.actor).toBe('script via test');
  });

  it('calls back the caller ({ANI}) when PhoneNumber is not given', async () => {
    const report = await runActions(chain(commitment({ PhoneNumber: undefined })), {
      variables: { ANI: '+49301234567' },
    });
    expect(resultOf(report)).toBe('Success');
    expect(report.world.callbacks[0]?.phoneNumber).toBe('+49301234567');
  });

  it('reads a national ANI with the business unit country', async () => {
    const report = await runActions(chain(commitment({ PhoneNumber: undefined })), {
      variables: { ANI: '030 1234567' },
    });
    expect(report.world.callbacks[0]?.phoneNumber).toBe('+49301234567');
  });

  it("reads CommitmentDate and CommitmentTime in the business unit's zone when Timezone is empty", async () => {
    const report = await runActions(chain(commitment({ Timezone: '' })));
    expect(report.world.callbacks[0]).toMatchObject({
      scheduledFor: '2026-12-01T08:30:00.000Z',
      timeZone: 'Europe/Berlin',
    });
  });

  it('accepts MM/DD/YYYY with h:mm AM/PM', async () => {
    const report = await runActions(
      chain(commitment({ CommitmentDate: '12/01/2026', CommitmentTime: '2:30 PM' })),
    );
    expect(report.world.callbacks[0]?.scheduledFor).toBe('2026-12-01T19:30:00.000Z');
  });

  it('accepts a full ISO date-time in CommitmentDate with CommitmentTime empty', async () => {
    const report = await runActions(
      chain(commitment({ CommitmentDate: '2026-12-01T09:30:00Z', CommitmentTime: '' })),
    );
    expect(report.world.callbacks[0]?.scheduledFor).toBe('2026-12-01T09:30:00.000Z');
  });

  it('stores a TargetAgent', async () => {
    const report = await runActions(chain(commitment({ TargetAgent: '1002' })));
    expect(report.world.callbacks[0]?.targetAgentId).toBe(1002);
  });
});

describe('COMMITMENT Error', () => {
  it.each([
    ['a non-numeric Skill', { Skill: 'sales' }, /^InvalidSkillId: SkillId 'sales' is not a skill ID/],
    ['an unknown Skill', { Skill: '9999' }, /^InvalidSkillId: no skill with ID 9999/],
    ['an inbound Skill', { Skill: '2003' }, /^InvalidSkillId: .*Outbound Phone skill/],
    ['an inactive Skill', { Skill: '2004' }, /^InvalidSkillId: .*not active/],
    ['a username as TargetAgent', { TargetAgent: 'ben' }, /^InvalidTargetAgentId: .*not a username/],
    ['an inactive TargetAgent', { TargetAgent: '1003' }, /^InvalidTargetAgentId: agent 1003 is not active/],
    ['an empty CommitmentDate', { CommitmentDate: '' }, /^InvalidScheduleDate: CommitmentDate is empty/],
    [
      'a CommitmentDate that is no date',
      { CommitmentDate: 'soon' },
      /^InvalidScheduleDate: CommitmentDate "soon" is not a date/,
    ],
    [
      'a day that does not exist',
      { CommitmentDate: '2026-02-30' },
      /^InvalidScheduleDate: .*is not a real date/,
    ],
    ['an empty CommitmentTime', { CommitmentTime: '' }, /^InvalidScheduleDate: CommitmentTime is empty/],
    [
      'a CommitmentTime out of range',
      { CommitmentTime: '25:00' },
      /^InvalidScheduleDate: CommitmentTime "25:00"/,
    ],
    ['an unknown Timezone', { Timezone: 'Mars/Olympus' }, /^InvalidScheduleDate: .*not an IANA time zone/],
    ['a time in the past', { CommitmentDate: '2026-11-22' }, /^InvalidScheduleDate: .*in the past/],
    [
      'a DST gap',
      { CommitmentDate: '2027-03-28', CommitmentTime: '02:30', Timezone: 'Europe/Berlin' },
      /does not exist/,
    ],
    ['letters for PhoneNumber', { PhoneNumber: 'abc' }, /^InvalidPhoneNumber: /],
    ['no PhoneNumber and no ANI', { PhoneNumber: undefined }, /^InvalidPhoneNumber: Phone number is empty/],
  ] as const)('takes Error for %s, with _ERR naming the problem', async (_what, properties, reason) => {
    const report = await runActions(chain(commitment(properties)));
    expect(resultOf(report)).toBe('Error');
    const err = String(report.variables._ERR);
    expect(err).toMatch(reason);
    expect(err).not.toMatch(/\n/);
    expect(report.variables.CallbackId).toBeUndefined();
    expect(report.world.callbacks).toEqual([]);
  });

  it('takes Default when Error is not wired', async () => {
    const report = await runActions(
      chain(commitment({ Skill: 'x' }, { Success: 'end', Default: 'fallback' }), {
        id: 'fallback',
        action: 'ASSIGN',
        properties: { Variable: 'fellBack', Value: 'yes' },
        branches: { Default: 'end' },
      }),
    );
    expect(resultOf(report)).toBe('Error');
    expect(report.variables.fellBack).toBe('yes');
  });

  it('follows OnSuccess / OnError spellings', async () => {
    const marker = (id: string): ScriptAction => ({
      id,
      action: 'ASSIGN',
      properties: { Variable: 'went', Value: id },
      branches: { Default: 'end' },
    });
    const wired = { OnSuccess: 'ok', OnError: 'bad', Default: 'end' };
    const good = await runActions(chain(commitment({}, wired), marker('ok'), marker('bad')));
    expect(good.variables.went).toBe('ok');
    const bad = await runActions(chain(commitment({ Skill: 'x' }, wired), marker('ok'), marker('bad')));
    expect(bad.variables.went).toBe('bad');
  });
});
