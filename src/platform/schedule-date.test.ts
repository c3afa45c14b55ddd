import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isIsoDateTimeLiteral,
  isValidTimeZone,
  parseCommitmentDateTime,
  parseScheduleDate,
  type ScheduleDateOptions,
  type ScheduleDateResult,
} from './schedule-date.js';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const DAY = 86_400_000;
const berlin: ScheduleDateOptions = { now: NOW, timeZone: 'Europe/Berlin' };

function at(result: ScheduleDateResult): number {
  if (!result.ok) throw new Error(`expected ok, got: ${result.message}`);
  return result.value.at;
}

function zoneOf(result: ScheduleDateResult): string {
  if (!result.ok) throw new Error(`expected ok, got: ${result.message}`);
  return result.value.timeZone;
}

function message(result: ScheduleDateResult): string {
  if (result.ok) throw new Error(`expected failure, got ${new Date(result.value.at).toISOString()}`);
  expect(result.code).toBe('InvalidScheduleDate');
  expect(result.message).not.toMatch(/[\r\n]/);
  return result.message;
}

describe('parseScheduleDate: shape', () => {
  it('reads a wall-clock time in the configured zone', () => {
    const result = parseScheduleDate('2026-12-01T09:00', berlin);
    expect(at(result)).toBe(Date.UTC(2026, 11, 1, 8, 0));
    expect(zoneOf(result)).toBe('Europe/Berlin');
  });

  it('accepts seconds, fractions and a space instead of T', () => {
    expect(at(parseScheduleDate('2026-12-01 09:00:30', berlin))).toBe(Date.UTC(2026, 11, 1, 8, 0, 30));
    expect(at(parseScheduleDate('2026-12-01T09:00:30.250', berlin))).toBe(
      Date.UTC(2026, 11, 1, 8, 0, 30, 250),
    );
  });

  it('trims surrounding whitespace', () => {
    expect(at(parseScheduleDate('  2026-12-01T09:00\n', berlin))).toBe(Date.UTC(2026, 11, 1, 8, 0));
  });

  it('rejects an empty value', () => {
    expect(message(parseScheduleDate('', berlin))).toMatch(/^ScheduleDate is empty/);
    expect(message(parseScheduleDate('   ', berlin))).toMatch(/^ScheduleDate is empty/);
  });

  it('rejects a date without a time of day and suggests one', () => {
    expect(message(parseScheduleDate('2026-12-01', berlin))).toBe(
      'ScheduleDate "2026-12-01" has no time of day; use e.g. 2026-12-01T09:00',
    );
  });

  it.each([
    'tomorrow',
    '01.12.2026 09:00',
    '12/01/2026 09:00',
    '2026-12-01T9:00',
    '20261201T0900',
    '2026-12-01T09:00 Europe/Berlin',
    '2026-12-01T09:00+02:00:00',
  ])('rejects %j as not ISO 8601 and shows the right form', (text) => {
    const text0 = message(parseScheduleDate(text, berlin));
    expect(text0).toContain(JSON.stringify(text));
    expect(text0).toContain('is not an ISO 8601 date-time; use e.g. 2026-12-01T09:00');
  });

  it('quotes huge and multi-line values shortened and on one line', () => {
    const text = message(parseScheduleDate(`x\n${'9'.repeat(100_000)}`, berlin));
    expect(text.length).toBeLessThan(300);
    expect(text).toContain('"x\\n999');
  });
});

describe('parseScheduleDate: calendar', () => {
  it('rejects February 30', () => {
    expect(message(parseScheduleDate('2026-02-30T10:00', berlin))).toBe(
      'ScheduleDate "2026-02-30T10:00" is not a real date: 2026-02 has days 01 to 28',
    );
  });

  it('rejects month 13 and day 00', () => {
    expect(message(parseScheduleDate('2026-13-01T00:00', berlin))).toContain('month 13');
    expect(message(parseScheduleDate('2026-12-00T00:00', berlin))).toContain('is not a real date');
  });

  it.each(['2026-12-01T24:00', '2026-12-01T23:60', '2026-12-01T23:59:60'])('rejects time %s', (text) => {
    expect(message(parseScheduleDate(text, berlin))).toContain('hours run 00 to 23');
  });

  it('accepts 29 February in a leap year and rejects it otherwise', () => {
    const wide = { ...berlin, horizonDays: 1000 };
    expect(at(parseScheduleDate('2028-02-29T10:00Z', wide))).toBe(Date.UTC(2028, 1, 29, 10));
    expect(message(parseScheduleDate('2027-02-29T10:00Z', wide))).toContain('2027-02 has days 01 to 28');
  });
});

describe('parseScheduleDate: offsets and zones', () => {
  it('reads Z as UTC', () => {
    const result = parseScheduleDate('2026-12-01T09:00Z', berlin);
    expect(at(result)).toBe(Date.UTC(2026, 11, 1, 9));
    expect(zoneOf(result)).toBe('UTC');
  });

  it('reads an explicit offset as that instant and reports the offset', () => {
    const result = parseScheduleDate('2026-12-01T09:00+02:00', berlin);
    expect(at(result)).toBe(Date.UTC(2026, 11, 1, 7));
    expect(zoneOf(result)).toBe('+02:00');
    expect(zoneOf(parseScheduleDate('2026-12-01T09:00-0530', berlin))).toBe('-05:30');
  });

  it('rejects an offset beyond 23:59', () => {
    expect(message(parseScheduleDate('2026-12-01T09:00+24:00', berlin))).toContain(
      'offset +24:00 out of range',
    );
  });

  it('uses a bracket zone instead of the configured zone', () => {
    const result = parseScheduleDate('2026-12-01T09:00[America/New_York]', berlin);
    expect(at(result)).toBe(Date.UTC(2026, 11, 1, 14));
    expect(zoneOf(result)).toBe('America/New_York');
  });

  it('accepts an offset that agrees with the bracket zone and reports the zone', () => {
    const result = parseScheduleDate('2026-12-01T09:00+01:00[Europe/Berlin]', { ...berlin, timeZone: 'UTC' });
    expect(at(result)).toBe(Date.UTC(2026, 11, 1, 8));
    expect(zoneOf(result)).toBe('Europe/Berlin');
  });

  it('rejects an offset that disagrees with the bracket zone', () => {
    expect(message(parseScheduleDate('2026-12-01T09:00+03:00[Europe/Berlin]', berlin))).toBe(
      'ScheduleDate "2026-12-01T09:00+03:00[Europe/Berlin]" has offset +03:00 but Europe/Berlin is at +01:00 then; fix the offset or drop it',
    );
  });

  it('accepts Z with a bracket zone, since Z leaves the local offset open', () => {
    const result = parseScheduleDate('2026-12-01T09:00Z[Asia/Tokyo]', berlin);
    expect(at(result)).toBe(Date.UTC(2026, 11, 1, 9));
    expect(zoneOf(result)).toBe('Asia/Tokyo');
  });

  it('rejects an unknown bracket zone naming it', () => {
    expect(message(parseScheduleDate('2026-12-01T09:00[Mars/Base]', berlin))).toContain(
      'uses time zone "Mars/Base", which is not an IANA time zone',
    );
  });

  it('rejects a wall-clock time when the configured zone is unknown, naming the zone', () => {
    const options = { now: NOW, timeZone: 'Mars/Base' };
    expect(message(parseScheduleDate('2026-12-01T09:00', options))).toContain('"Mars/Base"');
    expect(message(parseScheduleDate('2026-12-01T09:00', { now: NOW, timeZone: '' }))).toContain('""');
  });

  it('ignores an unknown configured zone when the value carries its own offset', () => {
    expect(at(parseScheduleDate('2026-12-01T09:00Z', { now: NOW, timeZone: 'Mars/Base' }))).toBe(
      Date.UTC(2026, 11, 1, 9),
    );
  });

  it('handles half-hour zones (Asia/Kolkata)', () => {
    expect(at(parseScheduleDate('2026-12-01T09:00', { now: NOW, timeZone: 'Asia/Kolkata' }))).toBe(
      Date.UTC(2026, 11, 1, 3, 30),
    );
  });
});

describe('parseScheduleDate: daylight saving', () => {
  it('rejects a time in the spring-forward gap and suggests the shifted time', () => {
    expect(message(parseScheduleDate('2026-03-29T02:30', berlin))).toBe(
      'ScheduleDate "2026-03-29T02:30" does not exist in Europe/Berlin because clocks move forward then; use e.g. 2026-03-29T03:30',
    );
  });

  it('takes the earlier instant in the fall-back overlap', () => {
    expect(at(parseScheduleDate('2026-10-25T02:30', berlin))).toBe(Date.UTC(2026, 9, 25, 0, 30));
    expect(at(parseScheduleDate('2026-10-25T02:30+01:00[Europe/Berlin]', berlin))).toBe(
      Date.UTC(2026, 9, 25, 1, 30),
    );
  });

  it('handles America/New_York gap and overlap', () => {
    const ny = { now: NOW, timeZone: 'America/New_York' };
    expect(message(parseScheduleDate('2026-03-08T02:30', ny))).toContain(
      'does not exist in America/New_York',
    );
    expect(at(parseScheduleDate('2026-11-01T01:30', ny))).toBe(Date.UTC(2026, 10, 1, 5, 30));
  });

  it('handles the 30-minute shift of Australia/Lord_Howe', () => {
    const lordHowe = { now: NOW, timeZone: 'Australia/Lord_Howe' };
    expect(message(parseScheduleDate('2026-10-04T02:15', lordHowe))).toContain('clocks move forward');
    expect(at(parseScheduleDate('2026-10-04T02:30', lordHowe))).toBe(Date.UTC(2026, 9, 3, 15, 30));
    // 01:45 occurs at +11:00 and again at +10:30; the earlier is +11:00.
    expect(at(parseScheduleDate('2026-04-05T01:45', lordHowe))).toBe(Date.UTC(2026, 3, 4, 14, 45));
  });
});

describe('parseScheduleDate: window around now', () => {
  const iso = (ms: number) => new Date(ms).toISOString();

  it('accepts up to the past tolerance and rejects beyond it', () => {
    expect(at(parseScheduleDate(iso(NOW - 59_000), berlin))).toBe(NOW - 59_000);
    expect(at(parseScheduleDate(iso(NOW - 60_000), berlin))).toBe(NOW - 60_000);
    expect(message(parseScheduleDate(iso(NOW - 61_000), berlin))).toBe(
      `ScheduleDate "${iso(NOW - 61_000)}" is in the past; use a time after ${iso(NOW)}`,
    );
  });

  it('honours a custom past tolerance', () => {
    expect(message(parseScheduleDate(iso(NOW - 1), { ...berlin, pastToleranceSeconds: 0 }))).toContain(
      'is in the past',
    );
  });

  it('accepts up to the horizon and rejects beyond it', () => {
    expect(at(parseScheduleDate(iso(NOW + 365 * DAY), berlin))).toBe(NOW + 365 * DAY);
    expect(message(parseScheduleDate(iso(NOW + 365 * DAY + 1000), berlin))).toContain(
      'is more than 365 days ahead; use a time before 2027-01-15T12:00:00.000Z',
    );
  });

  it('honours a custom horizon', () => {
    const options = { ...berlin, horizonDays: 30 };
    expect(at(parseScheduleDate(iso(NOW + 30 * DAY), options))).toBe(NOW + 30 * DAY);
    expect(message(parseScheduleDate(iso(NOW + 31 * DAY), options))).toContain('more than 30 days ahead');
  });
});

describe('parseScheduleDate: properties', () => {
  const within = (ms: number) => ms >= NOW - 60_000 && ms <= NOW + 365 * DAY;

  const nearIso = fc
    .record({
      year: fc.integer({ min: 2025, max: 2028 }),
      month: fc.integer({ min: 0, max: 14 }),
      day: fc.integer({ min: 0, max: 32 }),
      hour: fc.integer({ min: 0, max: 25 }),
      minute: fc.integer({ min: 0, max: 61 }),
      suffix: fc.constantFrom(
        '',
        'Z',
        '+02:00',
        '-05:30',
        '+14:00',
        '[Europe/Berlin]',
        '+01:00[Europe/Berlin]',
        '[X]',
      ),
      zone: fc.constantFrom(
        'Europe/Berlin',
        'America/New_York',
        'Asia/Kolkata',
        'Australia/Lord_Howe',
        'Nope/Zone',
      ),
    })
    .map(({ year, month, day, hour, minute, suffix, zone }) => {
      const p = (n: number) => String(n).padStart(2, '0');
      return { text: `${year}-${p(month)}-${p(day)}T${p(hour)}:${p(minute)}${suffix}`, zone };
    });

  it('never throws on arbitrary text and every accepted value lies in the window', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' })),
        (text) => {
          const result = parseScheduleDate(text, berlin);
          if (result.ok) expect(within(result.value.at)).toBe(true);
          else expect(result.message).not.toMatch(/[\r\n]/);
        },
      ),
    );
  });

  it('never throws on near-ISO text and every accepted value lies in the window', () => {
    let accepted = 0;
    fc.assert(
      fc.property(nearIso, ({ text, zone }) => {
        const result = parseScheduleDate(text, { now: NOW, timeZone: zone });
        if (result.ok) {
          accepted++;
          expect(within(result.value.at)).toBe(true);
        }
        expect(isIsoDateTimeLiteral(text) || !result.ok).toBe(true);
      }),
      { numRuns: 2000 },
    );
    expect(accepted).toBeGreaterThan(100);
  });

  it('reads back any instant in the window formatted with toISOString', () => {
    fc.assert(
      fc.property(fc.integer({ min: NOW - 60_000, max: NOW + 365 * DAY }), (ms) => {
        const result = parseScheduleDate(new Date(ms).toISOString(), berlin);
        expect(at(result)).toBe(ms);
        expect(zoneOf(result)).toBe('UTC');
      }),
    );
  });
});

describe('parseCommitmentDateTime', () => {
  it('combines an ISO date and a 24-hour time in the configured zone', () => {
    expect(at(parseCommitmentDateTime('2026-12-01', '09:30', berlin))).toBe(Date.UTC(2026, 11, 1, 8, 30));
    expect(at(parseCommitmentDateTime('2026-12-01', '09:30:15', berlin))).toBe(
      Date.UTC(2026, 11, 1, 8, 30, 15),
    );
  });

  it('accepts US dates and 12-hour times', () => {
    expect(at(parseCommitmentDateTime('12/01/2026', '2:30 PM', berlin))).toBe(Date.UTC(2026, 11, 1, 13, 30));
    expect(at(parseCommitmentDateTime('12/1/2026', '12:00 am', berlin))).toBe(Date.UTC(2026, 10, 30, 23));
    expect(at(parseCommitmentDateTime('2026-12-01', '12:15PM', berlin))).toBe(Date.UTC(2026, 11, 1, 11, 15));
  });

  it('treats a full ISO date-time in CommitmentDate like ScheduleDate when the time is empty', () => {
    const result = parseCommitmentDateTime('2026-12-01T09:00+02:00', '', berlin);
    expect(at(result)).toBe(Date.UTC(2026, 11, 1, 7));
    expect(zoneOf(result)).toBe('+02:00');
  });

  it('rejects empty parts', () => {
    expect(message(parseCommitmentDateTime('', '09:00', berlin))).toMatch(/^CommitmentDate is empty/);
    expect(message(parseCommitmentDateTime('2026-12-01', ' ', berlin))).toMatch(/^CommitmentTime is empty/);
  });

  it('rejects malformed or unreal dates quoting CommitmentDate', () => {
    expect(message(parseCommitmentDateTime('01.12.2026', '09:00', berlin))).toBe(
      'CommitmentDate "01.12.2026" is not a date; use YYYY-MM-DD (e.g. 2026-12-01) or MM/DD/YYYY',
    );
    expect(message(parseCommitmentDateTime('02/30/2026', '09:00', berlin))).toContain(
      'CommitmentDate "02/30/2026" is not a real date',
    );
  });

  it.each(['9', '25:00', '09:60', '13:00 PM', '0:30 AM', 'noon'])(
    'rejects time %j quoting CommitmentTime',
    (time) => {
      expect(message(parseCommitmentDateTime('2026-12-01', time, berlin))).toContain(
        `CommitmentTime ${JSON.stringify(time)}`,
      );
    },
  );

  it('applies the daylight-saving and window rules', () => {
    expect(message(parseCommitmentDateTime('2026-03-29', '02:30', berlin))).toContain(
      'Commitment date-time "2026-03-29 02:30" does not exist in Europe/Berlin',
    );
    expect(at(parseCommitmentDateTime('2026-10-25', '2:30 AM', berlin))).toBe(Date.UTC(2026, 9, 25, 0, 30));
    expect(message(parseCommitmentDateTime('2025-12-01', '09:00', berlin))).toContain('is in the past');
    expect(message(parseCommitmentDateTime('2027-12-01', '09:00', berlin))).toContain(
      'more than 365 days ahead',
    );
  });

  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (date, time) => {
        const result = parseCommitmentDateTime(date, time, berlin);
        expect(typeof result.ok).toBe('boolean');
      }),
    );
  });
});

describe('isValidTimeZone', () => {
  it.each(['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Etc/GMT+5'])(
    'accepts %s',
    (name) => expect(isValidTimeZone(name)).toBe(true),
  );

  it.each(['', 'Mars/Base', '+02:00', 'Europe/Berlin ', '../etc/passwd'])('rejects %j', (name) =>
    expect(isValidTimeZone(name)).toBe(false),
  );
});

describe('isIsoDateTimeLiteral', () => {
  it.each([
    '2026-12-01T09:00',
    '2026-12-01 09:00:00.5',
    '2020-01-01T00:00Z',
    '2026-12-01T09:00+01:00[Europe/Berlin]',
  ])('accepts %j regardless of now', (text) => expect(isIsoDateTimeLiteral(text)).toBe(true));

  it.each([
    '',
    '2026-12-01',
    '2026-02-30T10:00',
    '2026-12-01T24:00',
    'tomorrow',
    '2026-12-01T09:00[Mars/Base]',
  ])('rejects %j', (text) => expect(isIsoDateTimeLiteral(text)).toBe(false));
});
