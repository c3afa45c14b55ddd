import type { Platform } from '../../platform/platform.js';
import { type Api, errors, page, pageQuery, viaApi } from '../app.js';
import { HttpError, unwrap } from '../http-error.js';
import { Agent, AgentStateBody, IdParams, ListQuery, Page } from '../schemas.js';

const tags = ['agents'];

export function agentRoutes(api: Api, platform: Platform) {
  api.get(
    '/agents',
    {
      config: { permission: 'agents:read' },
      schema: {
        tags,
        summary: 'List agents',
        querystring: ListQuery,
        response: { 200: Page(Agent), ...errors(400) },
      },
    },
    async (request) => {
      const { limit = 100 } = request.query;
      return page(
        await platform.read.agents({
          ...pageQuery(request.query),
        }),
        limit,
      );
    },
  );

  api.get(
    '/agents/:id',
    {
      config: { permission: 'agents:read' },
      schema: { tags, summary: 'One agent', params: IdParams, response: { 200: Agent, ...errors(404) } },
    },
    async (request) => {
      const agent = await platform.read.agent(Number(request.params.id));
      if (!agent) throw new HttpError('NotFound', `no agent with ID ${request.params.id}`);
      return agent;
    },
  );

  api.put(
    '/agents/:id/state',
    {
      // agents:write, or the agent setting its own state (checked by the platform).
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
