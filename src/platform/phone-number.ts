import {
  type CountryCode,
  isSupportedCountry,
  parsePhoneNumberFromString,
  validatePhoneNumberLength,
} from 'libphonenumber-js/max';
import { fail, ok, type Result } from '../result.js';
import { quote } from '../text.js';

export interface PhoneNumberOptions {
  defaultCountry: string;
  strict?: boolean;
}

export type PhoneNumberResult = Result<string, 'InvalidPhoneNumber'>;

const LITERAL = /^[0-9 +\-().]*$/;
const EXAMPLE = 'use e.g. +4930123456';

/**
 * Non-strict mode accepts *possible* numbers (right length for the country calling code) rather
 * than *valid* ones, because CXone's own example +448675309 is possible but not a valid UK number.
 */
export function parsePhoneNumber(text: string, options: PhoneNumberOptions): PhoneNumberResult {
  const trimmed = text.trim();
  if (trimmed === '') return invalid(`Phone number is empty; ${EXAMPLE}`);
  const subject = `Phone number ${quote(trimmed)}`;
  if (!isPhoneNumberLiteral(trimmed)) {
    return invalid(
      `${subject} may only hold digits, spaces and + - ( ) . with at least 3 digits; ${EXAMPLE}`,
    );
  }
  const country = options.defaultCountry.toUpperCase();
  const defaultCountry = isSupportedCountry(country) ? country : undefined;
  if (defaultCountry === undefined && !trimmed.startsWith('+')) {
    return invalid(
      `${subject} has no +country code and default country ${quote(options.defaultCountry)} is unknown; ${EXAMPLE}`,
    );
  }
  const phone = parsePhoneNumberFromString(trimmed, { defaultCountry, extract: false });
  const usable = phone !== undefined && (options.strict ? phone.isValid() : phone.isPossible());
  if (!usable) {
    return invalid(`${subject} ${reason(trimmed, defaultCountry, options.strict === true)}; ${EXAMPLE}`);
  }
  // Junk like "000000" can come out as an E.164 string that reads back as a different number;
  // storing it would make the same contact compare unequal to itself later.
  if (parsePhoneNumberFromString(phone.number, { extract: false })?.number !== phone.number) {
    return invalid(`${subject} does not read as one unambiguous number; ${EXAMPLE}`);
  }
  return ok(phone.number);
}

export function isPhoneNumberLiteral(text: string): boolean {
  const trimmed = text.trim();
  return LITERAL.test(trimmed) && trimmed.replace(/[^0-9]/g, '').length >= 3;
}

function reason(text: string, defaultCountry: CountryCode | undefined, strict: boolean): string {
  switch (validatePhoneNumberLength(text, defaultCountry)) {
    case 'INVALID_COUNTRY':
      return 'has no known country calling code';
    case 'TOO_SHORT':
      return 'is too short';
    case 'TOO_LONG':
      return 'is too long';
    case 'INVALID_LENGTH':
      return 'has the wrong length for its country';
    case 'NOT_A_NUMBER':
      return 'is not a phone number';
    default:
      return strict ? 'is not an assigned number for its country' : 'is not a phone number';
  }
}

function invalid(message: string): PhoneNumberResult {
  return fail('InvalidPhoneNumber', message);
}
