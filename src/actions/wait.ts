import { defineAction, failure } from './action.js';
import { ALL_SCRIPT_TYPES, DEFAULT_BRANCH } from './control.js';

/** A day: longer waits belong in a scheduled callback, not a parked script. */
export const MAX_WAIT_SECONDS = 86_400;

const checkSeconds = (v: string) => {
  const n = Number(v.trim());
  return v.trim() === '' || !Number.isFinite(n) || n < 0 || n > MAX_WAIT_SECONDS
    ? `Seconds '${v}' must be a number from 0 to ${MAX_WAIT_SECONDS}`
    : undefined;
};

export const wait = defineAction({
  name: 'WAIT',
  summary: 'Pauses the script for a number of seconds (on the simulated clock in `switchboard run`).',
  role: 'step',
  scriptTypes: ALL_SCRIPT_TYPES,
  properties: {
    Seconds: {
      description: `How long to wait, 0 to ${MAX_WAIT_SECONDS} (may be fractional).`,
      required: true,
      checkLiteral: checkSeconds,
    },
  },
  outputs: {},
  branches: { ...DEFAULT_BRANCH },
  run(_ctx, p) {
    const problem = checkSeconds(p.Seconds ?? '');
    if (problem) return failure('Default', problem);
    return { branch: 'Default', waitMs: Math.round(Number(p.Seconds) * 1000) };
  },
});
