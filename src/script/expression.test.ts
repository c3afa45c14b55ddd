import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import {
  type CompiledExpression,
  compileExpression,
  type ExpressionScope,
  isTruthy,
  MAX_DEPTH,
  MAX_SOURCE_LENGTH,
  MAX_TEXT_LENGTH,
  MAX_TEXT_PER_EVALUATION,
  TextTooLong,
  toNumber,
  toText,
} from './expression.js';
import { compileTemplate } from './template.js';

function scopeOf(vars: Record<string, unknown> = {}): ExpressionScope {
  const map = new Map(Object.entries(vars).map(([k, v]) => [k.toLowerCase(), v]));
  return { get: (name) => map.get(name) };
}

function compile(source: string): CompiledExpression {
  const result = compileExpression(source);
  if (!result.ok) throw new Error(`unexpected compile error: ${result.message}`);
  return result.value;
}

function evaluate(source: string, vars: Record<string, unknown> = {}): unknown {
  return compile(source)(scopeOf(vars));
}

function compileError(source: string): { message: string; position: number } {
  const result = compileExpression(source);
  if (result.ok) throw new Error(`expected a compile error for ${source}`);
  expect(result.code).toBe('InvalidExpression');
  expect(result.message).not.toContain('\n');
  return { message: result.message, position: result.position };
}

describe('literals', () => {
  it('reads integer and decimal numbers, with exponents', () => {
    expect(evaluate('42')).toBe(42);
    expect(evaluate('3.14')).toBe(3.14);
    expect(evaluate('2e3')).toBe(2000);
    expect(evaluate('-1')).toBe(-1);
  });

  it('reads single- and double-quoted strings with escapes for quotes and backslash', () => {
    expect(evaluate('"hello"')).toBe('hello');
    expect(evaluate("'it\\'s'")).toBe("it's");
    expect(evaluate('"say \\"hi\\""')).toBe('say "hi"');
    expect(evaluate("'a\\\\b'")).toBe('a\\b');
  });

  it('keeps a backslash that does not start a known escape', () => {
    expect(evaluate("'C:\\temp'")).toBe('C:\\temp');
  });

  it('reads true, false and null case-insensitively', () => {
    expect(evaluate('TRUE')).toBe(true);
    expect(evaluate('False')).toBe(false);
    expect(evaluate('null')).toBe(null);
  });
});

describe('precedence and associativity', () => {
  it('multiplies before adding', () => {
    expect(evaluate('1 + 2 * 3')).toBe(7);
    expect(evaluate('(1 + 2) * 3')).toBe(9);
    expect(evaluate('10 - 4 % 3')).toBe(9);
  });

  it('associates subtraction and division to the left', () => {
    expect(evaluate('10 - 3 - 2')).toBe(5);
    expect(evaluate('100 / 10 / 5')).toBe(2);
  });

  it('binds unary minus tighter than multiplication', () => {
    expect(evaluate('-2 * 3')).toBe(-6);
    expect(evaluate('2 - -3')).toBe(5);
    expect(evaluate('--4')).toBe(4);
  });

  it('binds and tighter than or', () => {
    expect(evaluate('true || false && false')).toBe(true);
    expect(evaluate('(true || false) && false')).toBe(false);
    expect(evaluate('false or true and true')).toBe(true);
  });

  it('binds relational tighter than equality and arithmetic tighter than both', () => {
    expect(evaluate('1 < 2 = true')).toBe(true);
    expect(evaluate('1 + 1 = 2')).toBe(true);
    expect(evaluate('2 * 3 > 5 and 1 + 1 <> 3')).toBe(true);
  });

  it('binds not tighter than equality, like !', () => {
    expect(evaluate('not x = 5', { x: 5 })).toBe(false); // (not 5) = 5
    expect(evaluate('not (x = 5)', { x: 4 })).toBe(true);
    expect(evaluate('!false && !0')).toBe(true);
  });
});

describe('operators', () => {
  it('accepts every equality spelling', () => {
    expect(evaluate('1 = 1')).toBe(true);
    expect(evaluate('1 == 1')).toBe(true);
    expect(evaluate('1 != 2')).toBe(true);
    expect(evaluate('1 <> 1')).toBe(false);
  });

  it('compares numerically when both sides are numeric', () => {
    expect(evaluate("'10' > '9'")).toBe(true);
    expect(evaluate("'10' = '10.0'")).toBe(true);
    expect(evaluate("' 7 ' = 7")).toBe(true);
    expect(evaluate('x >= 5', { x: '5' })).toBe(true);
    expect(evaluate('true = 1')).toBe(true);
  });

  it('compares text case-sensitively otherwise', () => {
    expect(evaluate("'abc' < 'abd'")).toBe(true);
    expect(evaluate("'abc' = 'ABC'")).toBe(false);
    expect(evaluate("'B' < 'a'")).toBe(true);
    expect(evaluate("'10' > 'abc'")).toBe(false);
    expect(evaluate("x = ''", {})).toBe(true);
    expect(evaluate('x = 0', {})).toBe(false);
    expect(evaluate("true = 'true'")).toBe(true);
  });

  it('adds numbers and concatenates anything else', () => {
    expect(evaluate("'1' + '2'")).toBe(3);
    expect(evaluate("'a' + 1")).toBe('a1');
    expect(evaluate("name + ' ' + 5", { name: 'ana' })).toBe('ana 5');
    expect(evaluate("missing + 'x'")).toBe('x');
  });

  it('does numeric arithmetic without throwing on bad input', () => {
    expect(evaluate("'abc' - 1")).toBeNaN();
    expect(evaluate('1 / 0')).toBe(Number.POSITIVE_INFINITY);
    expect(evaluate('0 / 0')).toBeNaN();
    expect(evaluate('5 % 0')).toBeNaN();
    expect(evaluate("'6' * '7'")).toBe(42);
  });

  it('short-circuits and and or and returns booleans', () => {
    const get = vi.fn(() => 1);
    expect(compile('false and x')({ get })).toBe(false);
    expect(compile('true or x')({ get })).toBe(true);
    expect(get).not.toHaveBeenCalled();
    expect(evaluate("'yes' && 1")).toBe(true);
  });
});

describe('variables', () => {
  it('reads bare, braced and mixed-case names through the lower-cased name', () => {
    const vars = { customername: 'Ana' };
    expect(evaluate('CustomerName', vars)).toBe('Ana');
    expect(evaluate('{customerNAME}', vars)).toBe('Ana');
    expect(evaluate('{ customername }', vars)).toBe('Ana');
  });

  it('accepts underscore-led system names', () => {
    expect(evaluate('__DISCONNECTREASON', { __disconnectreason: 'hangup' })).toBe('hangup');
    expect(evaluate('{_ERR}', { _err: 'x' })).toBe('x');
  });

  it('evaluates unknown variables to undefined, which is empty and false', () => {
    expect(evaluate('nope')).toBeUndefined();
    expect(isTruthy(evaluate('nope'))).toBe(false);
    expect(evaluate('isempty(nope)')).toBe(true);
  });

  it('reports the lower-cased root variable names once each', () => {
    const result = compileExpression("X > 5 && {Name} = 'ana' or x < 0 or customer.Address.city = 'x'");
    expect(result.ok && result.variables).toEqual(['x', 'name', 'customer']);
  });

  it('reads properties of object values with dotted access', () => {
    const vars = { customer: { name: 'Ana', address: { city: 'Lisbon' }, tags: ['vip'] } };
    expect(evaluate('customer.name', vars)).toBe('Ana');
    expect(evaluate('{customer.address.city}', vars)).toBe('Lisbon');
    expect(evaluate('Customer.Address.City', vars)).toBe('Lisbon');
    expect(evaluate('customer.tags.0', vars)).toBe('vip');
  });

  it('yields undefined for missing properties and non-object values', () => {
    const vars = { customer: { name: 'Ana' }, s: 'text', n: null };
    expect(evaluate('customer.missing.deeper', vars)).toBeUndefined();
    expect(evaluate('s.length', vars)).toBeUndefined();
    expect(evaluate('n.x', vars)).toBeUndefined();
    expect(evaluate('nope.x', vars)).toBeUndefined();
  });

  it('never reads prototype members, even own __proto__ keys from JSON', () => {
    const vars = { o: JSON.parse('{"__proto__": {"x": 1}, "a": {}}') };
    expect(evaluate('o.__proto__', vars)).toBeUndefined();
    expect(evaluate('o.__proto__.x', vars)).toBeUndefined();
    expect(evaluate('o.constructor', vars)).toBeUndefined();
    expect(evaluate('o.a.constructor.prototype', vars)).toBeUndefined();
    expect(evaluate('{o.CONSTRUCTOR}', vars)).toBeUndefined();
    expect(evaluate('o.toString', vars)).toBeUndefined();
    expect(evaluate('o.hasOwnProperty', vars)).toBeUndefined();
  });

  it('treats a throwing getter as a missing property', () => {
    const hostile = {
      get boom(): never {
        throw new Error('boom');
      },
    };
    expect(evaluate('o.boom', { o: hostile })).toBeUndefined();
  });
});

describe('functions', () => {
  it.each([
    ["len('abcd')", 4],
    ['len(x)', 0],
    ['len(42)', 2],
    ["upper('abc')", 'ABC'],
    ["LOWER('AbC')", 'abc'],
    ["trim('  a b  ')", 'a b'],
    ["contains('Hello World', 'WORLD')", true],
    ["contains('Hello', 'xyz')", false],
    ["startswith('Hello', 'He')", true],
    ["startswith('Hello', 'lo')", false],
    ["endswith('Hello', 'lo')", true],
    ["endswith('Hello', 'He')", false],
    ["isnumeric(' -1.5e3 ')", true],
    ["isnumeric('12abc')", false],
    ["isnumeric('')", false],
    ['isnumeric(true)', false],
    ['isnumeric(7)', true],
    ["isempty('')", true],
    ["isempty(' ')", false],
    ['isempty(null)', true],
    ['abs(-3)', 3],
    ["abs('-2.5')", 2.5],
    ['round(2.5)', 3],
    ['round(-2.5)', -3],
    ['round(1.005, 2)', 1.01],
    ['round(1234, -2)', 1200],
    ['round(-0.4)', 0],
    ['floor(-1.5)', -2],
    ['ceil(1.2)', 2],
    ["min(3, '2')", 2],
    ['max(3, 2)', 3],
    ['text(1 + 2) + 1', 4],
    ["text(true) + '!'", 'true!'],
    ["number('12') * 2", 24],
    ["number('x')", Number.NaN],
  ])('%s evaluates to %s', (source, expected) => {
    expect(evaluate(source)).toStrictEqual(expected);
  });

  it('calls functions on variables at evaluation time', () => {
    const f = compile('upper(name) = "ANA" and len(name) = 3');
    expect(f(scopeOf({ name: 'ana' }))).toBe(true);
    expect(f(scopeOf({ name: 'bob' }))).toBe(false);
  });

  it('accepts function names in any case and nested calls', () => {
    expect(evaluate('Round(ABS(x), 1)', { x: '-2.345' })).toBe(2.3);
  });
});

describe('compile errors', () => {
  it.each([
    ['a # b', 2, "'#'"],
    ['a & b', 2, "'&&'"],
    ["'abc", 0, 'Unterminated string'],
    ['1 + "x', 4, 'Unterminated string'],
    ['(a + b', 0, "Unclosed '('"],
    ['(a b)', 3, "Expected ')' but found 'b'"],
    ['a + b)', 5, "Unmatched ')'"],
    ['', 0, 'Empty expression'],
    ['   ', 0, 'Empty expression'],
    ['()', 1, "Expected a value but found ')'"],
    ['a +', 3, 'Unexpected end of expression'],
    ['a + * b', 4, "Expected a value but found '*'"],
    ['and b', 0, "Expected a value but found 'and'"],
    ['a b', 2, "Unexpected 'b'"],
    ["x = 'a' 'b'", 8, "Unexpected ''b''"],
    ['{abc', 0, "Unclosed '{'"],
    ['{1abc}', 0, "Invalid variable reference '{1abc}'"],
    ['{}', 0, 'Invalid variable reference'],
    ['1.', 1, "'.'"],
  ])('%j fails at position %i mentioning %s', (source, position, fragment) => {
    const error = compileError(source);
    expect(error.position).toBe(position);
    expect(error.message).toContain(fragment);
  });

  it('names unknown functions, suggests the closest and lists the known ones', () => {
    const error = compileError('1 + lenght(x)');
    expect(error.position).toBe(4);
    expect(error.message).toContain("Unknown function 'lenght'");
    expect(error.message).toContain("did you mean 'len'?");
    expect(error.message).toContain('abs, ceil, contains');
  });

  it('does not resolve functions through the object prototype', () => {
    expect(compileError('constructor(1)').message).toContain("Unknown function 'constructor'");
    expect(compileError('toString(1)').message).toContain("Unknown function 'toString'");
  });

  it('reports wrong arity with the expected count', () => {
    expect(compileError('len()')).toMatchObject({
      position: 0,
      message: expect.stringContaining('len expects 1 argument but got 0'),
    });
    expect(compileError('x + contains(a)').message).toContain('contains expects 2 arguments but got 1');
    expect(compileError('round(1, 2, 3)').message).toContain('round expects 1 or 2 arguments but got 3');
  });

  it('reports broken argument lists', () => {
    expect(compileError('min(1 2)')).toMatchObject({
      position: 6,
      message: expect.stringContaining("Expected ',' or ')'"),
    });
    expect(compileError('min(1, 2')).toMatchObject({
      position: 3,
      message: expect.stringContaining("Unclosed '('"),
    });
    expect(compileError('min(1,)').position).toBe(6);
  });

  it('rejects source longer than the limit instead of parsing it', () => {
    const error = compileError('1+'.repeat(MAX_SOURCE_LENGTH / 2) + '1');
    expect(error.message).toContain('too long');
    expect(error.position).toBe(MAX_SOURCE_LENGTH);
  });

  it('rejects nesting deeper than the limit instead of overflowing the stack', () => {
    const depth = MAX_DEPTH + 5;
    expect(compileError(`${'('.repeat(depth)}1${')'.repeat(depth)}`).message).toContain('nested too deeply');
    expect(compileError(`${'!'.repeat(depth)}x`).message).toContain('nested too deeply');
    expect(compileError(`${'abs('.repeat(depth)}x${')'.repeat(depth)}`).message).toContain(
      'nested too deeply',
    );
    expect(compileError(Array.from({ length: depth + 1 }, () => 'x').join(' + ')).message).toContain(
      'nested too deeply',
    );
  });

  it('accepts nesting just under the limit', () => {
    const depth = MAX_DEPTH - 10;
    expect(evaluate(`${'('.repeat(depth)}x${')'.repeat(depth)}`, { x: 1 })).toBe(1);
    expect(evaluate(Array.from({ length: depth }, () => 'x').join(' + '), { x: 1 })).toBe(depth);
  });
});

describe('isTruthy', () => {
  it.each([
    [true, true],
    [false, false],
    [1, true],
    [-0.5, true],
    [0, false],
    [Number.NaN, false],
    ['yes', true],
    ['False', false],
    ['FALSE', false],
    ['false', false],
    ['0', false],
    ['', false],
    ['00', true],
    [' ', true],
    [null, false],
    [undefined, false],
    [{}, false],
  ])('%j is %s', (value, expected) => {
    expect(isTruthy(value)).toBe(expected);
  });
});

describe('toText and toNumber', () => {
  it('renders values as text', () => {
    expect(toText('a')).toBe('a');
    expect(toText(0.1 + 0.2)).toBe('0.30000000000000004');
    expect(toText(true)).toBe('true');
    expect(toText(null)).toBe('');
    expect(toText(undefined)).toBe('');
    expect(toText({ a: [1, 'x'] })).toBe('{"a":[1,"x"]}');
  });

  it('renders unserialisable objects as empty text instead of throwing', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(toText(cyclic)).toBe('');
    expect(toText({ big: 1n })).toBe('');
  });

  it('parses only decimal numeric strings', () => {
    expect(toNumber(' 12.5 ')).toBe(12.5);
    expect(toNumber('-3e2')).toBe(-300);
    expect(toNumber('.5')).toBe(0.5);
    expect(toNumber(true)).toBe(1);
    expect(toNumber(false)).toBe(0);
    for (const bad of ['', ' ', '0x10', 'Infinity', '1_000', '12abc', '1e', null, undefined, {}, []]) {
      expect(toNumber(bad)).toBeNaN();
    }
  });

  it('rejects a long non-numeric digit run in linear time', () => {
    expect(toNumber(`${'1'.repeat(100_000)}x`)).toBeNaN();
  });
});

describe('evaluation cost', () => {
  it('does no tokenizing or parsing when a compiled expression runs', () => {
    const f = compile("x > 5 && name = 'ana'");
    const get = vi.fn((name: string) => (name === 'x' ? 7 : 'ana'));
    // The tokenizer reads the source with charCodeAt; evaluation must never touch it.
    const charCodeAt = vi.spyOn(String.prototype, 'charCodeAt');
    let trueCount = 0;
    try {
      for (let i = 0; i < 1000; i++) if (f({ get }) === true) trueCount++;
    } finally {
      charCodeAt.mockRestore();
    }
    expect(charCodeAt).not.toHaveBeenCalled();
    expect(trueCount).toBe(1000);
    expect(get.mock.calls.map((c) => c[0])).toEqual(Array.from({ length: 1000 }, () => ['x', 'name']).flat());
  });

  it('folds constant sub-expressions at compile time', () => {
    const get = vi.fn(() => undefined);
    expect(compile("len('abc') * 2 + 1")({ get })).toBe(7);
    expect(get).not.toHaveBeenCalled();
  });
});

describe('the size of the text an expression or a template builds', () => {
  const half = 'x'.repeat(MAX_TEXT_LENGTH / 2);

  it('builds a text up to MAX_TEXT_LENGTH and refuses one longer, without building it', () => {
    expect(evaluate('len({a} + {a})', { a: half })).toBe(MAX_TEXT_LENGTH);
    const doubling = compile('{a} + {a} + "!"');
    expect(() => doubling(scopeOf({ a: half }))).toThrow(TextTooLong);
    expect(() => doubling(scopeOf({ a: half }))).toThrow(
      `text too long: ${MAX_TEXT_LENGTH + 1} characters or more; a value may have at most ${MAX_TEXT_LENGTH} (MAX_TEXT_LENGTH)`,
    );
  });

  it('refuses what a text function would make too long', () => {
    // 'ß' upper-cases to 'SS': the text doubles.
    const sharp = 'ß'.repeat(MAX_TEXT_LENGTH / 2 + 1);
    expect(() => evaluate('upper({a})', { a: sharp })).toThrow(TextTooLong);
    expect(() => evaluate('text({a})', { a: { long: half + half } })).toThrow(TextTooLong);
    expect(evaluate('len(text({a}))', { a: half + half })).toBe(MAX_TEXT_LENGTH);
  });

  it('bounds all the text one evaluation builds, so that one long expression stays a short step', () => {
    const each = MAX_TEXT_LENGTH / 2;
    const terms = MAX_TEXT_PER_EVALUATION / each + 1;
    const many = compile(Array.from({ length: terms }, () => 'len(upper({a}))').join(' + '));
    expect(() => many(scopeOf({ a: half }))).toThrow(
      `text too long: one evaluation may build at most ${MAX_TEXT_PER_EVALUATION} characters in all (MAX_TEXT_PER_EVALUATION)`,
    );
    // Each evaluation counts afresh, and a refused one leaves nothing behind.
    const few = compile(Array.from({ length: terms - 2 }, () => 'len(upper({a}))').join(' + '));
    expect(few(scopeOf({ a: half }))).toBe((terms - 2) * each);
    expect(few(scopeOf({ a: half }))).toBe((terms - 2) * each);
    expect(evaluate('upper({a}) = upper({a})', { a: half })).toBe(true);
  });

  it('stops a template at MAX_TEXT_LENGTH as it builds it', () => {
    const template = compileTemplate('{a}{a}{a}{a}');
    expect(template({ get: () => 'x'.repeat(MAX_TEXT_LENGTH / 4) })).toHaveLength(MAX_TEXT_LENGTH);
    let reads = 0;
    const reader = {
      get: () => {
        reads++;
        return half;
      },
    };
    expect(() => template(reader)).toThrow(TextTooLong);
    expect(reads).toBe(3);
  });
});

describe('properties', () => {
  it('never throws while compiling arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (source) => {
        compileExpression(source);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws while compiling or evaluating expression-like strings on arbitrary values', () => {
    const piece = fc.constantFrom(
      'x',
      'y.a',
      '{z}',
      '1',
      '2.5',
      "'s'",
      '"t"',
      '(',
      ')',
      '+',
      '-',
      '*',
      '/',
      '%',
      '=',
      '<>',
      '<',
      '>=',
      '&&',
      'or',
      'not',
      '!',
      ',',
      'len(',
      'round(',
      'contains(',
      'max(',
      'true',
      'null',
      ' ',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 25 }), fc.anything(), fc.anything(), (pieces, x, y) => {
        const result = compileExpression(pieces.join(''));
        if (result.ok) result.value(scopeOf({ x, y: { a: y }, z: y }));
      }),
      { numRuns: 3000 },
    );
  });

  it('computes a + b * 2 like JavaScript for integers', () => {
    const f = compile('a + b * 2');
    fc.assert(
      fc.property(fc.integer(), fc.integer(), (a, b) => {
        expect(f(scopeOf({ a, b }))).toBe(a + b * 2);
        expect(f(scopeOf({ a: String(a), b: String(b) }))).toBe(a + b * 2);
      }),
    );
  });

  it('round-trips finite numbers through toText and toNumber', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
        expect(toNumber(toText(n)) === n).toBe(true);
      }),
    );
  });
});
