import { describe, expect, test } from 'vitest';
import { parseScriptText } from './load.js';

function onlyError(text: string) {
  const { value, findings } = parseScriptText(text);
  expect(value).toBeUndefined();
  expect(findings).toHaveLength(1);
  const [finding] = findings;
  expect(finding).toMatchObject({ severity: 'error', actionId: null, path: '$' });
  return finding!;
}

describe('parseScriptText', () => {
  test('reads a JSON script with no findings', () => {
    const parsed = parseScriptText('{ "name": "x", "actions": [] }');
    expect(parsed.value).toEqual({ name: 'x', actions: [] });
    expect(parsed.findings).toEqual([]);
  });

  test('accepts a leading byte-order mark', () => {
    const parsed = parseScriptText('\uFEFF{ "name": "x" }');
    expect(parsed.value).toEqual({ name: 'x' });
    expect(parsed.findings).toEqual([]);
  });

  test('reports an empty file', () => {
    expect(onlyError('')).toMatchObject({ message: 'file is empty', line: 1, column: 1 });
    expect(onlyError(' \n\t\n')).toMatchObject({ message: 'file is empty' });
  });

  test('reports a trailing comma at the comma, with a hint to remove it', () => {
    const finding = onlyError('{\n  "name": "x",\n  "actions": [],\n}');
    expect(finding).toMatchObject({
      message: "malformed JSON: trailing comma before '}' (line 3, column 16)",
      hint: expect.stringContaining('remove the comma'),
      line: 3,
      column: 16,
    });
  });

  test('reports a trailing comma in an array', () => {
    expect(onlyError('[1, 2,\n]')).toMatchObject({
      message: expect.stringContaining("trailing comma before ']'"),
      line: 1,
      column: 6,
    });
  });

  test('reports a missing comma between members', () => {
    const finding = onlyError('{\n  "name": "x"\n  "actions": []\n}');
    expect(finding).toMatchObject({
      message: "malformed JSON: expected a comma or '}' (line 3, column 3)",
      line: 3,
      column: 3,
    });
  });

  test('reports a missing comma between array elements', () => {
    expect(onlyError('[1 2]').message).toContain("expected a comma or ']'");
  });

  test('rejects comments', () => {
    expect(onlyError('// a script\n{}')).toMatchObject({
      message: expect.stringContaining('comments are not allowed'),
      line: 1,
      column: 1,
    });
    expect(onlyError('{ "name": /* x */ "y" }')).toMatchObject({ line: 1, column: 11 });
  });

  test('reports a truncated file', () => {
    const finding = onlyError('{\n  "name": "x",\n  "actions": [\n    { "id": "1"');
    expect(finding.message).toContain('the file ends before');
    expect(finding.line).toBe(4);
  });

  test('reports an unterminated string', () => {
    expect(onlyError('{ "name": "x }')).toMatchObject({
      message: expect.stringContaining('unterminated string'),
      column: 11,
    });
  });

  test('reports binary garbage as one error', () => {
    const finding = onlyError('\u0000\u0001\u00ff\u0002PK\u0003\u0004');
    expect(finding.message).toMatch(/^malformed JSON: unexpected '.*' \(line 1, column 1\)$/);
    expect([...finding.message].every((c) => c >= ' ')).toBe(true);
  });

  test('reports unquoted property names', () => {
    expect(onlyError('{ name: "x" }').message).toContain(
      "expected a property name in double quotes, not 'name'",
    );
  });

  test('reports text after the JSON value', () => {
    expect(onlyError('{}\n}').message).toContain("unexpected '}' after the end of the JSON value");
  });

  test('counts lines after CRLF line breaks', () => {
    expect(onlyError('{\r\n  "a": 1,\r\n}')).toMatchObject({ line: 2, column: 9 });
  });

  test('does not overflow the stack on deeply nested input', () => {
    expect(() => parseScriptText('['.repeat(100_000))).not.toThrow();
    expect(onlyError(`${'['.repeat(100_000)}${']'.repeat(100_000)}`).message).toContain('nested too deeply');
  });

  test('keeps a "__proto__" key as an own property instead of a prototype', () => {
    const { value } = parseScriptText('{ "__proto__": { "polluted": true } }');
    expect(Object.hasOwn(value as object, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect((value as { polluted?: boolean }).polluted).toBeUndefined();
  });

  test('warns about a key written twice in one object', () => {
    const { findings } = parseScriptText(
      '{\n  "actions": [ { "branches": { "Default": "2",\n "Default": "3" } } ]\n}',
    );
    expect(findings).toEqual([
      {
        severity: 'warning',
        actionId: null,
        path: '$.actions[0].branches.Default',
        message: "'Default' is written twice in the same object; only the last one counts",
        hint: 'remove one of them',
        line: 3,
        column: 2,
      },
    ]);
  });

  test('locates members and elements by path', () => {
    const { locate } = parseScriptText(
      '{\n  "name": "x",\n  "actions": [\n    { "id": "1", "action": "BEGIN" }\n  ]\n}',
    );
    expect(locate([])).toEqual({ line: 1, column: 1 });
    expect(locate(['name'])).toEqual({ line: 2, column: 3 });
    expect(locate(['actions', 0])).toEqual({ line: 4, column: 5 });
    expect(locate(['actions', 0, 'action'])).toEqual({ line: 4, column: 18 });
  });

  test('locates a missing path at its nearest existing ancestor', () => {
    const { locate } = parseScriptText('{\n  "actions": [\n    { "id": "1" }\n  ]\n}');
    expect(locate(['actions', 0, 'properties', 'ContactID'])).toEqual({ line: 3, column: 5 });
  });

  test('names the element a duplicate key is in, however far down a long array', () => {
    const elements = Array.from({ length: 500 }, (_, i) => (i === 420 ? '{ "id": "a", "id": "b" }' : '{}'));
    const { findings } = parseScriptText(`{ "actions": [\n${elements.join(',\n')}\n] }`);
    expect(findings).toEqual([expect.objectContaining({ path: '$.actions[420].id', line: 422 })]);
  });

  test('locates a key written twice at its first member, in an object of many members', () => {
    const members = Array.from({ length: 500 }, (_, i) => `"k${i}": ${i}`);
    const { locate } = parseScriptText(`{\n${members.join(',\n')},\n"k7": 0\n}`);
    expect(locate(['k7'])).toEqual({ line: 9, column: 1 });
    expect(locate(['k499'])).toEqual({ line: 501, column: 1 });
    expect(locate(['k500'])).toEqual({ line: 1, column: 1 });
  });

  test('locates nothing in text that is not JSON', () => {
    expect(parseScriptText('{').locate([])).toBeUndefined();
  });
});
