import { defineAction } from './action.js';
import { ALL_SCRIPT_TYPES } from './control.js';

const STOP: { readonly branch: string; readonly control: 'stop' } = { branch: 'Default', control: 'stop' };

export const stop = defineAction({
  name: 'STOP',
  summary:
    'Parks the script: the contact stays in its state until an event resumes the script at its handler — ONSIGNAL when the contact is signaled, ONRELEASE when it is ended. STOP does not end the contact: without an ONSIGNAL handler it keeps running, so use END to finish.',
  role: 'stop',
  scriptTypes: ALL_SCRIPT_TYPES,
  properties: {},
  outputs: {},
  branches: {},
  run: () => STOP,
});
