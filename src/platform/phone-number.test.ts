import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPhoneNumberLiteral, type PhoneNumberResult, parsePhoneNumber } from './phone-number.js';

const E164 = /^\+[1-9]\d{3,14}$/;
const de = { defaultCountry: 'DE' };

function value(result: PhoneNumberResult): string {
  if (!result.ok) throw new Error(`expected ok, got: ${result.message}`);
  return result.value;
}

function message(result: PhoneNumberResult): string {
  if (result.ok) throw new Error(`expected failure, got ${result.value}`);
  expect(result.code).toBe('InvalidPhoneNumber');
  expect(result.message).not.toMatch(/[\r\n]/);
  return result.message;
}

describe('parsePhoneNumber', () => {
  it('accepts the CXone documentation example +448675309 as is', () => {
    expect(value(parsePhoneNumber('+448675309', de))).toBe('+448675309');
  });

  it('rejects +448675309 in strict mode because it is not an assigned UK number', () => {
    expect(message(parsePhoneNumber('+448675309', { ...de, strict: true }))).toContain('"+448675309"');
  });

  it('reads a national number with the default country', () => {
    expect(value(parsePhoneNumber('030 1234567', de))).toBe('+49301234567');
    expect(value(parsePhoneNumber('(212) 555-0100', { defaultCountry: 'US' }))).toBe('+12125550100');
  });

  it('reads international numbers whatever the default country', () => {
    expect(value(parsePhoneNumber('+1 212.555.0100', de))).toBe('+12125550100');
    expect(value(parsePhoneNumber('0049 30 1234567', de))).toBe('+49301234567');
  });

  it('accepts valid numbers in strict mode', () => {
    expect(value(parsePhoneNumber('+49 30 1234567', { ...de, strict: true }))).toBe('+49301234567');
  });

  it('trims surrounding whitespace', () => {
    expect(value(parsePhoneNumber('  +49 30 1234567 ', de))).toBe('+49301234567');
  });

  it('rejects an empty value', () => {
    expect(message(parsePhoneNumber(' ', de))).toMatch(/^Phone number is empty/);
  });

  it('rejects letters', () => {
    expect(message(parsePhoneNumber('call me', de))).toBe(
      'Phone number "call me" may only hold digits, spaces and + - ( ) . with at least 3 digits; use e.g. +4930123456',
    );
    expect(message(parsePhoneNumber('+49 30 1234567 ext 5', de))).toContain('may only hold digits');
  });

  it('rejects a number that is too short', () => {
    expect(message(parsePhoneNumber('+4912', de))).toBe(
      'Phone number "+4912" is too short; use e.g. +4930123456',
    );
  });

  it('rejects an unknown country calling code', () => {
    expect(message(parsePhoneNumber('+999123456', de))).toContain(
      '"+999123456" has no known country calling code',
    );
  });

  it('rejects 40 digits as too long', () => {
    const digits = '1'.repeat(40);
    expect(message(parsePhoneNumber(digits, de))).toContain(`"${digits}" is too long`);
  });

  it('rejects input whose E.164 form would read back as a different number', () => {
    expect(message(parsePhoneNumber('000000', de))).toContain(
      '"000000" does not read as one unambiguous number',
    );
  });

  it('rejects a national number when the default country is unknown, naming it', () => {
    expect(message(parsePhoneNumber('030 1234567', { defaultCountry: 'XX' }))).toContain(
      'default country "XX" is unknown',
    );
    expect(value(parsePhoneNumber('+49 30 1234567', { defaultCountry: 'XX' }))).toBe('+49301234567');
  });

  it('never throws on arbitrary text and every accepted value is E.164', () => {
    const phoneish = fc.string({ unit: fc.constantFrom(...'0123456789+-(). '), maxLength: 30 });
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: 'binary' }), phoneish),
        fc.constantFrom('DE', 'US', 'GB', 'IN', 'FR', 'XX', ''),
        fc.boolean(),
        (text, defaultCountry, strict) => {
          const result = parsePhoneNumber(text, { defaultCountry, strict });
          if (result.ok) expect(result.value).toMatch(E164);
          else expect(result.message).not.toMatch(/[\r\n]/);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('re-parses an accepted number to itself', () => {
    const digits = fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: 3, maxLength: 16 });
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.oneof(
          digits,
          digits.map((d) => `+${d}`),
        ),
        fc.constantFrom('DE', 'US', 'GB', 'IN'),
        fc.boolean(),
        (text, defaultCountry, strict) => {
          const first = parsePhoneNumber(text, { defaultCountry, strict });
          if (!first.ok) return;
          accepted++;
          expect(parsePhoneNumber(first.value, { defaultCountry: 'FR', strict })).toEqual(first);
        },
      ),
      { numRuns: 2000 },
    );
    expect(accepted).toBeGreaterThan(100);
  });
});

describe('isPhoneNumberLiteral', () => {
  it.each(['+448675309', '030 1234567', '(212) 555-0100', '+1.212.555.0100', '112'])('accepts %j', (text) =>
    expect(isPhoneNumberLiteral(text)).toBe(true),
  );

  it.each(['', '12', 'call me', '+49 30 1234567 ext 5', '+49/30/1234567', '١٢٣٤'])('rejects %j', (text) =>
    expect(isPhoneNumberLiteral(text)).toBe(false),
  );
});
