import type { ScheduleCallbackError } from '../platform/callbacks.js';
import { describeReading } from '../platform/schedule-date.js';
import { defineAction, failure } from './action.js';
import { ALL_SCRIPT_TYPES } from './control.js';
import { literal } from './literals.js';
import { actingSecurityUser, SECURITY_USER_PROPERTY } from './security-user.js';

/** Each failure's branch; a profile without callbacks:write has no branch of its own. */
const BRANCH_BY_CODE: Record<ScheduleCallbackError | 'IdempotencyKeyReused', string> = {
  Unauthorized: 'Default',
  IdempotencyKeyReused: 'Default',
  InvalidSkillId: 'InvalidSkillId',
  InvalidTargetAgentId: 'InvalidTargetAgentId',
  InvalidScheduleDate: 'InvalidScheduleDate',
  InvalidPhoneNumber: 'InvalidPhoneNumber',
};

export const scheduleCallback = defineAction({
  name: 'PRMS_CREATE',
  aliases: ['SCHEDULECALLBACK'],
  summary:
    'Schedule Callback: stores a commitment for a skill or an agent to call a person back at a future time; when it is due it is queued as an outbound Phone contact.',
  role: 'step',
  scriptTypes: ALL_SCRIPT_TYPES,
  properties: {
    SecurityUser: SECURITY_USER_PROPERTY,
    FirstName: { description: 'First name of the person to call back.' },
    LastName: { description: 'Last name of the person to call back.' },
    PhoneNumber: {
      description:
        "Number to call: international `+<country code><number>` (e.g. +448675309); a national number is read with the business unit's country.",
      required: true,
      checkLiteral: literal.phoneNumber,
    },
    SkillId: {
      description: 'An active outbound Phone skill that places the call.',
      required: true,
      checkLiteral: literal.id('SkillId'),
    },
    TargetAgentId: {
      description:
        'Numeric ID of an active agent to call back (not a username); takes precedence over the skill. Empty ("") routes to the skill.',
      default: '',
      checkLiteral: literal.optionalAgentId('TargetAgentId'),
    },
    ScheduleDate: {
      description:
        "ISO 8601 date-time. With Z or an offset it is an instant; without, wall-clock time in the security user's time zone.",
      required: true,
      checkLiteral: literal.scheduleDate,
    },
    Notes: { description: 'Shown to the agent when the callback is delivered.' },
  },
  outputs: { CallbackId: 'ID of the scheduled callback.' },
  branches: {
    Default: 'The matching branch is not wired, or another failure (e.g. the profile lacks callbacks:write).',
    Success: 'The callback was scheduled.',
    InvalidSecurityUser: 'The security user is empty, malformed, forged, or its agent is no longer active.',
    InvalidSkillId: 'SkillId is not a number, unknown, inactive, or not an outbound Phone skill.',
    InvalidTargetAgentId: 'TargetAgentId is not a number (a username?), unknown, or the agent is inactive.',
    InvalidScheduleDate:
      'ScheduleDate is not ISO 8601, not a real date, in a DST gap, in the past, or beyond the horizon.',
    InvalidPhoneNumber: 'PhoneNumber is missing or cannot be a phone number.',
  },
  async run(ctx, p) {
    const actor = await actingSecurityUser(ctx, p.SecurityUser ?? '');
    if (!actor.ok) return failure('InvalidSecurityUser', actor.message);
    const result = await ctx.platform.scheduleCallback(
      {
        firstName: p.FirstName ?? '',
        lastName: p.LastName ?? '',
        phoneNumber: p.PhoneNumber ?? '',
        skillId: p.SkillId ?? '',
        targetAgentId: p.TargetAgentId ?? '',
        scheduleDate: p.ScheduleDate ?? '',
        notes: p.Notes ?? '',
      },
      { channel: 'script', actor: actor.value, via: ctx.scriptName },
    );
    if (!result.ok) return failure(BRANCH_BY_CODE[result.code], result.message);
    const { id, timeZone, scheduledFor } = result.value;
    const reading = describeReading(p.ScheduleDate ?? '', timeZone, Date.parse(scheduledFor));
    return {
      branch: 'Success',
      set: { CallbackId: String(id) },
      ...(reading ? { notes: [`ScheduleDate ${reading}`] } : {}),
    };
  },
});
