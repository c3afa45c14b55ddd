import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyRequest,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import { ErrorBody } from './schemas.js';

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

/** What to read for a page: one row more than `limit` (to know whether another page follows), after the cursor. */
export function pageQuery(query: { limit?: number; cursor?: string }) {
  const limit = query.limit ?? 100;
  return { limit: limit + 1, ...(query.cursor === undefined ? {} : { afterId: Number(query.cursor) }) };
}

/** `limit` + 1 rows were read: the page, and the cursor of the next one. */
export function page<T extends { id: number }>(rows: T[], limit: number) {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last ? String(last.id) : null };
}
