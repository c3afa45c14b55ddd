import { SCRIPT_TYPES } from '../script/types.js';

/** Every script type: most actions run in all seven. */
export const ALL_SCRIPT_TYPES = SCRIPT_TYPES;

export const DEFAULT_BRANCH = {
  Default: 'Taken unless another branch applies, and when the matching branch is not wired.',
} as const;
