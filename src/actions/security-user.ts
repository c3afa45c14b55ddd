import type { Actor } from '../platform/model.js';
import { looksLikeSecurityUser } from '../platform/security.js';
import type { Result } from '../result.js';
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
export function actingSecurityUser(
  ctx: ActionContext,
  property: string,
): Promise<Result<Actor, 'InvalidSecurityUser'>> {
  const value = property.trim();
  const handle = looksLikeSecurityUser(value)
    ? value
    : toText(ctx.variables.get(value.replace(/^\{(.*)\}$/, '$1').toLowerCase()));
  return ctx.platform.resolveSecurityUser(handle);
}
