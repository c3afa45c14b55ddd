import { afterEach, describe, expect, it } from 'vitest';
import { type OpenWorld, openWorld } from '../../test/support/platform.js';
import { baseWorld, branches, chain, runActions } from '../../test/support/simulate.js';
import type { ScriptAction } from '../script/types.js';
import type { SimulationReport } from '../simulator/simulate.js';

const WIRED = { OnCallbacksFound: 'end', OnNoCallbacksFound: 'end', Default: 'end' };

const query = (
  properties: Record<string, string> = {},
  wired: Record<string, string> = WIRED,
  id = 'q',
): ScriptAction => ({
  id,
  action: 'QUERYCALLBACK',
  properties: { PhoneNumber: '030 1234567', Skill: '2001', ...properties },
  branches: wired,
});

/** What the action itself decided: its own result, whether wired or followed through Default. */
const resultOf = (report: SimulationReport, id = 'q') => {
  const step = report.trace.find((t) => t.id === id);
  return step?.outcome ?? step?.branch;
};

const SCRIPT = { channel: 'script' } as const;
const callback = (scheduleDate: string, phoneNumber = '+49 30 1234567', skillId = 2001) => ({
  phoneNumber,
  skillId,
  scheduleDate,
});

describe('QUERYCALLBACK', () => {
  let open: OpenWorld | undefined;
  afterEach(async () => {
    await open?.close();
    open = undefined;
  });

  it('takes OnNoCallbacksFound with CallbackCount 0 when none is waiting', async () => {
    const report = await runActions(chain(query()));
    expect(branches(report)).toEqual(['begin:Default', 'q:OnNoCallbacksFound', 'end']);
    expect(report.trace[1]?.set).toEqual({ CallbackCount: '0' });
  });

  it('takes OnCallbacksFound, comparing numbers in E.164 (scheduled as +49 30 1234567, asked as 030 1234567)', async () => {
    const world = { ...baseWorld(), callbacks: [callback('2026-11-24T10:00:00Z')] };
    const report = await runActions(chain(query()), { world });
    expect(resultOf(report)).toBe('OnCallbacksFound');
    expect(report.variables.CallbackCount).toBe('1');
  });

  it('counts only the asked skill and number', async () => {
    const world = {
      ...baseWorld(),
      callbacks: [callback('2026-11-24T10:00:00Z'), callback('2026-11-24T11:00:00Z', '+49 30 7654321')],
    };
    const other = await runActions(chain(query({ Skill: '2004' })), { world });
    expect(other.variables.CallbackCount).toBe('0');
    const same = await runActions(chain(query({ PhoneNumber: '+49301234567' })), { world });
    expect(same.variables.CallbackCount).toBe('1');
  });

  it('looks for the caller ({ANI}) when PhoneNumber is not given', async () => {
    const world = { ...baseWorld(), callbacks: [callback('2026-11-24T10:00:00Z')] };
    const report = await runActions(
      chain({ id: 'q', action: 'QUERYCALLBACK', properties: { Skill: '2001' }, branches: WIRED }),
      { world, variables: { ANI: '+49301234567' } },
    );
    expect(report.variables.CallbackCount).toBe('1');
  });

  it('counts Scheduled and Queued callbacks, not Delivered, Completed or Canceled ones', async () => {
    open = await openWorld();
    const { platform } = open;
    const ids: number[] = [];
    for (const due of ['08:00', '08:00', '08:00', '2026-11-24T09:00', '2026-11-24T09:30']) {
      const when = due.length === 5 ? `2026-11-23T${due}:00Z` : `${due}:00Z`;
      const made = await platform.scheduleCallback(callback(when), SCRIPT);
      if (!made.ok) throw new Error(made.message);
      ids.push(made.value.id);
    }
    await platform.dispatchDue();
    // ana frees up: takes the first (Delivered), ends it (Completed), takes the second (Delivered).
    await platform.setAgentState(1001, 'Available', SCRIPT);
    const first = (await open.snapshot()).callbacks.find((c) => c.id === ids[0]);
    await platform.endContact(Number(first?.contactId), 'Finished', SCRIPT);
    await platform.cancelCallback(Number(ids[4]), SCRIPT);
    const states = (await open.snapshot()).callbacks.map((c) => c.state);
    expect(states).toEqual(['Completed', 'Delivered', 'Queued', 'Scheduled', 'Canceled']);

    const report = await open.runScript(chain(query()));
    expect(resultOf(report)).toBe('OnCallbacksFound');
    expect(report.variables.CallbackCount).toBe('2');
  });

  it('takes Default with _ERR for a phone number that cannot be one', async () => {
    const report = await runActions(chain(query({ PhoneNumber: 'call me' })));
    expect(resultOf(report)).toBe('Default');
    expect(String(report.variables._ERR)).toMatch(/^Phone number "call me" may only hold digits/);
    expect(report.variables.CallbackCount).toBeUndefined();
  });

  it('takes Default with _ERR for a Skill that is not a number', async () => {
    const report = await runActions(chain(query({ Skill: 'sales' })));
    expect(resultOf(report)).toBe('Default');
    expect(report.variables._ERR).toBe("Skill 'sales' is not a skill ID (a positive number)");
  });

  it('guards against duplicates: QUERYCALLBACK → PRMS_CREATE only when none is found', async () => {
    const guarded = chain(
      { id: 'su', action: 'SETSECURITYUSER', properties: { Agent: 'ana' }, branches: { Default: 'q' } },
      query({ PhoneNumber: '{ANI}' }, { OnNoCallbacksFound: 'cb', OnCallbacksFound: 'end', Default: 'end' }),
      {
        id: 'cb',
        action: 'PRMS_CREATE',
        properties: { PhoneNumber: '{ANI}', SkillId: '2001', ScheduleDate: '2026-11-24T10:00:00Z' },
        // Asks again after scheduling: the second time it is found and the script ends.
        branches: { Success: 'q', Default: 'end' },
      },
    );
    const report = await runActions(guarded, { variables: { ANI: '+49 30 1234567' } });
    expect(branches(report)).toEqual([
      'begin:Default',
      'su:Default',
      'q:OnNoCallbacksFound',
      'cb:Success',
      'q:OnCallbacksFound',
      'end',
    ]);
    expect(report.world.callbacks).toHaveLength(1);

    const world = { ...baseWorld(), callbacks: [callback('2026-11-25T10:00:00Z')] };
    const again = await runActions(guarded, { world, variables: { ANI: '030 1234567' } });
    expect(branches(again)).toEqual(['begin:Default', 'su:Default', 'q:OnCallbacksFound', 'end']);
    expect(again.world.callbacks).toHaveLength(1);
  });
});
