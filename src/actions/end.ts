import { defineAction } from './action.js';
import { ALL_SCRIPT_TYPES } from './control.js';

const END: { readonly branch: string; readonly control: 'end' } = { branch: 'Default', control: 'end' };

export const end = defineAction({
  name: 'END',
  summary:
    'Ends the script and releases the contact (disconnect reason ScriptEnded); the ONRELEASE handler runs. Use END, not STOP, to finish a script.',
  role: 'end',
  scriptTypes: ALL_SCRIPT_TYPES,
  properties: {},
  outputs: {},
  branches: { Default: 'Accepted for Studio compatibility; never followed, as END finishes the script.' },
  run: () => END,
});
