import { Temporal } from 'temporal-polyfill';
import { fail, ok, type Result } from '../result.js';
import { quote } from '../text.js';

export interface ScheduleDateOptions {
  now: number;
  timeZone: string;
  horizonDays?: number;
  pastToleranceSeconds?: number;
}

/** `at`: the UTC instant (epoch ms); `timeZone`: the zone it was given in (IANA, UTC for Z, or an offset). */
export type ScheduleDateResult = Result<{ at: number; timeZone: string }, 'InvalidScheduleDate'>;

interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  nanosecond: number;
}

/** `offset` is 'Z' or a normalised '±HH:mm'; `zone` is the RFC 9557 bracket annotation. */
interface IsoParts {
  wall: WallClock;
  offset?: { text: string; minutes: number } | 'Z';
  zone?: string;
}

const EXAMPLE = '2026-12-01T09:00';
const DAY_MS = 86_400_000;

const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?(?:\[!?([^[\]]*)\])?)?$/;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const US_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;
const TIME_24H = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/;
const TIME_12H = /^(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp])\.?[Mm]\.?$/;

export function parseScheduleDate(text: string, options: ScheduleDateOptions): ScheduleDateResult {
  return parseIsoText(text, 'ScheduleDate', options);
}

export function parseCommitmentDateTime(
  date: string,
  time: string,
  options: ScheduleDateOptions,
): ScheduleDateResult {
  const dateText = date.trim();
  const timeText = time.trim();
  if (dateText === '') return invalid('CommitmentDate is empty; use e.g. 2026-12-01');
  if (timeText === '' && ISO_DATE_TIME.test(dateText) && !ISO_DATE.test(dateText)) {
    return parseIsoText(dateText, 'CommitmentDate', options);
  }
  const dateSubject = `CommitmentDate ${quote(dateText)}`;
  const timeSubject = `CommitmentTime ${quote(timeText)}`;
  const day = readCommitmentDate(dateText);
  if (day === undefined) {
    return invalid(`${dateSubject} is not a date; use YYYY-MM-DD (e.g. 2026-12-01) or MM/DD/YYYY`);
  }
  const dayProblem = dateProblem(day.year, day.month, day.day);
  if (dayProblem) return invalid(`${dateSubject} ${dayProblem}`);
  if (timeText === '') return invalid('CommitmentTime is empty; use e.g. 09:30 or 2:30 PM');
  const clock = readCommitmentTime(timeText);
  if (clock === undefined) {
    return invalid(`${timeSubject} is not a time of day; use HH:mm (e.g. 14:30), HH:mm:ss or h:mm AM/PM`);
  }
  const clockProblem = timeProblem(clock.hour, clock.minute, clock.second);
  if (clockProblem) return invalid(`${timeSubject} ${clockProblem}`);
  const subject = `Commitment date-time ${quote(`${dateText} ${timeText}`)}`;
  return place({ wall: { ...day, ...clock, nanosecond: 0 } }, subject, options);
}

export function isValidTimeZone(name: string): boolean {
  // Temporal also takes offsets like '+02:00' as zones; those are not IANA names.
  if (name.length > 64 || !/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(name)) return false;
  return canonicalZone(name) !== undefined;
}

/** Whether an ISO 8601 date-time is wall-clock time (no Z, no offset): read in a time zone. */
function isWallClock(text: string): boolean {
  const parts = readIsoDateTime(text.trim());
  return typeof parts !== 'string' && parts.offset === undefined;
}

/**
 * How a callback's date was read, for a trace, when it was wall-clock time (else undefined): a
 * ScheduleDate, or a COMMITMENT date and time (a date with a time of day is wall-clock; a lone
 * date may be an instant, as `parseCommitmentDateTime` reads it).
 */
export function describeReading(
  when: string | { date: string; time: string },
  timeZone: string,
  at: number,
): string | undefined {
  const date = (typeof when === 'string' ? when : when.date).trim();
  const time = typeof when === 'string' ? '' : when.time.trim();
  if (time === '' && !isWallClock(date)) return undefined;
  return describeWallClock(time === '' ? date : `${date} ${time}`, timeZone, at);
}

/**
 * How a wall-clock date was read, for a trace: `2026-03-28T14:30 in America/New_York = 18:30Z`
 * (the UTC time to the minute, or to the millisecond when it has more; with its date when that
 * differs from the date written).
 */
function describeWallClock(text: string, timeZone: string, at: number): string {
  const instant = Temporal.Instant.fromEpochMilliseconds(at);
  const utc = instant.toString({ smallestUnit: at % 60_000 === 0 ? 'minute' : 'millisecond' });
  const sameDate = text.trim().startsWith(utc.slice(0, 10));
  return `${text.trim()} in ${timeZone} = ${sameDate ? utc.slice(11) : utc}`;
}

/** Shape and calendar only: now, horizon and DST gaps depend on run-time options. */
export function isIsoDateTimeLiteral(text: string): boolean {
  const parts = readIsoDateTime(text.trim());
  return typeof parts !== 'string' && (parts.zone === undefined || isValidTimeZone(parts.zone));
}

function parseIsoText(text: string, label: string, options: ScheduleDateOptions): ScheduleDateResult {
  const trimmed = text.trim();
  if (trimmed === '') return invalid(`${label} is empty; use an ISO 8601 date-time such as ${EXAMPLE}`);
  const subject = `${label} ${quote(trimmed)}`;
  const parts = readIsoDateTime(trimmed);
  if (typeof parts === 'string') return invalid(`${subject} ${parts}`);
  return place(parts, subject, options);
}

/** Returns the parts, or the reason the text is not an acceptable ISO 8601 date-time. */
function readIsoDateTime(text: string): IsoParts | string {
  const match = ISO_DATE_TIME.exec(text);
  if (!match) {
    return `is not an ISO 8601 date-time; use e.g. ${EXAMPLE}, ${EXAMPLE}Z or ${EXAMPLE}+01:00`;
  }
  const [, y, mo, d, h, mi, s, fraction, offset, zone] = match;
  if (h === undefined || mi === undefined) return `has no time of day; use e.g. ${text}T09:00`;
  const wall: WallClock = {
    year: Number(y),
    month: Number(mo),
    day: Number(d),
    hour: Number(h),
    minute: Number(mi),
    second: Number(s ?? 0),
    nanosecond: Number((fraction ?? '').padEnd(9, '0')),
  };
  const problem =
    dateProblem(wall.year, wall.month, wall.day) ?? timeProblem(wall.hour, wall.minute, wall.second);
  if (problem) return problem;
  const parts: IsoParts = { wall };
  if (zone !== undefined) parts.zone = zone;
  if (offset === 'Z' || offset === 'z') {
    parts.offset = 'Z';
  } else if (offset !== undefined) {
    const sign = offset.startsWith('-') ? -1 : 1;
    const digits = offset.slice(1).replace(':', '');
    const hours = Number(digits.slice(0, 2));
    const minutes = Number(digits.slice(2) || '0');
    if (hours > 23 || minutes > 59) return `has offset ${offset} out of range; use -23:59 to +23:59`;
    const normalised = `${sign < 0 ? '-' : '+'}${pad(hours)}:${pad(minutes)}`;
    parts.offset = { text: normalised, minutes: sign * (hours * 60 + minutes) };
  }
  return parts;
}

function place(parts: IsoParts, subject: string, options: ScheduleDateOptions): ScheduleDateResult {
  const placed = toInstant(parts, subject, options.timeZone);
  if (!placed.ok) return placed;
  const { at } = placed.value;
  const toleranceMs = (options.pastToleranceSeconds ?? 60) * 1000;
  const horizonDays = options.horizonDays ?? 365;
  if (at < options.now - toleranceMs) {
    return invalid(`${subject} is in the past; use a time after ${isoInstant(options.now)}`);
  }
  const latest = options.now + horizonDays * DAY_MS;
  if (at > latest) {
    return invalid(
      `${subject} is more than ${horizonDays} days ahead; use a time before ${isoInstant(latest)}`,
    );
  }
  return placed;
}

function toInstant(parts: IsoParts, subject: string, defaultZone: string): ScheduleDateResult {
  const { wall, offset } = parts;
  const plain = new Temporal.PlainDateTime(
    wall.year,
    wall.month,
    wall.day,
    wall.hour,
    wall.minute,
    wall.second,
    Math.floor(wall.nanosecond / 1e6),
    Math.floor(wall.nanosecond / 1e3) % 1000,
    wall.nanosecond % 1000,
  );
  const zoneName = parts.zone ?? (offset === undefined ? defaultZone : undefined);
  const zone =
    typeof zoneName === 'string' && isValidTimeZone(zoneName) ? canonicalZone(zoneName) : undefined;
  const badZone = `${subject} uses time zone ${quote(String(zoneName))}, which is not an IANA time zone; use e.g. Europe/Berlin`;

  if (offset === undefined) {
    if (zone === undefined) return invalid(badZone);
    const earlier = plain.toZonedDateTime(zone, { disambiguation: 'earlier' });
    if (!earlier.toPlainDateTime().equals(plain)) {
      const after = plain.toZonedDateTime(zone, { disambiguation: 'later' }).toPlainDateTime();
      return invalid(
        `${subject} does not exist in ${zone} because clocks move forward then; use e.g. ${after.toString({ smallestUnit: 'minute' })}`,
      );
    }
    return ok({ at: earlier.epochMilliseconds, timeZone: zone });
  }

  if (zoneName !== undefined && zone === undefined) return invalid(badZone);
  const offsetMinutes = offset === 'Z' ? 0 : offset.minutes;
  const at = plain.toZonedDateTime('UTC').epochMilliseconds - offsetMinutes * 60_000;
  // RFC 9557: Z means "instant known, local offset unspecified", so it fits any bracket zone.
  if (zone !== undefined && offset !== 'Z') {
    const actual = Temporal.Instant.fromEpochMilliseconds(at).toZonedDateTimeISO(zone).offset;
    if (actual !== offset.text) {
      return invalid(
        `${subject} has offset ${offset.text} but ${zone} is at ${actual} then; fix the offset or drop it`,
      );
    }
  }
  return ok({ at, timeZone: zone ?? (offset === 'Z' ? 'UTC' : offset.text) });
}

function readCommitmentDate(text: string): { year: number; month: number; day: number } | undefined {
  const iso = ISO_DATE.exec(text);
  if (iso) return { year: Number(iso[1]), month: Number(iso[2]), day: Number(iso[3]) };
  const us = US_DATE.exec(text);
  if (us) return { year: Number(us[3]), month: Number(us[1]), day: Number(us[2]) };
  return undefined;
}

function readCommitmentTime(text: string): { hour: number; minute: number; second: number } | undefined {
  const h24 = TIME_24H.exec(text);
  if (h24) return { hour: Number(h24[1]), minute: Number(h24[2]), second: Number(h24[3] ?? 0) };
  const h12 = TIME_12H.exec(text);
  if (!h12) return undefined;
  const hour = Number(h12[1]);
  if (hour < 1 || hour > 12) return undefined;
  const pm = h12[4]?.toLowerCase() === 'p';
  return { hour: (hour % 12) + (pm ? 12 : 0), minute: Number(h12[2]), second: Number(h12[3] ?? 0) };
}

function dateProblem(year: number, month: number, day: number): string | undefined {
  if (month < 1 || month > 12) return `has month ${pad(month)}, which does not exist; use 01 to 12`;
  const days = Temporal.PlainYearMonth.from({ year, month }).daysInMonth;
  if (day < 1 || day > days) {
    return `is not a real date: ${String(year).padStart(4, '0')}-${pad(month)} has days 01 to ${days}`;
  }
  return undefined;
}

function timeProblem(hour: number, minute: number, second: number): string | undefined {
  if (hour <= 23 && minute <= 59 && second <= 59) return undefined;
  return 'is not a real time of day; hours run 00 to 23, minutes and seconds 00 to 59';
}

function canonicalZone(name: string): string | undefined {
  try {
    return new Temporal.ZonedDateTime(0n, name).timeZoneId;
  } catch {
    return undefined;
  }
}

function isoInstant(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms);
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function invalid(message: string): ScheduleDateResult {
  return fail('InvalidScheduleDate', message);
}
