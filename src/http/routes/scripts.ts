import { Type } from '@sinclair/typebox';
import { actions } from '../../actions/registry.js';
import type { Platform } from '../../platform/platform.js';
import { HttpError, unwrap } from '../http-error.js';
import { type Api, errors, viaApi } from '../route-helpers.js';
import { Finding, ScriptParams } from '../schemas.js';

const tags = ['scripts'];
const ScriptBody = Type.Object(
  {},
  { additionalProperties: true, description: 'A script (schemas/script.schema.json)' },
);
const Deployed = Type.Object({ name: Type.String(), updatedAt: Type.String(), script: ScriptBody });

export function scriptRoutes(api: Api, platform: Platform) {
  api.get(
    '/scripts/:name',
    {
      config: { operation: 'scripts.read' },
      schema: {
        tags,
        summary: 'A deployed script',
        params: ScriptParams,
        response: { 200: Deployed, ...errors(404) },
      },
    },
    async (request) => unwrap(await platform.read.script(request.params.name, viaApi(request))),
  );

  api.put(
    '/scripts/:name',
    {
      config: { operation: 'scripts.deploy' },
      schema: {
        tags,
        summary: 'Deploy a script under its name (only a script without validation errors)',
        params: ScriptParams,
        body: ScriptBody,
        response: {
          200: Type.Object({ name: Type.String(), updatedAt: Type.String(), findings: Type.Array(Finding) }),
          ...errors(400),
        },
      },
    },
    async (request) => {
      const body = request.body as { name?: unknown };
      if (body.name !== request.params.name) {
        throw new HttpError(
          'InvalidRequest',
          `the script's name ${typeof body.name === 'string' ? `'${body.name}'` : `(a ${typeof body.name})`} differs from the URL's '${request.params.name}'`,
          'name',
        );
      }
      const deployed = unwrap(
        await platform.deployScript(JSON.stringify(request.body), actions, viaApi(request)),
      );
      return {
        name: deployed.script.name,
        updatedAt: deployed.script.updatedAt,
        findings: deployed.findings,
      };
    },
  );

  api.post(
    '/scripts/:name/validate',
    {
      config: { operation: 'scripts.validate' },
      schema: {
        tags,
        summary: 'Validate a script without deploying it',
        params: ScriptParams,
        body: ScriptBody,
        response: {
          200: Type.Object({ valid: Type.Boolean(), findings: Type.Array(Finding) }),
          ...errors(400),
        },
      },
    },
    async (request) =>
      unwrap(await platform.validateScript(JSON.stringify(request.body, null, 2), actions, viaApi(request))),
  );
}
