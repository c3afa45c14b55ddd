import { describe, expect, it } from 'vitest';
import { baseWorld, branches, chain, runActions } from '../../test/support/simulate.js';
import type { ScriptAction } from '../script/types.js';
import type { SimulationReport } from '../simulator/simulate.js';
import { MAX_VARIABLE_LENGTH } from './assign.js';

const assign = (
  properties: Record<string, string>,
  wired: Record<string, string> = { Default: 'end' },
  id = 'a',
): ScriptAction => ({ id, action: 'ASSIGN', properties, branches: wired });

/** What the action itself decided: its own result, whether wired or followed through Default. */
const resultOf = (report: SimulationReport, id: string) => {
  const step = report.trace.find((t) => t.id === id);
  return step?.outcome ?? step?.branch;
};

describe('ASSIGN', () => {
  it('String: sets the text with {placeholders} substituted', async () => {
    const report = await runActions(
      chain(assign({ Variable: 'greeting', Value: 'Hi {name}!', Type: 'String' })),
      {
        variables: { name: 'Ana' },
      },
    );
    expect(report.variables.greeting).toBe('Hi Ana!');
  });

  it('Numeric: evaluates an expression over variables and stores a number', async () => {
    const report = await runActions(
      chain(assign({ Variable: 'total', Value: '{count} * 2 + 1', Type: 'Numeric' })),
      {
        variables: { count: '20.5' },
      },
    );
    expect(resultOf(report, 'a')).toBe('Default');
    expect(report.variables.total).toBe(42);
  });

  it('Numeric: a value that is not a number takes Default with _ERR and leaves the variable unchanged', async () => {
    const report = await runActions(
      chain(assign({ Variable: 'total', Value: '{count} * 2', Type: 'Numeric' })),
      {
        variables: { count: 'many', total: '7' },
      },
    );
    expect(resultOf(report, 'a')).toBe('Default');
    expect(report.variables._ERR).toBe('Value for total is not a finite number (got NaN)');
    expect(report.variables.total).toBe('7');
  });

  it('Numeric: division by zero takes Default with _ERR and leaves the variable unchanged', async () => {
    const report = await runActions(chain(assign({ Variable: 'total', Value: '1 / 0', Type: 'Numeric' })), {
      variables: { total: '7' },
    });
    expect(resultOf(report, 'a')).toBe('Default');
    expect(report.variables._ERR).toBe('Value for total is not a finite number (got Infinity)');
    expect(report.variables.total).toBe('7');
  });

  it('Datetime: normalises an ISO 8601 instant or wall-clock date-time', async () => {
    const report = await runActions(
      chain(
        assign({ Variable: 'at', Value: '2026-12-01T10:30:00+01:00', Type: 'Datetime' }, { Default: 'b' }),
        assign({ Variable: 'wall', Value: '{day}T09:30', Type: 'Datetime' }, { Default: 'end' }, 'b'),
      ),
      { variables: { day: '2026-12-01' } },
    );
    expect(report.variables.at).toBe('2026-12-01T09:30:00Z');
    expect(report.variables.wall).toBe('2026-12-01T09:30:00');
  });

  it('Datetime: text that is not a date-time takes Default with _ERR and leaves the variable unchanged', async () => {
    const report = await runActions(chain(assign({ Variable: 'at', Value: 'tomorrow', Type: 'Datetime' })), {
      variables: { at: 'before' },
    });
    expect(resultOf(report, 'a')).toBe('Default');
    expect(report.variables._ERR).toBe("'tomorrow' is not an ISO 8601 date-time");
    expect(report.variables.at).toBe('before');
  });

  it('takes Overflow past the maximum size, leaving the variable unchanged; the maximum itself fits', async () => {
    const fits = 'x'.repeat(MAX_VARIABLE_LENGTH);
    const script = chain(
      assign({ Variable: 'big', Value: '{fits}' }, { Default: 'b', Overflow: 'end' }),
      assign({ Variable: 'big', Value: '{fits}!' }, { Default: 'end', Overflow: 'end' }, 'b'),
    );
    const report = await runActions(script, { variables: { fits } });
    expect(branches(report)).toEqual(['begin:Default', 'a:Default', 'b:Overflow', 'end']);
    expect(report.variables.big).toBe(fits);
    expect(report.variables._ERR).toBe(
      `value for big is ${MAX_VARIABLE_LENGTH + 1} characters; the limit is ${MAX_VARIABLE_LENGTH}`,
    );
  });

  it('Overflow falls back to Default when not wired', async () => {
    const report = await runActions(
      chain(assign({ Variable: 'big', Value: '{fits}!' }, { Default: 'end' })),
      {
        variables: { fits: 'x'.repeat(MAX_VARIABLE_LENGTH) },
      },
    );
    expect(resultOf(report, 'a')).toBe('Overflow');
    expect(report.outcome).toBe('ended');
    expect(report.variables.big).toBeUndefined();
  });

  it('names the variable with or without braces', async () => {
    const report = await runActions(chain(assign({ Variable: '{total}', Value: '5', Type: 'Numeric' })));
    expect(report.variables.total).toBe(5);
    expect(report.variables['{total}']).toBeUndefined();
  });

  it('reads Type without regard to case', async () => {
    const report = await runActions(chain(assign({ Variable: 'n', Value: '1 + 1', Type: 'numeric' })));
    expect(report.variables.n).toBe(2);
  });
});

describe('IF', () => {
  const ifScript = (expression: string): ScriptAction[] =>
    chain(
      {
        id: 'if',
        action: 'IF',
        properties: { Expression: expression },
        branches: { True: 'yes', False: 'no' },
      },
      assign({ Variable: 'went', Value: 'yes' }, { Default: 'end' }, 'yes'),
      assign({ Variable: 'went', Value: 'no' }, { Default: 'end' }, 'no'),
    );

  it.each([
    ['{count} > 3', { count: '4' }, 'True'],
    ['{count} > 3', { count: '3' }, 'False'],
    ["count >= 3 && lang = 'de'", { count: '10', lang: 'de' }, 'True'],
    ["count >= 3 and lang = 'de'", { count: '10', lang: 'en' }, 'False'],
    ['isempty({missing})', {}, 'True'],
    ['contains(notes, "urgent")', { notes: 'Very URGENT please' }, 'True'],
  ])('%s with %j takes %s', async (expression, variables, branch) => {
    const report = await runActions(ifScript(expression), { variables });
    expect(resultOf(report, 'if')).toBe(branch);
    expect(report.variables.went).toBe(branch === 'True' ? 'yes' : 'no');
  });

  it('follows OnTrue / OnFalse spellings', async () => {
    const report = await runActions(
      chain(
        {
          id: 'if',
          action: 'IF',
          properties: { Expression: '1 = 1' },
          branches: { OnTrue: 'yes', OnFalse: 'end' },
        },
        assign({ Variable: 'went', Value: 'yes' }, { Default: 'end' }, 'yes'),
      ),
    );
    expect(report.variables.went).toBe('yes');
  });
});

describe('CASE', () => {
  const caseScript: ScriptAction[] = chain(
    {
      id: 'case',
      action: 'CASE',
      properties: { Variable: 'lang' },
      branches: { de: 'de', EN: 'en', Default: 'other' },
    },
    assign({ Variable: 'went', Value: 'de' }, { Default: 'end' }, 'de'),
    assign({ Variable: 'went', Value: 'en' }, { Default: 'end' }, 'en'),
    assign({ Variable: 'went', Value: 'other' }, { Default: 'end' }, 'other'),
  );

  it.each([
    ['DE', 'de', 'de'],
    ['en', 'EN', 'en'],
    [' de ', 'de', 'de'],
    ['fr', 'Default', 'other'],
  ])('value %j takes branch %s', async (lang, branch, went) => {
    const report = await runActions(caseScript, { variables: { lang } });
    expect(resultOf(report, 'case')).toBe(branch);
    expect(report.variables.went).toBe(went);
  });

  it('takes Default when the variable was never set', async () => {
    const report = await runActions(caseScript);
    expect(resultOf(report, 'case')).toBe('Default');
    expect(report.variables.went).toBe('other');
  });

  it('reads the variable named with braces or in another case', async () => {
    const report = await runActions(
      chain(
        {
          id: 'case',
          action: 'CASE',
          properties: { Variable: '{LANG}' },
          branches: { de: 'de', Default: 'end' },
        },
        assign({ Variable: 'went', Value: 'de' }, { Default: 'end' }, 'de'),
      ),
      { variables: { lang: 'de' } },
    );
    expect(report.variables.went).toBe('de');
  });
});

describe('WAIT', () => {
  const wait = (seconds: string): ScriptAction => ({
    id: 'w',
    action: 'WAIT',
    properties: { Seconds: seconds },
    branches: { Default: 'end' },
  });

  it('waits fractional seconds to the millisecond', async () => {
    const report = await runActions(chain(wait('0.25')));
    expect(report.trace.at(-1)?.at).toBe('2026-11-23T08:00:00.250Z');
  });

  it.each(['soon', '-1', '86401', ''])(
    'takes Default with _ERR and does not wait for Seconds %j',
    async (seconds) => {
      const report = await runActions(chain(wait(seconds)));
      expect(resultOf(report, 'w')).toBe('Default');
      expect(String(report.variables._ERR)).toMatch(/must be a number from 0 to 86400/);
      expect(report.trace.at(-1)?.at).toBe('2026-11-23T08:00:00.000Z');
    },
  );

  it('lets the platform work while it waits: a callback due meanwhile is dispatched at its own time', async () => {
    const world = {
      ...baseWorld(),
      callbacks: [{ phoneNumber: '+4930123456', skillId: 2001, scheduleDate: '2026-11-23T08:01:00Z' }],
    };
    const report = await runActions(chain(wait('120')), { world });
    expect(report.world.callbacks[0]?.state).toBe('Queued');
    expect(report.world.audit.find((a) => a.action === 'callback.dispatched')).toMatchObject({
      at: '2026-11-23T08:01:00.000Z',
      details: { lateMs: 0 },
    });
    expect(report.trace.at(-1)?.at).toBe('2026-11-23T08:02:00.000Z');
  });
});

describe('BEGIN', () => {
  it('starts the script with the variables passed at start and the contact’s predefined ones', async () => {
    const report = await runActions(
      chain(
        assign({
          Variable: 'seen',
          Value: '{ContactID}/{MasterID}/{ANI}/{DNIS}/{SkillId}/{MediaType}/{order}',
        }),
      ),
      {
        mediaType: 'Phone',
        variables: { ANI: '+4930123456', DNIS: '+4930999', SkillId: '2003', order: '42' },
      },
    );
    expect(resultOf(report, 'begin')).toBe('Default');
    expect(report.variables.seen).toBe('5003/5003/+4930123456/+4930999/2003/Phone/42');
    expect(report.world.contacts.find((c) => c.id === 5003)).toMatchObject({
      skillId: 2003,
      ani: '+4930123456',
    });
  });
});
