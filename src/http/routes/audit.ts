import type { Platform } from '../../platform/platform.js';
import { unwrap } from '../http-error.js';
import { type Api, errors, page, pageQuery, viaApi } from '../route-helpers.js';
import { AuditEntry, ListQuery, Page } from '../schemas.js';

export function auditRoutes(api: Api, platform: Platform) {
  api.get(
    '/audit',
    {
      config: { operation: 'audit.read' },
      schema: {
        tags: ['audit'],
        summary: 'Who did what, when, through which channel',
        querystring: ListQuery,
        response: { 200: Page(AuditEntry), ...errors(400) },
      },
    },
    async (request) =>
      page(unwrap(await platform.read.audit(pageQuery(request.query), viaApi(request))), request.query),
  );
}
