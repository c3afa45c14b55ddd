import { defineAction } from './action.js';
import { ALL_SCRIPT_TYPES, DEFAULT_BRANCH } from './control.js';

export const onRelease = defineAction({
  name: 'ONRELEASE',
  summary:
    "Event handler: runs once when the script's contact is released — by END, by End a Contact from any script or the API, or by a dead end.",
  role: 'event',
  scriptTypes: ALL_SCRIPT_TYPES,
  properties: {},
  outputs: {},
  branches: { ...DEFAULT_BRANCH },
  run: () => ({ branch: 'Default' }),
});
