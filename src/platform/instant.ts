import { Temporal } from 'temporal-polyfill';
import { fail, ok, type Result } from '../result.js';
import { quote } from '../text.js';

const EXAMPLE = '2026-11-23T08:00:00Z';

/**
 * An instant as every door takes one — `--now`, `--until`, a world's `now`, a query's `dueFrom`:
 * ISO 8601 with a date, a time and `Z` or an offset, read by Temporal. Wall-clock text is refused
 * here, since an instant cannot depend on where it is read (schedule dates, which may be wall-clock,
 * have their own rules in schedule-date.ts).
 */
export function parseInstant(text: string, label: string): Result<number, 'InvalidInstant'> {
  const refuse = () =>
    fail(
      'InvalidInstant',
      `${label} ${quote(text, { marks: 'single' })} must be an ISO 8601 instant with Z or an offset, e.g. ${EXAMPLE}`,
    );
  // Temporal also reads a bare date or a week date as an instant of some zone; an instant here is written out.
  if (!/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}/.test(text)) return refuse();
  try {
    return ok(Temporal.Instant.from(text).epochMilliseconds);
  } catch {
    return refuse();
  }
}
