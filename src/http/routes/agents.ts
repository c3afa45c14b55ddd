import type { Platform } from '../../platform/platform.js';
import { unwrap } from '../http-error.js';
import { type Api, errors, page, pageQuery, viaApi } from '../route-helpers.js';
import { Agent, AgentStateBody, IdParams, ListQuery, Page } from '../schemas.js';

const tags = ['agents'];

export function agentRoutes(api: Api, platform: Platform) {
  api.get(
    '/agents',
    {
      config: { operation: 'agents.read' },
      schema: {
        tags,
        summary: 'List agents',
        querystring: ListQuery,
        response: { 200: Page(Agent), ...errors(400) },
      },
    },
    async (request) =>
      page(unwrap(await platform.read.agents(pageQuery(request.query), viaApi(request))), request.query),
  );

  api.get(
    '/agents/:id',
    {
      config: { operation: 'agents.read' },
      schema: { tags, summary: 'One agent', params: IdParams, response: { 200: Agent, ...errors(404) } },
    },
    async (request) => unwrap(await platform.read.agent(Number(request.params.id), viaApi(request))),
  );

  api.put(
    '/agents/:id/state',
    {
      config: { operation: 'agents.setState' },
      schema: {
        tags,
        summary: 'Set an agent’s state; an agent made Available is offered queued contacts at once',
        params: IdParams,
        body: AgentStateBody,
        response: { 200: Agent, ...errors(400, 404, 409) },
      },
    },
    async (request) =>
      unwrap(await platform.setAgentState(Number(request.params.id), request.body.state, viaApi(request))),
  );
}
