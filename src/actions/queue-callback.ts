import { defineAction, failure } from './action.js';
import { literal } from './literals.js';

export const queueCallback = defineAction({
  name: 'QUEUECALLBACK',
  summary:
    'Creates a live outbound Phone contact now and queues it to a skill or agent; the agent takes it in the Inbound (ACD) state. The calling script goes on.',
  role: 'step',
  scriptTypes: ['Phone'],
  properties: {
    PhoneNumber: {
      description: 'Number to call; default the caller (ANI).',
      default: '{ANI}',
      checkLiteral: literal.phoneNumber,
    },
    CallerID: { description: 'Number shown to the person called.' },
    Skill: { description: 'ID of an active Phone skill.', required: true, checkLiteral: literal.id('Skill') },
    TargetAgent: {
      description: 'Numeric ID of the agent to queue to; empty routes to the skill.',
      checkLiteral: literal.optionalAgentId('TargetAgent'),
    },
    Priority: {
      description: 'Queue priority; higher is offered first.',
      default: '0',
      checkLiteral: literal.integer('Priority'),
    },
  },
  outputs: {},
  branches: {
    Default: 'The matching branch is not wired.',
    Success: 'The contact was queued.',
    Error: 'An input was invalid (phone number, skill, agent, priority); _ERR says which.',
  },
  errorBranch: 'Error',
  async run(ctx, p) {
    const result = await ctx.platform.queueCallback(
      {
        phoneNumber: p.PhoneNumber ?? '',
        callerId: p.CallerID ?? '',
        skillId: p.Skill ?? '',
        targetAgentId: p.TargetAgent ?? '',
        priority: p.Priority ?? '',
      },
      { channel: 'script', via: ctx.scriptName, contactId: ctx.contactId },
    );
    if (!result.ok) return failure('Error', `${result.code}: ${result.message}`);
    return { branch: 'Success' };
  },
});
