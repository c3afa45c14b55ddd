import type { Actor } from '../platform/model.js';
import { looksLikeSecurityUser } from '../platform/security.js';
import { fail, type Result } from '../result.js';
import { toText } from '../script/expression.js';
import type { ActionContext } from './action.js';

export const SECURITY_USER_PROPERTY = {
  description:
    'Name of the variable SETSECURITYUSER stored the security user in (`SecurityUser`); `{SecurityUser}` works too.',
  default: 'SecurityUser',
} as const;

/**
 * The SecurityUser property names a variable (Studio's default, `SecurityUser`) or, written as
 * `{SecurityUser}`, already holds the handle after substitution. Either way: the acting agent.
 */
export async function actingSecurityUser(
  ctx: ActionContext,
  property: string,
): Promise<Result<Actor, 'InvalidSecurityUser'>> {
  const value = property.trim();
  const caller = { contactId: ctx.contactId };
  if (looksLikeSecurityUser(value)) return ctx.platform.resolveSecurityUser(value, caller);
  const name = value.replace(/^\{(.*)\}$/, '$1');
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    return fail(
      'InvalidSecurityUser',
      `SecurityUser '${value.slice(0, 40)}' is neither a security user nor the name of the variable holding one`,
    );
  }
  const handle = toText(ctx.variables.get(name.toLowerCase()));
  if (handle === '')
    return fail('InvalidSecurityUser', `variable ${name} holds no security user; run SETSECURITYUSER first`);
  return ctx.platform.resolveSecurityUser(handle, caller);
}
