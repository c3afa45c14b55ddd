import { toText } from '../script/expression.js';
import { defineAction } from './action.js';
import { ALL_SCRIPT_TYPES, DEFAULT_BRANCH } from './control.js';

interface Prepared {
  variable: string;
  /** Lower-cased case value → the branch name as written. */
  cases: Map<string, { branch: string }>;
}

const DEFAULT = { branch: 'Default' } as const;

export const caseAction = defineAction<Prepared>({
  name: 'CASE',
  summary:
    "Takes the branch named after the variable's value (compared without regard to case), else Default.",
  role: 'step',
  scriptTypes: ALL_SCRIPT_TYPES,
  properties: {
    Variable: {
      description: 'Name of the variable whose value picks the branch.',
      kind: 'name',
      required: true,
    },
  },
  outputs: {},
  branches: { ...DEFAULT_BRANCH },
  caseBranches:
    'Every other branch name is a case value: `"de": "12"` goes to action 12 when the variable is de.',
  prepare(p, branches) {
    const cases = new Map<string, { branch: string }>();
    for (const b of branches) if (b !== 'Default') cases.set(b.toLowerCase(), { branch: b });
    return { variable: (p.Variable ?? '').toLowerCase(), cases };
  },
  run(ctx, _p, { variable, cases }) {
    return cases.get(toText(ctx.variables.get(variable)).trim().toLowerCase()) ?? DEFAULT;
  },
});
