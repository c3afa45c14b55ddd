import { defineAction } from './action.js';
import { ALL_SCRIPT_TYPES, DEFAULT_BRANCH } from './control.js';

export const onSignal = defineAction({
  name: 'ONSIGNAL',
  summary: 'Event handler: resumes a script parked at STOP when the contact is signaled (API, CLI).',
  role: 'event',
  scriptTypes: ALL_SCRIPT_TYPES,
  properties: {},
  outputs: { 'p1…p9': 'The parameters sent with the signal.' },
  branches: { ...DEFAULT_BRANCH },
  run: () => ({ branch: 'Default' }),
});
