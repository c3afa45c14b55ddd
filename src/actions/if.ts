import { compileExpression, isTruthy } from '../script/expression.js';
import type { VariableReader } from '../script/template.js';
import { defineAction } from './action.js';
import { ALL_SCRIPT_TYPES } from './control.js';

const TRUE = { branch: 'True' } as const;
const FALSE = { branch: 'False' } as const;

export const ifAction = defineAction<(vars: VariableReader) => unknown>({
  name: 'IF',
  summary: 'Evaluates an expression and takes True or False.',
  role: 'step',
  scriptTypes: ALL_SCRIPT_TYPES,
  properties: {
    Expression: {
      description:
        "A condition such as `{count} > 3 && lang = 'de'`. Operators: = != < <= > >= + - * / % and or not; functions len, upper, lower, contains, …",
      kind: 'expression',
      required: true,
      checkLiteral: (v) => {
        const c = compileExpression(v);
        return c.ok ? undefined : c.message;
      },
    },
  },
  outputs: {},
  branches: { True: 'The expression is true.', False: 'The expression is false.' },
  prepare(p) {
    const compiled = compileExpression(p.Expression ?? '');
    if (!compiled.ok) throw new Error(`${compiled.message} in Expression '${p.Expression}'`);
    return compiled.value;
  },
  run: (ctx, _p, expression) => (isTruthy(expression(ctx.variables)) ? TRUE : FALSE),
});
