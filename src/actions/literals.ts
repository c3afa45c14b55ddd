import { parseId } from '../platform/model.js';
import { isPhoneNumberLiteral } from '../platform/phone-number.js';
import { isIsoDateTimeLiteral, isValidTimeZone } from '../platform/schedule-date.js';

/** Checks of literal property values shared by the callback actions (validator only). */
export const literal = {
  id: (what: string) => (v: string) =>
    parseId(v) === undefined ? `${what} '${v}' is not a numeric ID` : undefined,
  optionalAgentId: (what: string) => (v: string) =>
    v.trim() === '' || parseId(v) !== undefined
      ? undefined
      : `${what} '${v}' is not a numeric agent ID (usernames are not accepted); use "" to route to the skill`,
  scheduleDate: (v: string) =>
    isIsoDateTimeLiteral(v)
      ? undefined
      : `ScheduleDate '${v}' is not an ISO 8601 date-time such as 2026-12-01T09:30`,
  timeZone: (what: string) => (v: string) =>
    isValidTimeZone(v.trim()) ? undefined : `${what} '${v}' is not an IANA time zone such as Europe/Berlin`,
  integer: (what: string) => (v: string) =>
    /^\s*[+-]?\d{1,9}\s*$/.test(v) ? undefined : `${what} '${v}' is not a whole number`,
  phoneNumber: (v: string) =>
    isPhoneNumberLiteral(v) ? undefined : `PhoneNumber '${v}' is not a phone number such as +448675309`,
};
