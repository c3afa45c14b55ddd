import { defineAction } from './action.js';
import { ALL_SCRIPT_TYPES, DEFAULT_BRANCH } from './control.js';

export const begin = defineAction({
  name: 'BEGIN',
  summary: 'Where the script starts. One per script.',
  role: 'begin',
  scriptTypes: ALL_SCRIPT_TYPES,
  properties: {
    Parameters: {
      description:
        'Comma-separated names for the parameters p1…p9 passed at start; `FirstName,LastName` makes p1 readable as {FirstName}.',
      kind: 'name',
    },
  },
  outputs: {},
  branches: { ...DEFAULT_BRANCH },
  run: () => ({ branch: 'Default' }),
});
