import { describe, expect, it } from 'vitest';
import { withAgents } from '../../test/support/platform.js';
import { baseWorld, branches, chain, runActions } from '../../test/support/simulate.js';
import type { ScriptAction } from '../script/types.js';
import type { SimulationReport } from '../simulator/simulate.js';

const ALL_WIRED = {
  Success: 'end',
  InvalidSecurityUser: 'end',
  InvalidSkillId: 'end',
  InvalidTargetAgentId: 'end',
  InvalidScheduleDate: 'end',
  InvalidPhoneNumber: 'end',
  Default: 'end',
};

const GOOD = {
  FirstName: 'Maria',
  LastName: 'Schmidt',
  PhoneNumber: '+4930123456',
  SkillId: '2001',
  TargetAgentId: '',
  ScheduleDate: '2026-11-24T10:00:00Z',
  Notes: 'Asked about invoice 42',
};

const securityUser = (properties: Record<string, string> = {}): ScriptAction => ({
  id: 'su',
  action: 'SETSECURITYUSER',
  properties: { Agent: 'ana', ...properties },
  branches: { Default: 'cb' },
});

const create = (
  properties: Record<string, string> = {},
  wired: Record<string, string> = ALL_WIRED,
  action = 'PRMS_CREATE',
): ScriptAction => ({ id: 'cb', action, properties: { ...GOOD, ...properties }, branches: wired });

/** SETSECURITYUSER ana → PRMS_CREATE with `properties` over a valid request. */
const schedule = (properties: Record<string, string> = {}, options: Parameters<typeof runActions>[1] = {}) =>
  runActions(chain(securityUser(), create(properties)), options);

/** What the action itself decided: its own result, whether wired or followed through Default. */
const resultOf = (report: SimulationReport, id = 'cb') => {
  const step = report.trace.find((t) => t.id === id);
  return step?.outcome ?? step?.branch;
};

describe('PRMS_CREATE schedules a callback', () => {
  it('takes Success, sets CallbackId and stores the callback with its E.164 number, UTC instant and zone', async () => {
    const report = await schedule();
    expect(branches(report)).toEqual(['begin:Default', 'su:Default', 'cb:Success', 'end']);
    expect(report.trace[2]?.set).toEqual({ CallbackId: '1' });
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
        scheduledFor: '2026-11-24T10:00:00.000Z',
        timeZone: 'UTC',
        notes: 'Asked about invoice 42',
        contactId: null,
        createdAt: '2026-11-23T08:00:00.000Z',
      },
    ]);
  });

  it('audits the scheduling with the security user as the actor', async () => {
    const report = await schedule();
    const entry = report.world.audit.find((a) => a.action === 'callback.scheduled');
    expect(entry).toMatchObject({
      actor: 'agent:1001 (ana) via test',
      channel: 'script',
      targetType: 'callback',
      targetId: '1',
      details: {
        phoneNumber: '+4930123456',
        skillId: 2001,
        targetAgentId: null,
        scheduledFor: '2026-11-24T10:00:00.000Z',
      },
    });
  });

  it("accepts the seed's own example number +448675309", async () => {
    const report = await schedule({ PhoneNumber: '+448675309' });
    expect(resultOf(report)).toBe('Success');
    expect(report.world.callbacks[0]?.phoneNumber).toBe('+448675309');
  });

  it('stores the instant and the offset an offset date-time was given in', async () => {
    const report = await schedule({ ScheduleDate: '2026-12-01T09:30:00+01:00' });
    expect(report.world.callbacks[0]).toMatchObject({
      scheduledFor: '2026-12-01T08:30:00.000Z',
      timeZone: '+01:00',
    });
  });

  it('stores a target agent, which takes precedence over the skill', async () => {
    const report = await schedule({ TargetAgentId: '1002' });
    expect(resultOf(report)).toBe('Success');
    expect(report.world.callbacks[0]).toMatchObject({ targetAgentId: 1002, skillId: 2001 });
  });

  it('routes to the skill when TargetAgentId is ""', async () => {
    const report = await schedule({ TargetAgentId: '' });
    expect(report.world.callbacks[0]?.targetAgentId).toBeNull();
  });

  it('takes variables in every property', async () => {
    const report = await runActions(
      chain(
        securityUser(),
        create({ PhoneNumber: '{ANI}', SkillId: '{Skill}', ScheduleDate: '{When}', Notes: 'Order {Order}' }),
      ),
      { variables: { ANI: '+4930123456', Skill: '2001', When: '2026-11-24T10:00:00Z', Order: '42' } },
    );
    expect(resultOf(report)).toBe('Success');
    expect(report.world.callbacks[0]).toMatchObject({ phoneNumber: '+4930123456', notes: 'Order 42' });
  });

  it("reads a national number with the business unit's default country (DE)", async () => {
    const report = await schedule({ PhoneNumber: '030 1234567' });
    expect(resultOf(report)).toBe('Success');
    expect(report.world.callbacks[0]?.phoneNumber).toBe('+49301234567');
  });

  it('accepts a time exactly 60 s in the past and exactly 365 days ahead', async () => {
    const past = await schedule({ ScheduleDate: '2026-11-23T07:59:00Z' });
    expect(resultOf(past)).toBe('Success');
    const horizon = await schedule({ ScheduleDate: '2027-11-23T08:00:00Z' });
    expect(resultOf(horizon)).toBe('Success');
  });

  it('takes the horizon from the business unit (callbackHorizonDays)', async () => {
    const world = { ...baseWorld(), businessUnit: { ...baseWorld().businessUnit, callbackHorizonDays: 30 } };
    const within = await schedule({ ScheduleDate: '2026-12-23T08:00:00Z' }, { world });
    expect(resultOf(within)).toBe('Success');
    const beyond = await schedule({ ScheduleDate: '2026-12-23T08:00:01Z' }, { world });
    expect(resultOf(beyond)).toBe('InvalidScheduleDate');
    expect(beyond.variables._ERR).toMatch(/more than 30 days ahead/);
  });

  it('with strictPhoneNumbers requires a valid number, so the seed example is refused', async () => {
    const world = { ...baseWorld(), businessUnit: { ...baseWorld().businessUnit, strictPhoneNumbers: true } };
    const seed = await schedule({ PhoneNumber: '+448675309' }, { world });
    expect(resultOf(seed)).toBe('InvalidPhoneNumber');
    expect(seed.variables._ERR).toMatch(/\+448675309/);
    const valid = await schedule({ PhoneNumber: '+44 20 7946 0958' }, { world });
    expect(resultOf(valid)).toBe('Success');
    expect(valid.world.callbacks[0]?.phoneNumber).toBe('+442079460958');
  });

  it('accepts the alias SCHEDULECALLBACK, reported as written', async () => {
    const report = await runActions(chain(securityUser(), create({}, ALL_WIRED, 'SCHEDULECALLBACK')));
    expect(report.trace[2]).toMatchObject({ action: 'SCHEDULECALLBACK', branch: 'Success' });
    expect(report.world.callbacks).toHaveLength(1);
  });
});

describe('PRMS_CREATE wall-clock ScheduleDate', () => {
  it("is read in the security user's TimeZone (SETSECURITYUSER TimeZone=America/New_York)", async () => {
    const report = await runActions(
      chain(securityUser({ TimeZone: 'America/New_York' }), create({ ScheduleDate: '2026-12-01T09:00' })),
    );
    expect(resultOf(report)).toBe('Success');
    expect(report.world.callbacks[0]).toMatchObject({
      scheduledFor: '2026-12-01T14:00:00.000Z',
      timeZone: 'America/New_York',
    });
  });

  it("is read in the agent's zone when SETSECURITYUSER gives none (ana: Europe/Madrid)", async () => {
    const report = await schedule({ ScheduleDate: '2026-12-01T09:00' });
    expect(report.world.callbacks[0]).toMatchObject({
      scheduledFor: '2026-12-01T08:00:00.000Z',
      timeZone: 'Europe/Madrid',
    });
  });

  it("is read in the business unit's zone when the agent has none", async () => {
    const world = withAgents(baseWorld(), { 1001: { timeZone: undefined } });
    const changed = { ...world, businessUnit: { ...world.businessUnit, timeZone: 'America/Sao_Paulo' } };
    const report = await schedule({ ScheduleDate: '2026-12-01T09:00' }, { world: changed });
    expect(report.world.callbacks[0]).toMatchObject({
      scheduledFor: '2026-12-01T12:00:00.000Z',
      timeZone: 'America/Sao_Paulo',
    });
  });

  it('takes the earlier instant for a time in a DST overlap (Europe/Berlin, 2027-10-31 02:30)', async () => {
    const report = await runActions(
      chain(securityUser({ TimeZone: 'Europe/Berlin' }), create({ ScheduleDate: '2027-10-31T02:30' })),
    );
    expect(resultOf(report)).toBe('Success');
    expect(report.world.callbacks[0]).toMatchObject({
      scheduledFor: '2027-10-31T00:30:00.000Z',
      timeZone: 'Europe/Berlin',
    });
  });

  it('takes InvalidScheduleDate for a time in a DST gap (Europe/Berlin, 2027-03-28 02:30)', async () => {
    const report = await runActions(
      chain(securityUser({ TimeZone: 'Europe/Berlin' }), create({ ScheduleDate: '2027-03-28T02:30' })),
    );
    expect(resultOf(report)).toBe('InvalidScheduleDate');
    expect(report.variables._ERR).toMatch(/does not exist in Europe\/Berlin/);
    expect(report.world.callbacks).toEqual([]);
  });
});

describe('PRMS_CREATE failure branches', () => {
  it.each([
    ['InvalidSkillId', 'a non-number', { SkillId: 'abc' }, /'abc' is not a skill ID/],
    ['InvalidSkillId', 'an unknown skill', { SkillId: '9999' }, /no skill with ID 9999/],
    [
      'InvalidSkillId',
      'an inactive skill',
      { SkillId: '2004' },
      /skill 2004 \(Old callbacks\) is not active/,
    ],
    [
      'InvalidSkillId',
      'an inbound Phone skill',
      { SkillId: '2003' },
      /Inbound Phone skill; callbacks need an Outbound Phone skill/,
    ],
    ['InvalidSkillId', 'a Chat skill', { SkillId: '2002' }, /Inbound Chat skill/],
    [
      'InvalidTargetAgentId',
      'a username',
      { TargetAgentId: 'ana' },
      /'ana' is not an agent ID.*not a username/,
    ],
    ['InvalidTargetAgentId', 'an unknown agent', { TargetAgentId: '9999' }, /no agent with ID 9999/],
    ['InvalidTargetAgentId', 'an inactive agent', { TargetAgentId: '1003' }, /agent 1003 is not active/],
    [
      'InvalidScheduleDate',
      'text that is not ISO 8601',
      { ScheduleDate: 'next Tuesday' },
      /not an ISO 8601 date-time/,
    ],
    ['InvalidScheduleDate', 'a date with no time', { ScheduleDate: '2026-12-01' }, /has no time of day/],
    [
      'InvalidScheduleDate',
      'a day that does not exist',
      { ScheduleDate: '2026-02-30T10:00' },
      /is not a real date/,
    ],
    [
      'InvalidScheduleDate',
      'more than 60 s in the past',
      { ScheduleDate: '2026-11-23T07:58:59Z' },
      /is in the past/,
    ],
    [
      'InvalidScheduleDate',
      'beyond 365 days',
      { ScheduleDate: '2027-11-23T08:00:01Z' },
      /more than 365 days ahead/,
    ],
    ['InvalidScheduleDate', 'empty', { ScheduleDate: '' }, /ScheduleDate is empty/],
    ['InvalidPhoneNumber', 'letters', { PhoneNumber: 'call me maybe' }, /may only hold digits/],
    ['InvalidPhoneNumber', 'too short', { PhoneNumber: '+4412' }, /is too short/],
    ['InvalidPhoneNumber', 'empty', { PhoneNumber: '' }, /Phone number is empty/],
  ] as const)(
    'takes %s for %s, with a one-line _ERR and nothing stored',
    async (branch, _what, properties, reason) => {
      const report = await schedule(properties);
      expect(resultOf(report)).toBe(branch);
      const err = String(report.variables._ERR);
      expect(err).toMatch(reason);
      expect(err).not.toMatch(/\n/);
      expect(report.variables.CallbackId).toBeUndefined();
      expect(report.world.callbacks).toEqual([]);
    },
  );

  it.each([
    ['SETSECURITYUSER never ran', { variables: {} }],
    ['a value that is not a handle', { variables: { SecurityUser: 'password' } }],
  ])('takes InvalidSecurityUser when %s', async (_what, options) => {
    const report = await runActions(chain(create()), options);
    expect(resultOf(report)).toBe('InvalidSecurityUser');
    expect(String(report.variables._ERR)).toMatch(/security user/);
    expect(report.world.callbacks).toEqual([]);
  });

  it('takes Default with _ERR for a profile without callbacks:write (there is no Unauthorized branch)', async () => {
    const report = await runActions(chain({ ...securityUser({ Agent: 'ben' }) }, create()));
    expect(resultOf(report)).toBe('Default');
    expect(report.variables._ERR).toBe("agent 1002's security profile lacks callbacks:write");
    expect(report.world.callbacks).toEqual([]);
  });

  it('takes Default when the failure branch is not wired', async () => {
    const report = await runActions(
      chain(securityUser(), create({ SkillId: '2003' }, { Success: 'end', Default: 'fallback' }), {
        id: 'fallback',
        action: 'ASSIGN',
        properties: { Variable: 'fellBack', Value: 'yes' },
        branches: { Default: 'end' },
      }),
    );
    expect(resultOf(report)).toBe('InvalidSkillId');
    expect(report.variables.fellBack).toBe('yes');
    expect(String(report.variables._ERR)).toMatch(/Outbound Phone skill/);
  });

  it('follows On-prefixed branch spellings (OnSuccess, OnInvalidSkillId)', async () => {
    const marker = (id: string): ScriptAction => ({
      id,
      action: 'ASSIGN',
      properties: { Variable: 'went', Value: id },
      branches: { Default: 'end' },
    });
    const wired = { OnSuccess: 'ok', OnInvalidSkillId: 'badSkill', Default: 'end' };
    const good = await runActions(chain(securityUser(), create({}, wired), marker('ok'), marker('badSkill')));
    expect(good.variables.went).toBe('ok');
    const bad = await runActions(
      chain(securityUser(), create({ SkillId: '2002' }, wired), marker('ok'), marker('badSkill')),
    );
    expect(bad.variables.went).toBe('badSkill');
  });
});

describe('PRMS_CREATE checks in the DESIGN order', () => {
  const allBad = {
    SkillId: '2002',
    TargetAgentId: 'ana',
    ScheduleDate: '2026-02-30T10:00',
    PhoneNumber: 'letters',
  };

  it('InvalidSecurityUser comes before everything else', async () => {
    const report = await runActions(chain(create(allBad)));
    expect(resultOf(report)).toBe('InvalidSecurityUser');
  });

  it('InvalidSkillId comes before InvalidScheduleDate (bad skill and bad date)', async () => {
    const report = await schedule({ SkillId: 'abc', ScheduleDate: 'not a date' });
    expect(resultOf(report)).toBe('InvalidSkillId');
  });

  it.each([
    [allBad, 'InvalidSkillId'],
    [{ ...allBad, SkillId: '2001' }, 'InvalidTargetAgentId'],
    [{ ...allBad, SkillId: '2001', TargetAgentId: '' }, 'InvalidScheduleDate'],
    [
      { ...allBad, SkillId: '2001', TargetAgentId: '', ScheduleDate: '2026-12-01T09:00Z' },
      'InvalidPhoneNumber',
    ],
  ])('with %j takes %s', async (properties, branch) => {
    const report = await schedule(properties);
    expect(resultOf(report)).toBe(branch);
  });
});
