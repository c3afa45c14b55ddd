import { defineAction, failure } from './action.js';
import { ALL_SCRIPT_TYPES } from './control.js';
import { literal } from './literals.js';

export const setSecurityUser = defineAction({
  name: 'SETSECURITYUSER',
  summary:
    "Authenticates an active agent for the API actions that follow (End a Contact, Schedule Callback); they act with that agent's security profile. Only an agent whose permissions the script's deployer holds; the security user is valid for this contact's script run, for the business unit's handle lifetime.",
  role: 'step',
  scriptTypes: ALL_SCRIPT_TYPES,
  properties: {
    Agent: { description: 'The agent: numeric ID or username.', required: true },
    TimeZone: {
      description:
        "IANA time zone for wall-clock dates the security user gives (default: the agent's, else the business unit's).",
      checkLiteral: literal.timeZone('TimeZone'),
    },
    ScriptVar: {
      description: 'Variable that receives the security user.',
      default: 'SecurityUser',
      kind: 'name',
    },
  },
  outputs: { '(ScriptVar)': 'The security user: an opaque, signed handle (never a password).' },
  branches: {
    Default: 'The agent was authenticated.',
    OnError:
      "Unknown or inactive agent, an unknown time zone, or an agent holding permissions the script's deployer lacks; _ERR says which.",
  },
  errorBranch: 'OnError',
  async run(ctx, p) {
    const issued = await ctx.platform.issueSecurityUser(p.Agent ?? '', p.TimeZone ?? '', {
      contactId: ctx.contactId,
      scriptName: ctx.scriptName,
    });
    if (!issued.ok) return failure('OnError', issued.message);
    return { branch: 'Default', set: { [p.ScriptVar || 'SecurityUser']: issued.value.handle } };
  },
});
