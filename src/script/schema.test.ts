import { readFileSync } from 'node:fs';
import type { Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import fc from 'fast-check';
import { describe, expect, expectTypeOf, test } from 'vitest';
import { actions } from '../actions/registry.js';
import { ScriptSchema } from './schema.js';
import type { Script } from './types.js';
import { validateScript } from './validate.js';

const EXAMPLE = {
  name: 'end-stuck-chat',
  mediaType: 'Chat',
  actions: [
    { id: '1', action: 'BEGIN', branches: { Default: '2' } },
    { id: '2', action: 'END', caption: 'Done', properties: { Note: 1, Flag: true } },
  ],
  layout: { '1': { x: 0, y: -10.5 } },
};

/** Values shaped like scripts, often slightly wrong: where the schema and the validator could disagree. */
const nearScript = fc.record(
  {
    name: fc.oneof(fc.constantFrom('ok-name', 'a', 'bad name', '-x', ''), fc.string(), fc.jsonValue()),
    mediaType: fc.oneof(fc.constantFrom('Chat', 'chat', 'Phone'), fc.jsonValue()),
    description: fc.oneof(fc.string(), fc.jsonValue()),
    actions: fc.oneof(
      fc.array(
        fc.oneof(
          fc.record(
            {
              id: fc.oneof(fc.constantFrom('1', '2', ''), fc.string({ maxLength: 70 }), fc.jsonValue()),
              action: fc.oneof(fc.constantFrom('BEGIN', 'END', ' '), fc.jsonValue()),
              caption: fc.oneof(fc.string(), fc.jsonValue()),
              properties: fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), fc.jsonValue()),
              branches: fc.oneof(
                fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.jsonValue())),
                fc.jsonValue(),
              ),
              extra: fc.jsonValue(),
            },
            { requiredKeys: [] },
          ),
          fc.jsonValue(),
        ),
        { maxLength: 4 },
      ),
      fc.jsonValue(),
    ),
    layout: fc.oneof(
      fc.dictionary(
        fc.string(),
        fc.oneof(fc.record({ x: fc.double(), y: fc.jsonValue() }, { requiredKeys: [] }), fc.jsonValue()),
      ),
      fc.jsonValue(),
    ),
    extra: fc.jsonValue(),
  },
  { requiredKeys: [] },
);

describe('ScriptSchema', () => {
  test('accepts the format of DESIGN §3.1', () => {
    expect(Value.Check(ScriptSchema, EXAMPLE)).toBe(true);
  });

  test.each([
    ['no name', { actions: EXAMPLE.actions }],
    ['a name with a space', { ...EXAMPLE, name: 'end stuck chat' }],
    ['a name starting with a dot', { ...EXAMPLE, name: '.hidden' }],
    ['a name of 101 characters', { ...EXAMPLE, name: 'a'.repeat(101) }],
    ['an unknown mediaType', { ...EXAMPLE, mediaType: 'chat' }],
    ['no actions', { ...EXAMPLE, actions: [] }],
    ['an unknown top-level field', { ...EXAMPLE, version: 2 }],
    ['an unknown action field', { ...EXAMPLE, actions: [{ id: '1', action: 'BEGIN', branch: {} }] }],
    ['an id of 65 characters', { ...EXAMPLE, actions: [{ id: 'x'.repeat(65), action: 'BEGIN' }] }],
    ['a numeric id', { ...EXAMPLE, actions: [{ id: 1, action: 'BEGIN' }] }],
    [
      'an object property value',
      { ...EXAMPLE, actions: [{ id: '1', action: 'WAIT', properties: { Seconds: {} } }] },
    ],
    [
      'a numeric branch target',
      { ...EXAMPLE, actions: [{ id: '1', action: 'BEGIN', branches: { Default: 2 } }] },
    ],
    ['a layout without y', { ...EXAMPLE, layout: { '1': { x: 0 } } }],
  ])('rejects %s, as the validator does', (_, script) => {
    expect(Value.Check(ScriptSchema, script)).toBe(false);
    expect(validateScript(script, actions).some((f) => f.severity === 'error')).toBe(true);
  });

  test('is never stricter than the validator (what it rejects, the validator reports as an error)', () => {
    fc.assert(
      fc.property(nearScript, (script) => {
        // Without a format error, only the actions' rules can fail; the schema must then pass.
        const schemaOk = Value.Check(ScriptSchema, script);
        const findings = validateScript(script, actions);
        if (!schemaOk) expect(findings.some((f) => f.severity === 'error')).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  test('describes the Script type', () => {
    expectTypeOf<Static<typeof ScriptSchema>>().toExtend<Script>();
  });

  test('is published unchanged in schemas/script.schema.json', () => {
    const published = readFileSync(new URL('../../schemas/script.schema.json', import.meta.url), 'utf8');
    expect(published, 'schemas/script.schema.json is out of date: run `npm run docs`').toBe(
      `${JSON.stringify(ScriptSchema, null, 2)}\n`,
    );
  });
});
