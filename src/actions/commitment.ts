import { describeReading } from '../platform/schedule-date.js';
import { defineAction, failure } from './action.js';
import { ALL_SCRIPT_TYPES } from './control.js';
import { literal } from './literals.js';

export const commitment = defineAction({
  name: 'COMMITMENT',
  summary:
    "Schedules the same commitment as Schedule Callback, from the contact's own context (no security user): a skill or agent calls the person back at a future time.",
  role: 'step',
  scriptTypes: ALL_SCRIPT_TYPES,
  properties: {
    FirstName: { description: 'First name of the person to call back.' },
    LastName: { description: 'Last name of the person to call back.' },
    PhoneNumber: {
      description: 'Number to call; default the caller (ANI).',
      default: '{ANI}',
      checkLiteral: literal.phoneNumber,
    },
    Skill: {
      description: 'ID of an active outbound Phone skill.',
      required: true,
      checkLiteral: literal.id('Skill'),
    },
    TargetAgent: {
      description: 'Numeric ID of the agent to call back; empty routes to the skill.',
      checkLiteral: literal.optionalAgentId('TargetAgent'),
    },
    CommitmentDate: {
      description:
        'The date: YYYY-MM-DD or MM/DD/YYYY (or a full ISO 8601 date-time with CommitmentTime empty).',
      required: true,
    },
    CommitmentTime: { description: 'The time of day: HH:mm, HH:mm:ss or h:mm AM/PM.' },
    Timezone: {
      description: "IANA time zone of the date and time (default: the business unit's).",
      checkLiteral: literal.timeZone('Timezone'),
    },
    Notes: { description: 'Shown to the agent when the callback is delivered.' },
  },
  outputs: { CallbackId: 'ID of the scheduled callback.' },
  branches: {
    Default: 'The matching branch is not wired.',
    Success: 'The callback was scheduled.',
    Error: 'Any input was invalid (skill, agent, date, time zone, phone number); _ERR says which.',
  },
  errorBranch: 'Error',
  async run(ctx, p) {
    const result = await ctx.platform.scheduleCallback(
      {
        firstName: p.FirstName ?? '',
        lastName: p.LastName ?? '',
        phoneNumber: p.PhoneNumber ?? '',
        skillId: p.Skill ?? '',
        targetAgentId: p.TargetAgent ?? '',
        scheduleDate: { date: p.CommitmentDate ?? '', time: p.CommitmentTime ?? '' },
        ...(p.Timezone ? { timeZone: p.Timezone } : {}),
        notes: p.Notes ?? '',
      },
      { channel: 'script', via: ctx.scriptName, contactId: ctx.contactId },
    );
    if (!result.ok) return failure('Error', `${result.code}: ${result.message}`);
    const { id, timeZone, scheduledFor } = result.value;
    const reading = describeReading(
      { date: p.CommitmentDate ?? '', time: p.CommitmentTime ?? '' },
      timeZone,
      Date.parse(scheduledFor),
    );
    return {
      branch: 'Success',
      set: { CallbackId: String(id) },
      ...(reading ? { notes: [`Commitment ${reading}`] } : {}),
    };
  },
});
