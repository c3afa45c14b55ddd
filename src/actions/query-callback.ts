import { defineAction, failure } from './action.js';
import { ALL_SCRIPT_TYPES } from './control.js';
import { literal } from './literals.js';

export const queryCallback = defineAction({
  name: 'QUERYCALLBACK',
  summary:
    'Is a callback already scheduled or queued for this phone number and skill? The duplicate guard before scheduling another.',
  role: 'step',
  scriptTypes: ALL_SCRIPT_TYPES,
  properties: {
    PhoneNumber: {
      description: 'Number to look for (compared in E.164); default the caller (ANI).',
      default: '{ANI}',
      checkLiteral: literal.phoneNumber,
    },
    Skill: { description: 'Skill ID.', required: true, checkLiteral: literal.id('Skill') },
  },
  outputs: { CallbackCount: 'How many callbacks are scheduled or queued for the number on the skill.' },
  branches: {
    Default: 'The matching branch is not wired, or the phone number or skill is invalid (_ERR says which).',
    OnCallbacksFound: 'At least one callback is waiting.',
    OnNoCallbacksFound: 'None is.',
  },
  async run(ctx, p) {
    const counted = await ctx.platform.countPendingCallbacks(p.PhoneNumber ?? '', p.Skill ?? '');
    if (!counted.ok) return failure('Default', counted.message);
    const n = counted.value;
    return { branch: n > 0 ? 'OnCallbacksFound' : 'OnNoCallbacksFound', set: { CallbackCount: String(n) } };
  },
});
