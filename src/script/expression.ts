/**
 * The safe expression language of IF and numeric ASSIGN. Source is tokenized and parsed once into a tree
 * of closures; evaluation only calls those closures, so it never re-parses and never uses eval. It never
 * throws either, but for one refusal: building more text than MAX_TEXT_LENGTH allows throws `TextTooLong`,
 * which the run's one catch boundary turns into `_ERR` and the action's error branch.
 */

import type { Failure, Ok } from '../result.js';

/** Variables are looked up by lower-cased name. A value may be string, number, boolean, null, or a JSON object/array (for dotted access). */
export interface ExpressionScope {
  get(lowerName: string): unknown;
}
export type CompiledExpression = (scope: ExpressionScope) => unknown;
export type CompileResult =
  /** `variables`: the lower-cased root variable names the expression reads. */
  | (Ok<CompiledExpression> & { variables: string[] })
  /** `position`: where in the source the problem is. */
  | (Failure<'InvalidExpression'> & { position: number });

export const MAX_SOURCE_LENGTH = 10_000;
/** Bounds parser recursion and the depth of the closure tree, so neither can overflow the stack. */
export const MAX_DEPTH = 200;

/**
 * Longest text an expression (`+`, the text functions) or a `{var}` template may build, in characters:
 * longer is refused before it is built, so no script can exhaust memory or spend seconds in one concat.
 */
export const MAX_TEXT_LENGTH = 1_000_000;
/** All the text one evaluation of an expression may build, so that one long expression stays a short step. */
export const MAX_TEXT_PER_EVALUATION = 10 * MAX_TEXT_LENGTH;

/** A value refused for its size (see MAX_TEXT_LENGTH); its message is what `_ERR` says. */
export class TextTooLong extends Error {
  override readonly name = 'TextTooLong';
}

/** The refusal of a text of `length` characters (or more: a template stops building at the limit). */
export function textTooLong(length: number): TextTooLong {
  return new TextTooLong(
    `text too long: ${length} characters or more; a value may have at most ${MAX_TEXT_LENGTH} (MAX_TEXT_LENGTH)`,
  );
}

/**
 * Text built by the evaluation under way, while `counting`: only an expression with more operations
 * that build text than MAX_TEXT_PER_EVALUATION / MAX_TEXT_LENGTH counts (see `compileExpression`);
 * the others stay within it by construction and pay nothing. Evaluations never interleave.
 */
let builtText = 0;
let counting = false;

/** Checks text an evaluation builds against both limits. */
function built(text: string): string {
  if (text.length > MAX_TEXT_LENGTH) throw textTooLong(text.length);
  if (!counting) return text;
  builtText += text.length;
  if (builtText > MAX_TEXT_PER_EVALUATION) {
    throw new TextTooLong(
      `text too long: one evaluation may build at most ${MAX_TEXT_PER_EVALUATION} characters in all (MAX_TEXT_PER_EVALUATION)`,
    );
  }
  return text;
}

// ---------------------------------------------------------------------------------------------------------
// Value conversions

// Unambiguous on purpose: a long run of digits must not cause catastrophic backtracking.
const DECIMAL = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/** Numeric form: numbers as is; strings that are numeric (trimmed, decimal, optional sign/exponent) as numbers; true→1,false→0; else NaN. */
export function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return DECIMAL.test(value) ? Number(value) : Number.NaN;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return Number.NaN;
}

/** Text form of a value as substituted into properties: strings as is, numbers via String(), booleans 'true'/'false', null/undefined '', objects/arrays as JSON ('' if unserialisable). */
export function toText(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'symbol':
      return String(value);
    case 'object':
      if (value === null) return '';
      try {
        return JSON.stringify(value) ?? '';
      } catch {
        return ''; // cycles, BigInt members, throwing toJSON
      }
    default:
      return '';
  }
}

/** Studio truthiness used by IF: true, non-zero numbers, and non-empty strings other than 'false'/'0' (case-insensitive) are true. */
export function isTruthy(value: unknown): boolean {
  if (value === true) return true;
  if (typeof value === 'number') return value !== 0 && !Number.isNaN(value);
  if (typeof value === 'string') {
    if (value.length === 0 || value === '0') return false;
    return value.length !== 5 || value.toLowerCase() !== 'false';
  }
  return false;
}

function compare(a: unknown, b: unknown): number {
  const x = toNumber(a);
  const y = toNumber(b);
  if (!Number.isNaN(x) && !Number.isNaN(y)) return x < y ? -1 : x > y ? 1 : 0;
  const s = toText(a);
  const t = toText(b);
  return s < t ? -1 : s > t ? 1 : 0;
}

function equals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const x = toNumber(a);
  const y = toNumber(b);
  if (!Number.isNaN(x) && !Number.isNaN(y)) return x === y;
  return toText(a) === toText(b);
}

function add(a: unknown, b: unknown): unknown {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  const x = toNumber(a);
  const y = toNumber(b);
  if (!Number.isNaN(x) && !Number.isNaN(y)) return x + y;
  const s = toText(a);
  const t = toText(b);
  // Checked before concatenating: the refused text is never built.
  if (s.length + t.length > MAX_TEXT_LENGTH) throw textTooLong(s.length + t.length);
  return built(s + t);
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

/** Own property of an object value, matched exactly first and then case-insensitively; never throws. */
function member(target: unknown, key: string, lowerKey: string): unknown {
  if (target === null || typeof target !== 'object') return undefined;
  const record = target as Record<string, unknown>;
  try {
    if (Object.hasOwn(record, key)) return record[key];
    for (const k in record) {
      if (k.toLowerCase() === lowerKey && Object.hasOwn(record, k)) return record[k];
    }
  } catch {
    // A hostile getter or proxy trap: treat as missing.
  }
  return undefined;
}

/** Reads `a.b.c` from a variable value: the one lookup behind `{a.b.c}` placeholders and expressions. */
export function readPath(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    if (FORBIDDEN_KEYS.has(key)) return undefined;
    current = member(current, key, key.toLowerCase());
    if (current === undefined) return undefined;
  }
  return current;
}

// ---------------------------------------------------------------------------------------------------------
// Functions

/** Moves the decimal point by `digits` through the string form, avoiding binary scaling errors (1.005 → 1.01). */
function shift(n: number, digits: number): number {
  const [mantissa = '', exponent = '0'] = String(n).split('e');
  return Number(`${mantissa}e${Number(exponent) + digits}`);
}

/** Rounds half away from zero. */
function round(value: number, digits: number): number {
  if (Number.isNaN(digits)) return Number.NaN;
  if (!Number.isFinite(value)) return value;
  const d = Math.max(-400, Math.min(400, Math.trunc(digits)));
  const abs = Math.abs(value);
  let r: number;
  if (d === 0) r = Math.round(abs);
  else {
    const scaled = shift(abs, d);
    if (!Number.isFinite(scaled)) return value;
    r = shift(Math.round(scaled), -d);
  }
  return r === 0 ? 0 : value < 0 ? -r : r;
}

function isNumeric(x: unknown): boolean {
  return (typeof x === 'number' || typeof x === 'string') && !Number.isNaN(toNumber(x));
}

interface FunctionSpec {
  readonly min: number;
  readonly max: number;
  /** How many texts a call builds (each at most MAX_TEXT_LENGTH). */
  readonly builds?: number;
  /** One-argument calls receive `b === undefined`. */
  readonly call: (a: unknown, b: unknown) => unknown;
}

// A Map, not an object literal, so `constructor(x)` cannot reach Object.prototype.
const FUNCTIONS = new Map<string, FunctionSpec>([
  ['len', { min: 1, max: 1, call: (a) => toText(a).length }],
  ['upper', { min: 1, max: 1, builds: 1, call: (a) => built(toText(a).toUpperCase()) }],
  ['lower', { min: 1, max: 1, builds: 1, call: (a) => built(toText(a).toLowerCase()) }],
  ['trim', { min: 1, max: 1, call: (a) => toText(a).trim() }],
  [
    'contains',
    {
      min: 2,
      max: 2,
      builds: 2,
      call: (a, b) => built(toText(a).toLowerCase()).includes(built(toText(b).toLowerCase())),
    },
  ],
  ['startswith', { min: 2, max: 2, call: (a, b) => toText(a).startsWith(toText(b)) }],
  ['endswith', { min: 2, max: 2, call: (a, b) => toText(a).endsWith(toText(b)) }],
  ['isnumeric', { min: 1, max: 1, call: (a) => isNumeric(a) }],
  ['isempty', { min: 1, max: 1, call: (a) => toText(a) === '' }],
  ['abs', { min: 1, max: 1, call: (a) => Math.abs(toNumber(a)) }],
  ['round', { min: 1, max: 2, call: (a, b) => round(toNumber(a), b === undefined ? 0 : toNumber(b)) }],
  ['floor', { min: 1, max: 1, call: (a) => Math.floor(toNumber(a)) }],
  ['ceil', { min: 1, max: 1, call: (a) => Math.ceil(toNumber(a)) }],
  ['min', { min: 2, max: 2, call: (a, b) => Math.min(toNumber(a), toNumber(b)) }],
  ['max', { min: 2, max: 2, call: (a, b) => Math.max(toNumber(a), toNumber(b)) }],
  ['text', { min: 1, max: 1, builds: 1, call: (a) => (typeof a === 'string' ? a : built(toText(a))) }],
  ['number', { min: 1, max: 1, call: (a) => toNumber(a) }],
]);

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
    }
    prev = row;
  }
  return prev[b.length]!;
}

function unknownFunctionMessage(name: string): string {
  const known = [...FUNCTIONS.keys()].sort();
  let best = '';
  let bestDistance = name.length <= 4 ? 3 : 4; // suggest within 2 edits, or 3 for longer names
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  const hint = best ? ` (did you mean '${best}'?)` : '';
  return `Unknown function ${quote(name)}${hint}; known functions: ${known.join(', ')}`;
}

// ---------------------------------------------------------------------------------------------------------
// Tokenizer

type TokenKind = 'number' | 'string' | 'name' | 'variable' | 'op' | 'end';
interface Token {
  readonly kind: TokenKind;
  /** Source text, for messages. */
  readonly text: string;
  readonly pos: number;
  /** Number literal value, unescaped string, variable path, or normalised operator. */
  readonly value: string | number;
}

class CompileError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
}

function quote(text: string): string {
  const short = text.length > 30 ? `${text.slice(0, 30)}…` : text;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping control characters keeps messages on one line
  return `'${short.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}'`;
}

/** Operators by source spelling, mapped to one normalised spelling each. */
const TWO_CHAR_OPS = new Map(
  Object.entries({ '==': '=', '!=': '!=', '<>': '!=', '<=': '<=', '>=': '>=', '&&': '&&', '||': '||' }),
);
const ONE_CHAR_OPS = new Set(['=', '<', '>', '!', '+', '-', '*', '/', '%', '(', ')', ',']);
const KEYWORD_OPS = new Map(Object.entries({ and: '&&', or: '||', not: '!' }));
const VARIABLE_PATH = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*$/;

const isDigit = (c: number) => c >= 48 && c <= 57;
const isIdentStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isIdentPart = (c: number) => isIdentStart(c) || isDigit(c);
const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13) || c === 0xa0;

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  const n = src.length;
  let i = 0;
  while (i < n) {
    const c = src.charCodeAt(i);
    const start = i;
    if (isSpace(c)) {
      i++;
    } else if (isDigit(c)) {
      while (isDigit(src.charCodeAt(i))) i++;
      if (src.charCodeAt(i) === 46 && isDigit(src.charCodeAt(i + 1))) {
        i++;
        while (isDigit(src.charCodeAt(i))) i++;
      }
      const e = src.charCodeAt(i);
      if (e === 101 || e === 69) {
        const sign = src.charCodeAt(i + 1);
        const digitsAt = sign === 43 || sign === 45 ? i + 2 : i + 1;
        if (isDigit(src.charCodeAt(digitsAt))) {
          i = digitsAt;
          while (isDigit(src.charCodeAt(i))) i++;
        }
      }
      const text = src.slice(start, i);
      tokens.push({ kind: 'number', text, pos: start, value: Number(text) });
    } else if (isIdentStart(c)) {
      i++;
      for (;;) {
        while (isIdentPart(src.charCodeAt(i))) i++;
        if (src.charCodeAt(i) !== 46 || !isIdentPart(src.charCodeAt(i + 1))) break;
        i++;
      }
      const text = src.slice(start, i);
      const op = KEYWORD_OPS.get(text.toLowerCase());
      tokens.push(
        op ? { kind: 'op', text, pos: start, value: op } : { kind: 'name', text, pos: start, value: text },
      );
    } else if (c === 34 || c === 39) {
      let value = '';
      let segment = ++i;
      for (;;) {
        if (i >= n) {
          throw new CompileError(
            `Unterminated string ${quote(src.slice(start))} starting at position ${start}`,
            start,
          );
        }
        const d = src.charCodeAt(i);
        if (d === c) break;
        const escaped = d === 92 ? src.charCodeAt(i + 1) : -1;
        // Only \\, \" and \' are escapes; any other backslash is kept literally (C:\temp stays as written).
        if (escaped === 92 || escaped === 34 || escaped === 39) {
          value += src.slice(segment, i) + src[i + 1];
          i += 2;
          segment = i;
        } else i++;
      }
      value += src.slice(segment, i++);
      tokens.push({ kind: 'string', text: src.slice(start, i), pos: start, value });
    } else if (c === 123) {
      const close = src.indexOf('}', i);
      if (close < 0) throw new CompileError(`Unclosed '{' at position ${start}`, start);
      const text = src.slice(start, close + 1);
      const path = text.slice(1, -1).trim();
      if (!VARIABLE_PATH.test(path)) {
        throw new CompileError(`Invalid variable reference ${quote(text)} at position ${start}`, start);
      }
      i = close + 1;
      tokens.push({ kind: 'variable', text, pos: start, value: path });
    } else {
      const two = src.slice(i, i + 2);
      const twoOp = TWO_CHAR_OPS.get(two);
      const one = src[i]!;
      if (twoOp) {
        i += 2;
        tokens.push({ kind: 'op', text: two, pos: start, value: twoOp });
      } else if (ONE_CHAR_OPS.has(one)) {
        i++;
        tokens.push({ kind: 'op', text: one, pos: start, value: one });
      } else {
        const ch = String.fromCodePoint(src.codePointAt(i)!);
        const hint = ch === '&' || ch === '|' ? ` (did you mean '${ch}${ch}'?)` : '';
        throw new CompileError(`Unexpected character ${quote(ch)} at position ${start}${hint}`, start);
      }
    }
  }
  tokens.push({ kind: 'end', text: '', pos: n, value: '' });
  return tokens;
}

// ---------------------------------------------------------------------------------------------------------
// Parser: precedence climbing straight to closures

interface Node {
  readonly fn: CompiledExpression;
  readonly isConst: boolean;
  /** Height of the closure tree, i.e. the evaluation's recursion depth. */
  readonly height: number;
}

/** Binary operators from lowest to highest precedence level. */
const LEVELS = [['||'], ['&&'], ['=', '!='], ['<', '<=', '>', '>='], ['+', '-'], ['*', '/', '%']];
const PRECEDENCE = new Map(LEVELS.flatMap((ops, level) => ops.map((op) => [op, level + 1] as const)));

const EMPTY_SCOPE: ExpressionScope = { get: () => undefined };

function constant(value: unknown): Node {
  return { fn: () => value, isConst: true, height: 1 };
}

/** Every operator is pure, so a node whose operands are all constant is evaluated now, once. */
function node(fn: CompiledExpression, operands: readonly Node[]): Node {
  if (operands.every((o) => o.isConst)) return constant(fn(EMPTY_SCOPE));
  return { fn, isConst: false, height: 1 + Math.max(...operands.map((o) => o.height)) };
}

function unaryNode(op: string, operand: Node): Node {
  const f = operand.fn;
  if (op === '-') return node((s) => -toNumber(f(s)), [operand]);
  return node((s) => !isTruthy(f(s)), [operand]);
}

function binaryNode(op: string, left: Node, right: Node): Node {
  const l = left.fn;
  const r = right.fn;
  const operands = [left, right];
  switch (op) {
    case '||':
      return node((s) => isTruthy(l(s)) || isTruthy(r(s)), operands);
    case '&&':
      return node((s) => isTruthy(l(s)) && isTruthy(r(s)), operands);
    case '=':
      return node((s) => equals(l(s), r(s)), operands);
    case '!=':
      return node((s) => !equals(l(s), r(s)), operands);
    case '<':
      return node((s) => compare(l(s), r(s)) < 0, operands);
    case '<=':
      return node((s) => compare(l(s), r(s)) <= 0, operands);
    case '>':
      return node((s) => compare(l(s), r(s)) > 0, operands);
    case '>=':
      return node((s) => compare(l(s), r(s)) >= 0, operands);
    case '+':
      return node((s) => add(l(s), r(s)), operands);
    case '-':
      return node((s) => toNumber(l(s)) - toNumber(r(s)), operands);
    case '*':
      return node((s) => toNumber(l(s)) * toNumber(r(s)), operands);
    case '/':
      return node((s) => toNumber(l(s)) / toNumber(r(s)), operands);
    default:
      return node((s) => toNumber(l(s)) % toNumber(r(s)), operands);
  }
}

class Parser {
  private index = 0;
  private depth = 0;
  readonly variables = new Set<string>();
  /** Operations that build a text (`+`, upper…): what bounds the text one evaluation builds. */
  textBuilds = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  parse(): Node {
    if (this.peek().kind === 'end') throw new CompileError('Empty expression', 0);
    const result = this.expression();
    const t = this.peek();
    if (t.kind === 'end') return result;
    if (t.value === ')' && t.kind === 'op') {
      throw new CompileError(`Unmatched ')' at position ${t.pos}`, t.pos);
    }
    throw new CompileError(
      `Unexpected ${quote(t.text)} at position ${t.pos} after a complete expression`,
      t.pos,
    );
  }

  private peek(): Token {
    return this.tokens[this.index]!;
  }

  private next(): Token {
    const t = this.tokens[this.index]!;
    if (t.kind !== 'end') this.index++;
    return t;
  }

  private isOp(value: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.value === value;
  }

  private enter(pos: number): void {
    if (++this.depth > MAX_DEPTH) throw tooDeep(pos);
  }

  private expression(): Node {
    this.enter(this.peek().pos);
    const result = this.binary(1);
    this.depth--;
    return result;
  }

  private binary(minPrecedence: number): Node {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      const precedence = t.kind === 'op' ? (PRECEDENCE.get(t.value as string) ?? 0) : 0;
      if (precedence < minPrecedence) return left;
      this.index++;
      // Left-associative: the right operand binds only tighter operators.
      if (t.value === '+') this.textBuilds++;
      left = binaryNode(t.value as string, left, this.binary(precedence + 1));
      if (left.height > MAX_DEPTH) throw tooDeep(t.pos);
    }
  }

  private unary(): Node {
    const t = this.peek();
    if (t.kind === 'op' && (t.value === '!' || t.value === '-')) {
      this.index++;
      this.enter(t.pos);
      const operand = this.unary();
      this.depth--;
      return unaryNode(t.value, operand);
    }
    return this.primary();
  }

  private primary(): Node {
    const t = this.next();
    if (t.kind === 'number' || t.kind === 'string') return constant(t.value);
    if (t.kind === 'variable') return this.variable(t.value as string);
    if (t.kind === 'name') {
      const lower = t.text.toLowerCase();
      if (this.isOp('(')) return this.call(t);
      if (lower === 'true') return constant(true);
      if (lower === 'false') return constant(false);
      if (lower === 'null') return constant(null);
      return this.variable(t.text);
    }
    if (t.kind === 'op' && t.value === '(') {
      const inner = this.expression();
      if (this.isOp(')')) {
        this.index++;
        return inner;
      }
      const u = this.peek();
      if (u.kind === 'end') throw new CompileError(`Unclosed '(' at position ${t.pos}`, t.pos);
      throw new CompileError(`Expected ')' but found ${quote(u.text)} at position ${u.pos}`, u.pos);
    }
    if (t.kind === 'end') {
      throw new CompileError(`Unexpected end of expression at position ${t.pos}: expected a value`, t.pos);
    }
    throw new CompileError(`Expected a value but found ${quote(t.text)} at position ${t.pos}`, t.pos);
  }

  private variable(path: string): Node {
    const [root = '', ...keys] = path.toLowerCase().split('.');
    this.variables.add(root);
    const exactKeys = path.split('.').slice(1);
    if (keys.some((k) => FORBIDDEN_KEYS.has(k))) return { fn: () => undefined, isConst: false, height: 1 };
    if (keys.length === 0) return { fn: (s) => s.get(root), isConst: false, height: 1 };
    if (keys.length === 1) {
      const key = exactKeys[0]!;
      const lowerKey = keys[0]!;
      return { fn: (s) => member(s.get(root), key, lowerKey), isConst: false, height: 1 };
    }
    const fn: CompiledExpression = (s) => {
      let value = s.get(root);
      for (let i = 0; i < keys.length && value !== undefined; i++)
        value = member(value, exactKeys[i]!, keys[i]!);
      return value;
    };
    return { fn, isConst: false, height: 1 };
  }

  private call(name: Token): Node {
    const spec = FUNCTIONS.get(name.text.toLowerCase());
    if (!spec)
      throw new CompileError(`${unknownFunctionMessage(name.text)} (position ${name.pos})`, name.pos);
    const open = this.next();
    const args: Node[] = [];
    if (this.isOp(')')) this.index++;
    else {
      for (;;) {
        args.push(this.expression());
        const t = this.next();
        if (t.kind === 'op' && t.value === ')') break;
        if (t.kind === 'op' && t.value === ',') continue;
        if (t.kind === 'end') throw new CompileError(`Unclosed '(' at position ${open.pos}`, open.pos);
        throw new CompileError(
          `Expected ',' or ')' in call to ${name.text} but found ${quote(t.text)} at position ${t.pos}`,
          t.pos,
        );
      }
    }
    if (args.length < spec.min || args.length > spec.max) {
      const expected = spec.min === spec.max ? `${spec.min}` : `${spec.min} or ${spec.max}`;
      const noun = spec.max === 1 ? 'argument' : 'arguments';
      throw new CompileError(
        `${name.text} expects ${expected} ${noun} but got ${args.length} (position ${name.pos})`,
        name.pos,
      );
    }
    this.textBuilds += spec.builds ?? 0;
    const f = spec.call;
    const a = args[0]!.fn;
    const b = args[1]?.fn;
    const result = b ? node((s) => f(a(s), b(s)), args) : node((s) => f(a(s), undefined), args);
    if (result.height > MAX_DEPTH) throw tooDeep(name.pos);
    return result;
  }
}

function tooDeep(pos: number): CompileError {
  return new CompileError(`Expression is nested too deeply (limit ${MAX_DEPTH}) at position ${pos}`, pos);
}

/** Compiles once; the returned closure is meant to be kept and evaluated many times. */
export function compileExpression(source: string): CompileResult {
  try {
    if (source.length > MAX_SOURCE_LENGTH) {
      const message = `Expression is too long (${source.length} characters; the limit is ${MAX_SOURCE_LENGTH})`;
      throw new CompileError(message, MAX_SOURCE_LENGTH);
    }
    const parser = new Parser(tokenize(source));
    const root = parser.parse().fn;
    if (parser.textBuilds <= MAX_TEXT_PER_EVALUATION / MAX_TEXT_LENGTH)
      return { ok: true, value: root, variables: [...parser.variables] };
    const counted: CompiledExpression = (scope) => {
      builtText = 0;
      counting = true;
      try {
        return root(scope);
      } finally {
        counting = false;
      }
    };
    return { ok: true, value: counted, variables: [...parser.variables] };
  } catch (error) {
    if (!(error instanceof CompileError)) throw error;
    return { ok: false, code: 'InvalidExpression', message: error.message, position: error.position };
  }
}
