import type { Platform } from '../../platform/platform.js';
import { type Api, errors, page, pageQuery, viaApi } from '../app.js';
import { unwrap } from '../http-error.js';
import { CreateSkillBody, ListQuery, Page, Skill } from '../schemas.js';

const tags = ['skills'];

export function skillRoutes(api: Api, platform: Platform) {
  api.get(
    '/skills',
    {
      config: { permission: 'skills:read' },
      schema: {
        tags,
        summary: 'List skills',
        querystring: ListQuery,
        response: { 200: Page(Skill), ...errors(400) },
      },
    },
    async (request) => {
      const { limit = 100 } = request.query;
      return page(
        await platform.read.skills({
          ...pageQuery(request.query),
        }),
        limit,
      );
    },
  );

  api.post(
    '/skills',
    {
      config: { permission: 'skills:write' },
      schema: {
        tags,
        summary: 'Create a skill',
        body: CreateSkillBody,
        response: { 201: Skill, ...errors(400, 409) },
      },
    },
    async (request, reply) =>
      reply.status(201).send(unwrap(await platform.createSkill(request.body, viaApi(request)))),
  );
}
