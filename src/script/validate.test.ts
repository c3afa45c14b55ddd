import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { actions } from '../actions/registry.js';
import type { Finding } from './finding.js';
import {
  hasErrors,
  MAX_FINDINGS,
  MAX_SCRIPT_ACTIONS,
  MAX_SCRIPT_BYTES,
  validateScript,
  validateScriptText,
} from './validate.js';

type Action = Record<string, unknown>;

const EXAMPLE = {
  name: 'end-stuck-chat',
  mediaType: 'Chat',
  actions: [
    { id: '1', action: 'BEGIN', branches: { Default: '2' } },
    {
      id: '2',
      action: 'SETSECURITYUSER',
      properties: { Agent: '{SupervisorId}' },
      branches: { Default: '3', OnError: '9' },
    },
    {
      id: '3',
      action: 'KILLCONTACT',
      caption: 'End stuck chat',
      properties: { SecurityUser: 'SecurityUser', ContactID: '{StuckContactId}' },
      branches: { OnSuccess: '9', OnInvalidContactID: '9', Default: '9' },
    },
    { id: '9', action: 'END' },
  ],
  layout: { '1': { x: 0, y: 0 } },
};

/** BEGIN → the given actions (the first one is wired from BEGIN) … END ('end'). */
function script(steps: Action[], extra: Record<string, unknown> = {}) {
  const first = steps[0]?.id ?? 'end';
  return {
    name: 'test',
    ...extra,
    actions: [
      { id: 'begin', action: 'BEGIN', branches: { Default: first } },
      ...steps,
      { id: 'end', action: 'END' },
    ],
  };
}

const validate = (value: unknown) => validateScript(value, actions);
const at = (findings: Finding[], path: string) => findings.filter((f) => f.path === path);

/** The one finding at `path`, checked against `expected`; no other finding at that path. */
function expectOne(value: unknown, path: string, expected: Partial<Record<keyof Finding, unknown>>) {
  const findings = validate(value);
  expect(at(findings, path), JSON.stringify(findings, null, 2)).toEqual([expect.objectContaining(expected)]);
  return findings;
}

const kill = (
  properties: Record<string, unknown> = { ContactID: '{id}' },
  branches: Record<string, unknown> = { Default: 'end' },
) => ({
  id: 'k',
  action: 'KILLCONTACT',
  properties,
  branches,
});

describe('validateScript', () => {
  test('finds nothing wrong in the DESIGN §3.1 example', () => {
    expect(validate(EXAMPLE)).toEqual([]);
  });

  test('finds nothing wrong in a realistic script using every kind of action', () => {
    const realistic = {
      name: 'callback-or-end',
      mediaType: 'Phone',
      description: 'Offers a callback unless one is waiting, then ends the call.',
      actions: [
        {
          id: '1',
          action: 'BEGIN',
          properties: { Parameters: 'FirstName,LastName' },
          branches: { Default: '2' },
        },
        {
          id: '2',
          action: 'QUERYCALLBACK',
          properties: { Skill: 2001 },
          branches: { OnCallbacksFound: '8', OnNoCallbacksFound: '3', Default: '8' },
        },
        {
          id: '3',
          action: 'ASSIGN',
          properties: { Variable: 'tries', Value: '{tries} + 1', Type: 'numeric' },
          branches: { Default: '4', Overflow: '8' },
        },
        {
          id: '4',
          action: 'IF',
          properties: { Expression: "{tries} > 3 or lang = 'de'" },
          branches: { True: '8', False: '5' },
        },
        {
          id: '5',
          action: 'CASE',
          properties: { Variable: 'lang' },
          branches: { de: '6', en: '7', Default: '7' },
        },
        {
          id: '6',
          action: 'SETSECURITYUSER',
          properties: { Agent: 'ana', TimeZone: 'Europe/Berlin' },
          branches: { Default: '7', OnError: '8' },
        },
        {
          id: '7',
          action: 'SCHEDULECALLBACK',
          properties: {
            FirstName: '{FirstName}',
            PhoneNumber: '+448675309',
            SkillId: '2001',
            ScheduleDate: '2026-12-01T09:30',
            TargetAgentId: '',
          },
          branches: { OnSuccess: '10', Default: '8' },
        },
        { id: '10', action: 'WAIT', properties: { Seconds: 1.5 }, branches: { Default: '11' } },
        {
          id: '11',
          action: 'COMMITMENT',
          properties: { Skill: '2001', CommitmentDate: '2026-12-01' },
          branches: { Success: '12', Error: '8', Default: '8' },
        },
        {
          id: '12',
          action: 'QUEUECALLBACK',
          properties: { Skill: '{SkillId}' },
          branches: { Success: '13', Default: '8' },
        },
        {
          id: '13',
          action: 'ENDCONTACT',
          properties: { ContactID: '{ContactID}' },
          branches: { Default: '8' },
        },
        { id: '14', action: 'ONSIGNAL', branches: { Default: '8' } },
        { id: '15', action: 'ONRELEASE', branches: { Default: '16' } },
        { id: '16', action: 'STOP' },
        { id: '8', action: 'END' },
      ],
    };
    expect(validate(realistic)).toEqual([]);
  });

  describe('structure', () => {
    test.each([
      [[], 'an array'],
      [null, 'null'],
      ['script', "'script'"],
      [42, '42'],
    ])('reports a script that is not an object (%j)', (value, shown) => {
      expect(validate(value)).toEqual([
        {
          severity: 'error',
          actionId: null,
          path: '$',
          message: `a script must be a JSON object, not ${shown}`,
          hint: expect.any(String),
        },
      ]);
    });

    test('reports a missing name, actions and an unknown top-level field together', () => {
      const findings = validate({ action: [] });
      expect(findings).toEqual([
        expect.objectContaining({
          path: '$.action',
          message: "unknown field 'action' in a script",
          hint: 'did you mean actions?',
        }),
        expect.objectContaining({ path: '$', message: 'the script has no name' }),
        expect.objectContaining({ path: '$', message: 'the script has no actions' }),
      ]);
    });

    test('reports a name that cannot be used in a URL, suggesting one that can', () => {
      expectOne({ ...EXAMPLE, name: 'end stuck/chat' }, '$.name', {
        severity: 'error',
        actionId: null,
        message: expect.stringContaining("name 'end stuck/chat' may contain only letters, digits"),
        hint: "e.g. 'end-stuck-chat'",
      });
    });

    test.each([
      ['', 'name is empty'],
      [7, 'name must be text, not 7'],
      ['x'.repeat(101), 'name is 101 characters long; at most 100 are allowed'],
    ])('reports a bad name (%j)', (name, message) => {
      expectOne({ ...EXAMPLE, name }, '$.name', { severity: 'error', message });
    });

    test('reports an unknown mediaType with the right spelling', () => {
      expectOne({ ...EXAMPLE, mediaType: 'chat' }, '$.mediaType', {
        severity: 'error',
        message: "unknown mediaType 'chat'",
        hint: 'did you mean Chat?',
      });
      expectOne({ ...EXAMPLE, mediaType: 'Fax' }, '$.mediaType', {
        hint: expect.stringContaining('Generic, Email, Chat'),
      });
    });

    test('reports actions that are not a non-empty array', () => {
      expectOne({ ...EXAMPLE, actions: {} }, '$.actions', {
        severity: 'error',
        message: 'actions must be an array of actions, not an object',
      });
      expectOne({ ...EXAMPLE, actions: [] }, '$.actions', { severity: 'error', message: 'actions is empty' });
    });

    test('reports an unknown action field with the right name', () => {
      const value = script([
        { id: 'w', action: 'WAIT', properties: { Seconds: 1 }, branch: { Default: 'end' } },
      ]);
      expectOne(value, '$.actions[1].branch', {
        severity: 'error',
        actionId: 'w',
        message: "unknown field 'branch' in an action",
        hint: 'did you mean branches?',
      });
    });

    test('reports an action without an id, and checks nothing that depends on it', () => {
      const findings = validate(script([{ action: 'WAIT', properties: { Seconds: 1 } }]));
      expect(findings).toEqual([
        expect.objectContaining({
          severity: 'error',
          actionId: null,
          path: '$.actions[1]',
          message: 'the action has no id',
        }),
      ]);
    });

    test('reports a numeric id with a hint to quote it', () => {
      expectOne(script([{ id: 5, action: 'END' }]), '$.actions[1].id', {
        severity: 'error',
        actionId: null,
        message: 'id must be text, not 5',
        hint: 'write it as text: "5"',
      });
    });

    test('reports an action without "action"', () => {
      expectOne(script([{ id: 'x' }]), '$.actions[1]', {
        severity: 'error',
        actionId: 'x',
        message: expect.stringContaining('"action" is missing'),
      });
    });

    test('reports property values that are not text, a number or true/false', () => {
      expectOne(script([kill({ ContactID: { id: 1 } })]), '$.actions[1].properties.ContactID', {
        severity: 'error',
        actionId: 'k',
        message: 'property ContactID must be text, a number or true/false, not an object',
      });
    });

    test('reads numbers and booleans as property values', () => {
      expect(validate(script([kill({ ContactID: 5001 })]))).toEqual([]);
      expect(
        validate(
          script([
            {
              id: 'a',
              action: 'ASSIGN',
              properties: { Variable: 'x', Value: true },
              branches: { Default: 'end' },
            },
          ]),
        ),
      ).toEqual([]);
    });

    test('reports a layout entry that is not a position', () => {
      expectOne({ ...EXAMPLE, layout: { '1': { x: 0, y: '0' } } }, "$.layout['1'].y", {
        severity: 'error',
        message: "y must be a number, not '0'",
      });
      expectOne({ ...EXAMPLE, layout: { '1': { x: 0, y: 0, z: 1 } } }, "$.layout['1'].z", {
        severity: 'error',
        message: "unknown field 'z' in a layout position",
      });
    });
  });

  describe('ids', () => {
    test.each(['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf'])(
      'reports the reserved id %s',
      (id) => {
        const value = script([
          { id, action: 'WAIT', properties: { Seconds: 1 }, branches: { Default: 'end' } },
        ]);
        expectOne(value, '$.actions[1].id', {
          severity: 'error',
          actionId: id,
          message: `id '${id}' is reserved`,
          hint: expect.any(String),
        });
      },
    );

    test('reports an id used twice, at the second action', () => {
      const value = script([
        { id: 'w', action: 'WAIT', properties: { Seconds: 1 }, branches: { Default: 'end' } },
        { id: 'w', action: 'WAIT', properties: { Seconds: 2 }, branches: { Default: 'end' } },
      ]);
      const findings = expectOne(value, '$.actions[2].id', {
        severity: 'error',
        actionId: 'w',
        message: "duplicate id 'w': actions[1] has it too",
        hint: 'give each action its own id',
      });
      expect(at(findings, '$.actions[1].id')).toEqual([]);
    });
  });

  describe('actions', () => {
    test('reports an unknown action with the closest one', () => {
      expectOne(script([kill()].map((a) => ({ ...a, action: 'KILCONTACT' }))), '$.actions[1].action', {
        severity: 'error',
        actionId: 'k',
        message: "unknown action 'KILCONTACT'",
        hint: 'did you mean KILLCONTACT?',
      });
    });

    test('lists the known actions when none is close', () => {
      expectOne(
        script([{ id: 'x', action: 'FROBNICATE', branches: { Default: 'end' } }]),
        '$.actions[1].action',
        {
          hint: expect.stringMatching(/^known actions: .*KILLCONTACT.*PRMS_CREATE/),
        },
      );
    });

    test('finds actions by alias and without regard to case', () => {
      expect(validate(script([{ ...kill(), action: 'EndContact' }]))).toEqual([]);
    });
  });

  describe('properties', () => {
    test('reports an unknown property with the right spelling', () => {
      expectOne(
        script([kill({ ContactID: '{id}', SecurityUsr: 'x' })]),
        '$.actions[1].properties.SecurityUsr',
        {
          severity: 'error',
          actionId: 'k',
          message: "KILLCONTACT has no property 'SecurityUsr'",
          hint: 'did you mean SecurityUser?',
        },
      );
    });

    test('lists the allowed properties when none is close', () => {
      expectOne(script([kill({ ContactID: '{id}', Reason: 'x' })]), '$.actions[1].properties.Reason', {
        hint: 'KILLCONTACT properties: SecurityUser, ContactID',
      });
      expectOne(
        script([{ id: 'e', action: 'END', properties: { Reason: 'x' } }]),
        '$.actions[1].properties.Reason',
        {
          hint: 'END takes no properties',
        },
      );
    });

    test('accepts property names in any case, but not the same property twice', () => {
      expect(validate(script([kill({ contactid: '{id}' })]))).toEqual([]);
      expectOne(
        script([kill({ ContactID: '{id}', contactId: '{id}' })]),
        '$.actions[1].properties.contactId',
        {
          severity: 'error',
          message: "property ContactID is written twice ('ContactID' and 'contactId')",
        },
      );
    });

    test('reports a missing required property at the properties', () => {
      expectOne(script([kill({ SecurityUser: 'SecurityUser' })]), '$.actions[1].properties', {
        severity: 'error',
        actionId: 'k',
        message: 'KILLCONTACT needs property ContactID',
        hint: expect.stringContaining('set ContactID'),
      });
    });

    test('reports a missing required property at the action when it has no properties', () => {
      expectOne(script([{ id: 'k', action: 'KILLCONTACT', branches: { Default: 'end' } }]), '$.actions[1]', {
        message: 'KILLCONTACT needs property ContactID',
      });
    });

    test('reports a required property that is blank', () => {
      expectOne(script([kill({ ContactID: '  ' })]), '$.actions[1].properties.ContactID', {
        severity: 'error',
        message: 'KILLCONTACT needs property ContactID, which is empty',
      });
    });

    test('does not require a property that has a default', () => {
      expect(validate(script([kill({ ContactID: '{id}' })]))).toEqual([]);
    });
  });

  describe('literal values', () => {
    test('reports a literal that can never be valid', () => {
      expectOne(script([kill({ ContactID: 'abc' })]), '$.actions[1].properties.ContactID', {
        severity: 'error',
        actionId: 'k',
        message: "ContactID 'abc' is not a contact ID (a positive number)",
      });
    });

    test('leaves values with a {variable} to run time', () => {
      expect(validate(script([kill({ ContactID: 'x{id}' })]))).toEqual([]);
    });

    test('reports a literal ScheduleDate that is not ISO 8601 and a non-numeric SkillId', () => {
      const value = script([
        {
          id: 's',
          action: 'PRMS_CREATE',
          properties: { PhoneNumber: '+448675309', SkillId: 'Callbacks', ScheduleDate: 'tomorrow 9am' },
          branches: { Default: 'end' },
        },
      ]);
      const findings = validate(value);
      expect(at(findings, '$.actions[1].properties.SkillId')).toEqual([
        expect.objectContaining({ severity: 'error', message: "SkillId 'Callbacks' is not a numeric ID" }),
      ]);
      expect(at(findings, '$.actions[1].properties.ScheduleDate')).toEqual([
        expect.objectContaining({
          severity: 'error',
          message: expect.stringContaining("ScheduleDate 'tomorrow 9am' is not an ISO 8601"),
        }),
      ]);
    });

    test('always checks expressions, even with {variables}', () => {
      const value = script([
        {
          id: 'i',
          action: 'IF',
          properties: { Expression: '{count} >' },
          branches: { True: 'end', False: 'end' },
        },
      ]);
      expectOne(value, '$.actions[1].properties.Expression', {
        severity: 'error',
        actionId: 'i',
        message: expect.stringMatching(/^Expression '\{count\} >': /),
      });
    });

    test('reports a value outside the property enum with the right spelling', () => {
      const value = script([
        {
          id: 'a',
          action: 'ASSIGN',
          properties: { Variable: 'x', Value: '1', Type: 'Numerc' },
          branches: { Default: 'end' },
        },
      ]);
      expectOne(value, '$.actions[1].properties.Type', {
        severity: 'error',
        message: "Type 'Numerc' is not one of String, Numeric, Datetime",
        hint: 'did you mean Numeric?',
      });
    });

    test('reports problems found across properties at the property concerned', () => {
      const value = script([
        {
          id: 'a',
          action: 'ASSIGN',
          properties: { Variable: 'x', Value: '1 +', Type: 'Numeric' },
          branches: { Default: 'end' },
        },
      ]);
      expectOne(value, '$.actions[1].properties.Value', {
        severity: 'error',
        actionId: 'a',
        message: expect.stringMatching(/^Value '1 \+': /),
      });
      const text = script([
        {
          id: 'a',
          action: 'ASSIGN',
          properties: { Variable: 'x', Value: '1 +' },
          branches: { Default: 'end' },
        },
      ]);
      expect(validate(text)).toEqual([]);
    });
  });

  describe('branches', () => {
    test('reports an unknown branch name with the right spelling', () => {
      expectOne(
        script([kill({ ContactID: '{id}' }, { OnSucess: 'end', Default: 'end' })]),
        '$.actions[1].branches.OnSucess',
        {
          severity: 'error',
          actionId: 'k',
          message: "KILLCONTACT has no branch 'OnSucess'",
          hint: 'did you mean OnSuccess?',
        },
      );
    });

    test('lists the branches when no name is close', () => {
      expectOne(
        script([kill({ ContactID: '{id}' }, { Timeout: 'end', Default: 'end' })]),
        '$.actions[1].branches.Timeout',
        {
          hint: 'KILLCONTACT branches: Default, OnSuccess, OnInvalidContactID, OnUnauthorized, OnInvalidSecurityUser',
        },
      );
    });

    test('accepts branch names with and without On', () => {
      expect(
        validate(
          script([kill({ ContactID: '{id}' }, { Success: 'end', InvalidContactID: 'end', Default: 'end' })]),
        ),
      ).toEqual([]);
      const schedule = {
        id: 's',
        action: 'PRMS_CREATE',
        properties: { PhoneNumber: '+448675309', SkillId: '2001', ScheduleDate: '{when}' },
        branches: { OnSuccess: 'end', InvalidSkillId: 'end', Default: 'end' },
      };
      expect(validate(script([schedule]))).toEqual([]);
    });

    test('reports two spellings of the same branch', () => {
      expectOne(
        script([kill({ ContactID: '{id}' }, { OnSuccess: 'end', Success: 'end', Default: 'end' })]),
        '$.actions[1].branches.Success',
        {
          severity: 'error',
          message: "branch 'Success' is the same branch as 'OnSuccess'",
        },
      );
    });

    test('accepts any case value as a CASE branch', () => {
      const value = script([
        {
          id: 'c',
          action: 'CASE',
          properties: { Variable: 'lang' },
          branches: { de: 'end', 'pt-BR': 'end', Default: 'end' },
        },
      ]);
      expect(validate(value)).toEqual([]);
    });

    test('reports branches on STOP, which has none', () => {
      const value = script([
        { id: 's', action: 'STOP', branches: { Default: 'end' } },
        { id: 'sig', action: 'ONSIGNAL', branches: { Default: 'end' } },
      ]);
      expectOne(value, '$.actions[1].branches', {
        severity: 'error',
        actionId: 's',
        message: 'STOP has no branches',
        hint: expect.stringContaining('remove "branches"'),
      });
    });

    test('reports a branch to a missing action id with the closest id', () => {
      const findings = expectOne(
        script([kill({ ContactID: '{id}' }, { Default: 'edn' })]),
        '$.actions[1].branches.Default',
        {
          severity: 'error',
          actionId: 'k',
          message: "branch Default goes to 'edn', but no action has that id",
          hint: "did you mean 'end'?",
        },
      );
      expect(findings.filter((f) => f.severity === 'error')).toHaveLength(1);
    });

    test('reports a branch target that is not text', () => {
      expectOne(script([kill({ ContactID: '{id}' }, { Default: 7 })]), '$.actions[1].branches.Default', {
        severity: 'error',
        message: 'branch Default must name an action id as text, not 7',
        hint: 'write the id as text: "7"',
      });
    });

    test('quotes branch names that are not identifiers in the path', () => {
      expectOne(
        script([kill({ ContactID: '{id}' }, { 'On Success': 'end', Default: 'end' })]),
        "$.actions[1].branches['On Success']",
        {
          hint: 'did you mean OnSuccess?',
        },
      );
    });
  });

  describe('entry points', () => {
    test('reports a script without BEGIN', () => {
      const value = { name: 'x', actions: [{ id: '1', action: 'END' }] };
      expect(validate(value)).toEqual([
        {
          severity: 'error',
          actionId: null,
          path: '$.actions',
          message: 'the script has no BEGIN action',
          hint: expect.stringContaining('BEGIN'),
        },
      ]);
    });

    test('reports a second BEGIN', () => {
      const value = script([{ id: 'b2', action: 'BEGIN', branches: { Default: 'end' } }]);
      expectOne(value, '$.actions[1].action', {
        severity: 'error',
        actionId: 'b2',
        message: "a second BEGIN: action 'begin' is already the script's BEGIN",
      });
    });

    test('reports a second handler for the same event', () => {
      const value = script([
        { id: 'r1', action: 'ONRELEASE', branches: { Default: 'end' } },
        { id: 'r2', action: 'onrelease', branches: { Default: 'end' } },
      ]);
      expectOne(value, '$.actions[2].action', {
        severity: 'error',
        actionId: 'r2',
        message: "a second ONRELEASE handler: action 'r1' already handles that event",
      });
    });
  });

  describe('paths', () => {
    test('warns about an action no branch leads to', () => {
      const value = script([
        { id: 'w', action: 'WAIT', properties: { Seconds: 1 }, branches: { Default: 'end' } },
        { id: 'orphan', action: 'WAIT', properties: { Seconds: 1 }, branches: { Default: 'end' } },
      ]);
      expect(validate(value)).toEqual([
        {
          severity: 'warning',
          actionId: 'orphan',
          path: '$.actions[2]',
          message: "WAIT 'orphan' is unreachable: no branch leads to it from BEGIN or an event handler",
          hint: 'wire a branch to it, or remove it',
        },
      ]);
    });

    test('counts actions reached from an event handler as reachable', () => {
      const value = script([
        { id: 'r', action: 'ONRELEASE', branches: { Default: 'w' } },
        { id: 'w', action: 'WAIT', properties: { Seconds: 1 }, branches: { Default: 'end' } },
      ]);
      expect(validate(value)).toEqual([]);
    });

    test('warns when Default is not wired on an action with other outcomes', () => {
      expectOne(script([kill({ ContactID: '{id}' }, { OnSuccess: 'end' })]), '$.actions[1].branches', {
        severity: 'warning',
        actionId: 'k',
        message:
          'KILLCONTACT has no Default branch: an unwired outcome (e.g. OnInvalidContactID) ends the run as a dead end',
        hint: 'wire Default',
      });
    });

    test('warns when a CASE has no Default', () => {
      const value = script([
        { id: 'c', action: 'CASE', properties: { Variable: 'lang' }, branches: { de: 'end' } },
      ]);
      expectOne(value, '$.actions[1].branches', {
        severity: 'warning',
        message: expect.stringContaining('a value that matches no case'),
      });
    });

    test('warns when IF leaves one outcome unwired', () => {
      const value = script([
        { id: 'i', action: 'IF', properties: { Expression: '{x} = 1' }, branches: { True: 'end' } },
      ]);
      expectOne(value, '$.actions[1].branches', {
        severity: 'warning',
        message: 'IF has no False branch: when it is taken the run ends as a dead end',
        hint: 'wire False',
      });
    });

    test('warns about an action that wires no branch at all', () => {
      const value = script([{ id: 'w', action: 'WAIT', properties: { Seconds: 1 } }]);
      expectOne(value, '$.actions[1]', {
        severity: 'warning',
        actionId: 'w',
        message: 'WAIT leads nowhere: the run ends as a dead end here',
        hint: expect.stringContaining('wire Default'),
      });
    });

    test('lets END and STOP finish a path without branches', () => {
      const value = script([
        { id: 's', action: 'STOP' },
        { id: 'sig', action: 'ONSIGNAL', branches: { Default: 'end' } },
      ]);
      expect(validate(value)).toEqual([]);
    });

    test('warns about STOP in a script no signal can resume', () => {
      expectOne(script([{ id: 's', action: 'STOP' }]), '$.actions[1].action', {
        severity: 'warning',
        actionId: 's',
        message: expect.stringContaining(
          'STOP parks the script and the contact keeps running: nothing can resume it',
        ),
        hint: 'use END to finish the script and release the contact',
      });
    });
  });

  describe('script types', () => {
    const queue = {
      id: 'q',
      action: 'QUEUECALLBACK',
      properties: { Skill: '2001' },
      branches: { Default: 'end' },
    };

    test('reports an action used in a script type it does not support', () => {
      expectOne(script([queue], { mediaType: 'Chat' }), '$.actions[1].action', {
        severity: 'error',
        actionId: 'q',
        message: 'QUEUECALLBACK cannot be used in a Chat script; it works in Phone',
        hint: expect.stringContaining('"mediaType" to Phone'),
      });
    });

    test('treats a script without mediaType as Generic', () => {
      expectOne(script([queue]), '$.actions[1].action', {
        message: expect.stringContaining('in a Generic script'),
      });
    });

    test('accepts the action in a script type it supports', () => {
      expect(validate(script([queue], { mediaType: 'Phone' }))).toEqual([]);
    });
  });

  describe('layout', () => {
    test('warns about a layout entry for no action, with the closest id', () => {
      expectOne({ ...EXAMPLE, layout: { '1': { x: 0, y: 0 }, '33': { x: 1, y: 1 } } }, "$.layout['33']", {
        severity: 'warning',
        actionId: null,
        message: "layout entry '33' is for no action",
        hint: "did you mean '3'?",
      });
    });
  });

  test('reports every problem at once', () => {
    const value = script([
      kill({ ContactID: 'abc', Foo: 1 }, { OnSucess: 'nowhere' }),
      { id: 'k', action: 'STOP' },
    ]);
    const paths = validate(value).map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        '$.actions[1].properties.Foo',
        '$.actions[1].properties.ContactID',
        '$.actions[1].branches.OnSucess',
        '$.actions[2].id',
      ]),
    );
  });

  test('reports "__proto__" as an unknown property and branch instead of losing it', () => {
    const findings = validateScriptText(
      '{ "name": "x", "actions": [ { "id": "1", "action": "BEGIN", "properties": { "__proto__": "x" }, "branches": { "Default": "2", "__proto__": "2" } }, { "id": "2", "action": "END" } ] }',
      actions,
    ).findings;
    expect(findings.map((f) => [f.path, f.message])).toEqual([
      ['$.actions[0].properties.__proto__', "BEGIN has no property '__proto__'"],
      ['$.actions[0].branches.__proto__', "BEGIN has no branch '__proto__'"],
    ]);
  });

  test('keeps every message and hint on one line', () => {
    const findings = validate(script([kill({ ContactID: 'a\nb' }, { 'x\ny': 'end' })]));
    expect(findings.length).toBeGreaterThan(0);
    for (const f of findings) expect(`${f.message} ${f.hint}`).not.toMatch(/[\r\n]/);
  });
});

describe('validateScriptText', () => {
  const text = (value: unknown) => JSON.stringify(value, null, 2);

  test('returns the script when there are no errors', () => {
    const result = validateScriptText(text(EXAMPLE), actions);
    expect(result).toEqual({ script: EXAMPLE, findings: [] });
  });

  test('returns the script along with warnings', () => {
    const result = validateScriptText(text(script([{ id: 's', action: 'STOP' }])), actions);
    expect(result.script).toBeDefined();
    expect(result.findings.length).toBeGreaterThan(0);
    expect(result.findings.every((f) => f.severity === 'warning')).toBe(true);
  });

  test('attaches the line and column of each finding', () => {
    const source = [
      '{',
      '  "name": "x",',
      '  "actions": [',
      '    { "id": "1", "action": "BEGIN", "branches": { "Default": "2" } },',
      '    { "id": "2", "action": "KILLCONTACT",',
      '      "properties": { "ContactID": "abc" },',
      '      "branches": { "OnSucess": "3", "Default": "3" } },',
      '    { "id": "3", "action": "END" }',
      '  ]',
      '}',
    ].join('\n');
    const { script: parsed, findings } = validateScriptText(source, actions);
    expect(parsed).toBeUndefined();
    expect(findings).toEqual([
      expect.objectContaining({ path: '$.actions[1].properties.ContactID', line: 6, column: 23 }),
      expect.objectContaining({
        path: '$.actions[1].branches.OnSucess',
        line: 7,
        column: 21,
        hint: 'did you mean OnSuccess?',
      }),
    ]);
  });

  test('reports malformed JSON as one error with its position', () => {
    const { script: parsed, findings } = validateScriptText('{\n  "name": "x",\n}', actions);
    expect(parsed).toBeUndefined();
    expect(findings).toEqual([
      expect.objectContaining({ severity: 'error', path: '$', line: 2, column: 14 }),
    ]);
  });

  test('never throws, whatever the text', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.json()), (source) => {
        const { findings } = validateScriptText(source, actions);
        for (const f of findings) expect(['error', 'warning']).toContain(f.severity);
      }),
      { numRuns: 500 },
    );
  });

  test('never throws, whatever the JSON value, and locates every finding', () => {
    const steps = fc.record(
      {
        id: fc.oneof(fc.constantFrom('1', '2', '3', '__proto__', ''), fc.jsonValue()),
        action: fc.oneof(fc.constantFrom(...actions.names(), 'kilcontact'), fc.jsonValue()),
        properties: fc.oneof(
          fc.dictionary(
            fc.constantFrom('ContactID', 'Seconds', 'Expression', 'Type', 'Value', 'Variable', 'x'),
            fc.oneof(fc.string(), fc.jsonValue()),
          ),
          fc.jsonValue(),
        ),
        branches: fc.oneof(
          fc.dictionary(
            fc.constantFrom('Default', 'OnSuccess', 'Success', 'True', 'OnError', 'x'),
            fc.oneof(fc.constantFrom('1', '2', '3'), fc.jsonValue()),
          ),
          fc.jsonValue(),
        ),
      },
      { requiredKeys: [] },
    );
    const scripts = fc.record(
      {
        name: fc.oneof(fc.constant('x'), fc.jsonValue()),
        mediaType: fc.constantFrom('Phone', 'Chat', 'x'),
        actions: fc.array(steps, { maxLength: 6 }),
      },
      { requiredKeys: ['actions'] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), scripts), (value) => {
        for (const f of validateScript(value, actions)) expect(['error', 'warning']).toContain(f.severity);
        const { findings } = validateScriptText(JSON.stringify(value) ?? '', actions);
        for (const f of findings) {
          expect(['error', 'warning']).toContain(f.severity);
          expect(f.line).toBeGreaterThanOrEqual(1);
          expect(f.column).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('limits', () => {
  const text = (value: unknown) => JSON.stringify(value, null, 2);
  /** `n` ASSIGNs in a chain from BEGIN to END: a valid script of n + 2 actions. */
  const chain = (n: number) =>
    script(
      Array.from({ length: n }, (_, i) => ({
        id: `a${i}`,
        action: 'ASSIGN',
        properties: { Variable: 'v', Value: 'x' },
        branches: { Default: i + 1 < n ? `a${i + 1}` : 'end' },
      })),
    );
  /** Pseudo-random ids of 64 characters (the longest allowed): alike in length, unlike in content. */
  const longIds = (n: number) => {
    let seed = 7;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return 'abcdefghijklmnopqrstuvwxyz0123456789'[Math.floor((seed / 2_147_483_648) * 36)]!;
    };
    return Array.from({ length: n }, () => Array.from({ length: 64 }, next).join(''));
  };

  test('refuses a script over the size limit with one error, without parsing it', () => {
    const over = `{"name":"x","description":"${'d'.repeat(MAX_SCRIPT_BYTES)}","actions":[`;
    const { script: parsed, findings } = validateScriptText(over, actions);
    expect(parsed).toBeUndefined();
    expect(findings).toEqual([
      expect.objectContaining({
        severity: 'error',
        path: '$',
        message: expect.stringMatching(
          /^the script is 524,3\d\d bytes long; at most 524,288 \(512 KiB\) are allowed$/,
        ),
      }),
    ]);
  });

  test('counts the size in bytes of UTF-8, so a text of fewer characters can still be too large', () => {
    const euros = '€'.repeat(Math.ceil(MAX_SCRIPT_BYTES / 3));
    const source = text({ ...chain(1), description: euros });
    expect(source.length).toBeLessThan(MAX_SCRIPT_BYTES);
    const { findings } = validateScriptText(source, actions);
    expect(findings).toEqual([
      expect.objectContaining({
        severity: 'error',
        message: expect.stringMatching(/^the script is [\d,]+ bytes/),
      }),
    ]);
    const under = text({ ...chain(1), description: 'd'.repeat(MAX_SCRIPT_BYTES - 1000) });
    expect(validateScriptText(under, actions)).toEqual({ script: JSON.parse(under), findings: [] });
  });

  test('refuses a script with more actions than allowed with one error, and takes one at the limit', () => {
    expect(validate(chain(MAX_SCRIPT_ACTIONS - 2))).toEqual([]);
    expect(validate(chain(MAX_SCRIPT_ACTIONS - 1))).toEqual([
      {
        severity: 'error',
        actionId: null,
        path: '$.actions',
        message: `the script has 1,001 actions; at most ${MAX_SCRIPT_ACTIONS.toLocaleString('en')} are allowed`,
        hint: 'remove the actions it does not need, or split the work across scripts',
      },
    ]);
  });

  // The attack: every action branches to ids no action has, each as long as the real ids and
  // close to one of them, so that every hint would compare against every id. What comes back is
  // bounded: at most MAX_FINDINGS findings, at most 100 of them with "did you mean", and one that
  // counts what is not shown. (Its time is bench/validate.mjs's: no timed assertions here.)
  test('answers a hostile script with bounded findings and hints, and a count of the rest', () => {
    const ids = longIds(MAX_SCRIPT_ACTIONS - 1);
    const near = (id: string) => `${id.slice(0, 30)}ZZ${id.slice(32)}`;
    const hostile = {
      name: 'hostile',
      actions: [
        { id: 'begin', action: 'BEGIN', branches: { Default: ids[0] } },
        ...ids.map((id, i) => ({
          id,
          action: 'IF',
          properties: { Expression: 'true' },
          branches: { True: near(ids[(i * 7) % ids.length]!), False: `${near(id)}x` },
        })),
      ],
    };
    const source = text(hostile);
    for (const findings of [validate(hostile), validateScriptText(source, actions).findings]) {
      expect(findings).toHaveLength(MAX_FINDINGS);
      const more = findings.at(-1)!;
      expect(more).toEqual({
        severity: 'error',
        actionId: null,
        path: '$',
        message: expect.stringMatching(
          /^[\d,]+ more findings not shown \([\d,]+ errors, [\d,]+ warnings\): at most 200 are reported$/,
        ),
        hint: 'fix the findings above and validate again',
      });
      const hidden = Number(/^([\d,]+) more/.exec(more.message)![1]!.replace(/,/g, ''));
      expect(hidden + MAX_FINDINGS - 1).toBeGreaterThanOrEqual(2 * ids.length);
      const hinted = findings.filter((f) => f.hint?.startsWith('did you mean'));
      expect(hinted.length).toBeGreaterThan(0);
      expect(hinted.length).toBeLessThanOrEqual(100);
      expect(hasErrors(findings)).toBe(true);
    }
    // The first dangling target gets the hint a short script would give it.
    expect(validate(hostile)).toContainEqual(
      expect.objectContaining({
        path: '$.actions[1].branches.True',
        hint: `did you mean '${ids[0]!.slice(0, 60)}…'?`,
      }),
    );
  });

  test('counts hidden warnings as a warning: a script whose findings are all warnings stays valid', () => {
    const unreachable = Array.from({ length: MAX_FINDINGS + 50 }, (_, i) => ({ id: `u${i}`, action: 'END' }));
    const value = { ...chain(1), actions: [...chain(1).actions, ...unreachable] };
    const { script: parsed, findings } = validateScriptText(text(value), actions);
    expect(parsed).toEqual(value);
    expect(findings).toHaveLength(MAX_FINDINGS);
    expect(findings.at(-1)).toEqual(
      expect.objectContaining({
        severity: 'warning',
        message: expect.stringMatching(/^51 more findings not shown \(51 warnings\)/),
      }),
    );
    expect(hasErrors(findings)).toBe(false);
    expect(hasErrors(findings, true)).toBe(true);
  });

  test('reports findings in file order before cutting them, wherever they come from', () => {
    // Duplicate keys (found while parsing) and unreachable actions (found while validating) interleave.
    const entries = Array.from(
      { length: MAX_FINDINGS },
      (_, i) => `{ "id": "u${i}", "action": "END", "caption": "a", "caption": "b" }`,
    );
    const source = `{ "name": "x", "actions": [ { "id": "b", "action": "BEGIN", "branches": { "Default": "e" } }, { "id": "e", "action": "END" },\n${entries.join(',\n')}\n] }`;
    const { findings } = validateScriptText(source, actions);
    expect(findings).toHaveLength(MAX_FINDINGS);
    const lines = findings.slice(0, -1).map((f) => f.line!);
    expect(lines).toEqual([...lines].sort((a, b) => a - b));
    expect(findings[0]).toEqual(expect.objectContaining({ path: '$.actions[2]', line: 2 }));
    expect(findings[1]).toEqual(expect.objectContaining({ path: '$.actions[2].caption', line: 2 }));
    expect(findings.at(-2)).toEqual(expect.objectContaining({ path: '$.actions[101]', line: 101 }));
  });
});

describe('hasErrors', () => {
  const warning: Finding = { severity: 'warning', actionId: null, path: '$', message: 'w', hint: null };
  const error: Finding = { ...warning, severity: 'error' };

  test('counts errors, and warnings only when strict', () => {
    expect(hasErrors([])).toBe(false);
    expect(hasErrors([warning])).toBe(false);
    expect(hasErrors([warning], true)).toBe(true);
    expect(hasErrors([warning, error])).toBe(true);
  });
});
