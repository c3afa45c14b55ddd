import type { Platform } from '../../platform/platform.js';
import { type Api, errors, page } from '../app.js';
import { AuditEntry, ListQuery, Page } from '../schemas.js';

export function auditRoutes(api: Api, platform: Platform) {
  api.get(
    '/audit',
    {
      config: { permission: 'admin' },
      schema: {
        tags: ['audit'],
        summary: 'Who did what, when, through which channel',
        querystring: ListQuery,
        response: { 200: Page(AuditEntry), ...errors(400) },
      },
    },
    async (request) => {
      const { limit = 100, cursor } = request.query;
      return page(
        await platform.read.audit({
          limit: limit + 1,
          ...(cursor === undefined ? {} : { afterId: Number(cursor) }),
        }),
        limit,
      );
    },
  );
}
