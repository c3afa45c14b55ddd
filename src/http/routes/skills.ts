import type { Platform } from '../../platform/platform.js';
import { unwrap } from '../http-error.js';
import { type Api, errors, page, pageQuery, viaApi } from '../route-helpers.js';
import { CreateSkillBody, ListQuery, Page, Skill } from '../schemas.js';

const tags = ['skills'];

export function skillRoutes(api: Api, platform: Platform) {
  api.get(
    '/skills',
    {
      config: { operation: 'skills.read' },
      schema: {
        tags,
        summary: 'List skills',
        querystring: ListQuery,
        response: { 200: Page(Skill), ...errors(400) },
      },
    },
    async (request) =>
      page(unwrap(await platform.read.skills(pageQuery(request.query), viaApi(request))), request.query),
  );

  api.post(
    '/skills',
    {
      config: { operation: 'skills.create' },
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
