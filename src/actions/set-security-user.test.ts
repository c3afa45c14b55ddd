import { describe, expect, it } from 'vitest';
import { branches, chain, runActions } from '../../test/support/simulate.js';
import type { ScriptAction } from '../script/types.js';
import type { SimulationReport } from '../simulator/simulate.js';

const securityUser = (
  properties: Record<string, string>,
  wired: Record<string, string> = { Default: 'end', OnError: 'end' },
): ScriptAction => ({ id: 'su', action: 'SETSECURITYUSER', properties, branches: wired });

const kill = (securityUserVar = 'SecurityUser'): ScriptAction => ({
  id: 'kill',
  action: 'KILLCONTACT',
  properties: { SecurityUser: securityUserVar, ContactID: '5001' },
  branches: { Default: 'end' },
});

/** What the action itself decided: its own result, whether wired or followed through Default. */
const resultOf = (report: SimulationReport, id = 'su') => {
  const step = report.trace.find((t) => t.id === id);
  return step?.outcome ?? step?.branch;
};

describe('SETSECURITYUSER', () => {
  it.each([
    ['ID', '1001'],
    ['username', 'ana'],
  ])('authenticates an active agent by %s and stores an opaque handle in SecurityUser', async (_how, ref) => {
    const report = await runActions(chain(securityUser({ Agent: ref }, { Default: 'kill' }), kill()));
    expect(branches(report)).toEqual(['begin:Default', 'su:Default', 'kill:Default (OnSuccess)', 'end']);
    const handle = String(report.variables.SecurityUser);
    expect(handle).toMatch(/^su1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(report.trace[1]?.set).toEqual({ SecurityUser: handle });
    expect(report.world.audit.find((a) => a.action === 'contact.ended')?.actor).toBe(
      'agent:1001 (ana) via test',
    );
  });

  it('stores the handle in a custom ScriptVar, which the API actions then name', async () => {
    const report = await runActions(
      chain(securityUser({ Agent: 'ana', ScriptVar: 'Boss' }, { Default: 'kill' }), kill('Boss')),
    );
    expect(report.variables.Boss).toMatch(/^su1\./);
    expect(report.variables.SecurityUser).toBeUndefined();
    expect(resultOf(report, 'kill')).toBe('OnSuccess');
  });

  it('accepts ScriptVar written as {Boss}', async () => {
    const report = await runActions(chain(securityUser({ Agent: 'ana', ScriptVar: '{Boss}' })));
    expect(report.variables.Boss).toMatch(/^su1\./);
  });

  it('takes the Agent from a variable', async () => {
    const report = await runActions(chain(securityUser({ Agent: '{Supervisor}' })), {
      variables: { Supervisor: '1001' },
    });
    expect(resultOf(report)).toBe('Default');
  });

  it.each([
    ['an unknown username', 'zed', "no agent with username 'zed'"],
    ['an unknown ID', '9999', "no agent with ID '9999'"],
    ['an inactive agent by username', 'cid', 'agent 1003 (cid) is not active'],
    ['an inactive agent by ID', '1003', 'agent 1003 (cid) is not active'],
    ['an empty Agent', '', 'Agent is empty; give an agent ID or username'],
  ])('takes OnError for %s, sets _ERR and stores no handle', async (_what, ref, reason) => {
    const report = await runActions(chain(securityUser({ Agent: ref })));
    expect(resultOf(report)).toBe('OnError');
    expect(report.variables._ERR).toBe(reason);
    expect(report.variables.SecurityUser).toBeUndefined();
  });

  it('takes OnError for a TimeZone that is not an IANA zone', async () => {
    const report = await runActions(chain(securityUser({ Agent: 'ana', TimeZone: 'Mars/Olympus' })));
    expect(resultOf(report)).toBe('OnError');
    expect(report.variables._ERR).toBe(
      "TimeZone 'Mars/Olympus' is not an IANA time zone (e.g. Europe/Berlin)",
    );
  });

  it('takes Default when OnError is not wired; the API action that follows then fails on the missing user', async () => {
    const report = await runActions(
      chain(securityUser({ Agent: 'zed' }, { Default: 'kill' }), {
        ...kill(),
        branches: { OnInvalidSecurityUser: 'end', Default: 'end' },
      }),
    );
    expect(branches(report)).toEqual([
      'begin:Default',
      'su:Default (OnError)',
      'kill:OnInvalidSecurityUser',
      'end',
    ]);
  });
});
