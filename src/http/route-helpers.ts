import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyRequest,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import { MAX_ID } from '../platform/model.js';
import { oneLine, quote } from '../text.js';
import { HttpError } from './http-error.js';
import { DEFAULT_PAGE_SIZE, ErrorBody, MAX_PAGE_SIZE } from './schemas.js';

/** What a route file registers its routes on: the `/api/v1` scope, typed by TypeBox. */
export type Api = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** Error responses every API route may give, for the OpenAPI document. */
export const errors = (...statuses: number[]) =>
  Object.fromEntries([401, 403, ...statuses].map((s) => [s, ErrorBody])) as Record<number, typeof ErrorBody>;

/** Who is acting, for the platform and its audit log: the token's agent, over the API, from where. */
export const viaApi = (request: FastifyRequest) => ({
  channel: 'api' as const,
  actor: request.actor,
  via: `api from ${request.ip}`,
});

/**
 * A whole number from a query string, strictly: digits only (no sign, point, exponent, spaces,
 * `Infinity`), within `min`…`max`; anything else is 400 InvalidRequest naming the field and,
 * in words, what it takes.
 */
function wholeNumber(
  text: string | undefined,
  field: string,
  range: { min: number; max: number },
  takes: string,
): number | undefined {
  if (text === undefined) return undefined;
  const n = /^[0-9]{1,20}$/.test(text) ? Number(text) : Number.NaN;
  if (n >= range.min && n <= range.max) return n;
  throw new HttpError('InvalidRequest', oneLine(`${field} must be ${takes}, not ${quoteText(text)}`), field);
}

const quoteText = (text: string) => (text === '' ? 'empty' : quote(text, { max: 40, marks: 'single' }));

/** An ID in a query string (`?skillId=2001`): 1 to MAX_ID, digits only. */
export const queryId = (text: string | undefined, field: string): number | undefined =>
  wholeNumber(text, field, { min: 1, max: MAX_ID }, `an ID (a whole number from 1 to ${MAX_ID})`);

/** A list request's page, read strictly from its `limit` and `cursor` (see wholeNumber). */
export function pageOf(query: { limit?: string; cursor?: string }): { limit: number; afterId?: number } {
  const limit =
    wholeNumber(
      query.limit,
      'limit',
      { min: 1, max: MAX_PAGE_SIZE },
      `a whole number from 1 to ${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE})`,
    ) ?? DEFAULT_PAGE_SIZE;
  const afterId = wholeNumber(
    query.cursor,
    'cursor',
    { min: 0, max: MAX_ID },
    "the previous page's nextCursor (a whole number)",
  );
  return { limit, ...(afterId === undefined ? {} : { afterId }) };
}

/** What to read for a page: one row more than `limit` (to know whether another page follows), after the cursor. */
export function pageQuery(query: { limit?: string; cursor?: string }) {
  const { limit, afterId } = pageOf(query);
  return { limit: limit + 1, ...(afterId === undefined ? {} : { afterId }) };
}

/** The `limit` + 1 rows read for the request's page: the page, and the cursor of the next one. */
export function page<T extends { id: number }>(rows: T[], query: { limit?: string; cursor?: string }) {
  const { limit } = pageOf(query);
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? String(last.id) : null };
}
