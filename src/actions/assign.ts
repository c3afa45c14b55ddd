import { Temporal } from 'temporal-polyfill';
import { compileExpression, TextTooLong, toNumber } from '../script/expression.js';
import { compileTemplate, type VariableReader } from '../script/template.js';
import { defineAction, failure } from './action.js';
import { ALL_SCRIPT_TYPES, DEFAULT_BRANCH } from './control.js';

/** Longest text a variable may hold; a longer value takes Overflow. */
export const MAX_VARIABLE_LENGTH = 32_768;

const TYPES = ['String', 'Numeric', 'Datetime'] as const;

interface Prepared {
  variable: string;
  type: (typeof TYPES)[number];
  value: (vars: VariableReader) => unknown;
}

function datetime(text: string): string | undefined {
  const t = text.trim();
  try {
    return Temporal.Instant.from(t).toString();
  } catch {
    try {
      return Temporal.PlainDateTime.from(t).toString();
    } catch {
      return undefined;
    }
  }
}

export const assign = defineAction<Prepared>({
  name: 'ASSIGN',
  summary: 'Sets a variable: text with {placeholders}, a numeric expression, or a date-time.',
  role: 'step',
  scriptTypes: ALL_SCRIPT_TYPES,
  properties: {
    Variable: { description: 'Name of the variable to set.', kind: 'name', required: true },
    Value: {
      description:
        'String and Datetime: text with {placeholders}. Numeric: an expression such as `{count} + 1`.',
      kind: 'expression',
    },
    Type: { description: 'String, Numeric or Datetime.', default: 'String', enum: TYPES },
  },
  outputs: { '(Variable)': 'The variable named by Variable.' },
  branches: {
    ...DEFAULT_BRANCH,
    Overflow: `The value is longer than ${MAX_VARIABLE_LENGTH} characters; the variable is left unchanged.`,
  },
  checkProperties(p) {
    if ((p.Type ?? '').trim().toLowerCase() !== 'numeric') return [];
    if ((p.Value ?? '').trim() === '')
      return [{ property: 'Value', message: 'a Numeric Value needs an expression, e.g. {count} + 1' }];
    const compiled = compileExpression(p.Value ?? '');
    return compiled.ok ? [] : [{ property: 'Value', message: compiled.message }];
  },
  prepare(p) {
    const type = (TYPES.find((t) => t.toLowerCase() === (p.Type ?? '').trim().toLowerCase()) ??
      'String') as Prepared['type'];
    const source = p.Value ?? '';
    // An empty Numeric Value (the validator's error) gives NaN at run time: Default with _ERR, no throw.
    if (type === 'Numeric' && source.trim() !== '') {
      const compiled = compileExpression(source);
      if (!compiled.ok) throw new Error(`${compiled.message} in Value '${source}'`);
      return { variable: p.Variable ?? '', type, value: compiled.value };
    }
    return { variable: p.Variable ?? '', type, value: compileTemplate(source) };
  },
  run(ctx, _p, { variable, type, value }) {
    let raw: unknown;
    try {
      raw = value(ctx.variables);
    } catch (error) {
      // Building a text beyond MAX_TEXT_LENGTH was refused: a value too long, as Overflow says.
      if (!(error instanceof TextTooLong)) throw error;
      return failure(type === 'Numeric' ? 'Default' : 'Overflow', `value for ${variable}: ${error.message}`);
    }
    let result: unknown = raw;
    if (type === 'Numeric') {
      result = toNumber(raw);
      if (!Number.isFinite(result)) {
        return failure('Default', `Value for ${variable} is not a finite number (got ${String(result)})`);
      }
    } else if (type === 'Datetime') {
      result = datetime(String(raw));
      if (result === undefined) return failure('Default', `'${String(raw)}' is not an ISO 8601 date-time`);
    }
    if (typeof result === 'string' && result.length > MAX_VARIABLE_LENGTH) {
      return failure(
        'Overflow',
        `value for ${variable} is ${result.length} characters; the limit is ${MAX_VARIABLE_LENGTH}`,
      );
    }
    return { branch: 'Default', set: { [variable]: result } };
  },
});
