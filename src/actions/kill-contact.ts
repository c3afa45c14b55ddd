import { parseId } from '../platform/model.js';
import { defineAction, failure } from './action.js';
import { ALL_SCRIPT_TYPES } from './control.js';
import { actingSecurityUser, SECURITY_USER_PROPERTY } from './security-user.js';

/** The disconnect reason End a Contact records, and sets in `__DISCONNECTREASON`. */
export const TERMINATE_SCRIPT = 'TerminateScript';

const BRANCH_BY_CODE = {
  Unauthorized: 'OnUnauthorized',
  InvalidContactID: 'OnInvalidContactID',
  ContactNotActive: 'OnInvalidContactID',
} as const;

export const killContact = defineAction({
  name: 'KILLCONTACT',
  aliases: ['ENDCONTACT'],
  summary:
    'End a Contact: ends an active contact by its ID, in any media type — e.g. removing stuck contacts from a queue. It ends that contact, not the script running the action, which goes on.',
  role: 'step',
  scriptTypes: ALL_SCRIPT_TYPES,
  properties: {
    SecurityUser: SECURITY_USER_PROPERTY,
    ContactID: {
      description: 'ID of the contact to end, usually a {variable}.',
      required: true,
      checkLiteral: (v) =>
        parseId(v) === undefined ? `ContactID '${v}' is not a contact ID (a positive number)` : undefined,
    },
  },
  outputs: {
    __DISCONNECTREASON: `${TERMINATE_SCRIPT}, also recorded as the ended contact's disconnect reason.`,
  },
  branches: {
    Default: 'The matching branch is not wired, or another failure.',
    OnSuccess: 'The contact was ended.',
    OnInvalidContactID: 'ContactID is not a number, unknown, or the contact is not active.',
    OnUnauthorized: "The security user's profile lacks contacts:end.",
    OnInvalidSecurityUser:
      'The security user variable is empty, malformed, forged, or its agent is no longer active.',
  },
  async run(ctx, p) {
    const actor = await actingSecurityUser(ctx, p.SecurityUser ?? '');
    if (!actor.ok) return failure('OnInvalidSecurityUser', actor.message);
    const ended = await ctx.platform.endContact(p.ContactID ?? '', TERMINATE_SCRIPT, {
      channel: 'script',
      actor: actor.value,
      via: ctx.scriptName,
    });
    if (!ended.ok) return failure(BRANCH_BY_CODE[ended.code], ended.message);
    return { branch: 'OnSuccess', set: { __DISCONNECTREASON: TERMINATE_SCRIPT } };
  },
});
