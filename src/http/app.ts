import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import ajvFormats from 'ajv-formats';
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Logger } from '../logger.js';
import type { Actor } from '../platform/model.js';
import { type Operation, ruleOf } from '../platform/permissions.js';
import type { Platform } from '../platform/platform.js';
import { oneLine } from '../text.js';
import { HttpError } from './http-error.js';
import type { Metrics } from './metrics.js';
import { createRefusalLog } from './refusal-log.js';
import { agentRoutes } from './routes/agents.js';
import { auditRoutes } from './routes/audit.js';
import { callbackRoutes } from './routes/callbacks.js';
import { contactRoutes } from './routes/contacts.js';
import { scriptRoutes } from './routes/scripts.js';
import { skillRoutes } from './routes/skills.js';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor;
  }
  interface FastifyContextConfig {
    /**
     * The platform operation the route performs. The platform's table says what it needs of the
     * token's profile: documented in OpenAPI, and asked before the body is read.
     */
    operation?: Operation;
  }
}

export interface AppOptions {
  platform: Platform;
  metrics: Metrics;
  log: Logger;
  /** Largest request body in bytes; larger is 413. Default 64 KiB. */
  bodyLimit?: number;
  /** Refused requests audited one by one per client address and minute; then one summary. Default 60. */
  refusalsAuditedPerMinute?: number;
}

export type App = FastifyInstance;

const BEARER = /^Bearer +([A-Za-z0-9_\-.~+/]+=*) *$/i;

/** Deeper JSON than any real request needs is refused before anything walks it recursively. */
const MAX_BODY_DEPTH = 64;

/** Why a parsed body cannot be taken as it is (too deep, a NUL in a string), or undefined. */
function bodyProblem(body: unknown): string | undefined {
  const stack: Array<[unknown, number]> = [[body, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop() as [unknown, number];
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return 'text must not contain the NUL character';
    } else if (value !== null && typeof value === 'object') {
      if (depth >= MAX_BODY_DEPTH) return `the body is nested more than ${MAX_BODY_DEPTH} levels deep`;
      for (const [key, child] of Object.entries(value)) {
        if (key.includes('\u0000')) return 'a field name must not contain the NUL character';
        stack.push([child, depth + 1]);
      }
    }
  }
  return undefined;
}

// ajv-formats is CommonJS: under NodeNext its function is the default export's `default`.
const addFormats = ajvFormats as unknown as typeof ajvFormats.default;

/** Bodies are validated as sent (a string is not a number); query strings are text, so they are coerced. */
function createValidators() {
  const strictAjv = addFormats(
    new Ajv({ coerceTypes: false, removeAdditional: false, allErrors: false, useDefaults: true }),
  );
  const coercingAjv = addFormats(
    new Ajv({ coerceTypes: 'array', removeAdditional: false, allErrors: false, useDefaults: true }),
  );
  for (const ajv of [strictAjv, coercingAjv]) ajv.addKeyword('example');
  return ({ schema, httpPart }: { schema: object; httpPart?: string }) =>
    (httpPart === 'body' ? strictAjv : coercingAjv).compile(schema);
}

/** Errors Node's HTTP parser finds before Fastify sees a request, answered in the API's error shape. */
function answerClientError(error: Error & { code?: string }, socket: import('node:net').Socket) {
  if (!socket.writable) return socket.destroy();
  const tooLarge = error.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
  const body = JSON.stringify({
    error: {
      code: 'InvalidRequest',
      message: tooLarge ? 'the request headers are too large' : 'the HTTP request is malformed',
    },
  });
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Turns anything thrown into the one error body, with the status its code carries. */
function toHttpError(error: FastifyError | HttpError | Error): HttpError {
  if (error instanceof HttpError) return error;
  const e = error as FastifyError;
  if (e.validation && e.validation.length > 0) {
    const v = e.validation[0] as {
      instancePath?: string;
      params?: Record<string, unknown>;
      message?: string;
    };
    const extra = v.params?.additionalProperty ?? v.params?.missingProperty;
    const path = `${v.instancePath ?? ''}${extra === undefined ? '' : `/${String(extra)}`}`
      .replace(/^\//, '')
      .replace(/\//g, '.');
    const where = e.validationContext ?? 'body';
    const what =
      v.params?.additionalProperty !== undefined ? 'is not a known field' : (v.message ?? 'is invalid');
    return new HttpError(
      'InvalidRequest',
      `${where}${path ? ` field ${path}` : ''} ${what}`,
      path || undefined,
    );
  }
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HttpError('PayloadTooLarge', 'the request body is larger than the server accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HttpError('UnsupportedMediaType', 'send the body as application/json');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new HttpError('InvalidRequest', 'the JSON body is empty');
  }
  if (e instanceof SyntaxError || e.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return new HttpError('InvalidRequest', `malformed JSON: ${e.message}`);
  }
  const status = typeof e.statusCode === 'number' ? e.statusCode : 500;
  if (status >= 400 && status < 500) return new HttpError('InvalidRequest', e.message);
  return new HttpError('InternalError', 'an internal error occurred; it has been logged');
}

/** The HTTP API (DESIGN §6) over the platform: the same operations the actions and the CLI use. */
export async function buildApp(options: AppOptions): Promise<App> {
  const { platform, metrics, log } = options;
  const refusals = createRefusalLog({
    clock: platform.clock,
    perWindow: options.refusalsAuditedPerMinute ?? 60,
    windowMs: 60_000,
    maxAddresses: 10_000,
  });
  /** A refused request is audited; an audit that fails (the database down) does not change the answer. */
  const auditRefusal = async (request: FastifyRequest, answer: HttpError) => {
    const decision = refusals.decide(request.ip);
    if (decision === 'skip') return;
    const actor = (request as { actor?: Actor | null }).actor ?? undefined;
    try {
      await platform.recordRefusal(
        { channel: 'api', via: `api from ${request.ip}`, ...(actor ? { actor } : {}) },
        {
          method: request.method,
          route: request.routeOptions.url ?? request.url.split('?')[0] ?? '',
          status: answer.status,
          code: answer.code,
          message:
            decision === 'summarize'
              ? `${answer.message} (more refusals from ${request.ip} this minute are not audited one by one)`
              : answer.message,
        },
      );
    } catch (err) {
      log.error({ err }, 'a refused request could not be audited');
    }
  };
  const app = Fastify({
    bodyLimit: options.bodyLimit ?? 64 * 1024,
    routerOptions: { maxParamLength: 200 },
    clientErrorHandler: answerClientError,
    // A URL the router cannot read (bad percent-encoding, an overlong id) is the client's mistake.
    frameworkErrors: (error, _request, reply) => {
      const body = {
        error: { code: 'InvalidRequest', message: oneLine(`the URL cannot be read: ${error.message}`) },
      };
      void (reply as unknown as FastifyReply).status(400).send(body);
    },
  }).withTypeProvider<TypeBoxTypeProvider>();
  // Unknown fields are an error, not silently dropped (see createValidators).
  app.setValidatorCompiler(createValidators());

  // JSON only: any other body is 415, not a string that then fails validation.
  app.removeContentTypeParser(['text/plain']);
  // A POST with no body at all (`/end`, `/signal`) is read as `{}`.
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && request.method !== 'GET') request.body = {};
    const problem = bodyProblem(request.body);
    if (problem) throw new HttpError('InvalidRequest', problem);
  });

  app.setErrorHandler(async (error, request, reply) => {
    const answer = toHttpError(error as Error);
    if (answer.status >= 500)
      log.error({ err: error, url: request.url, method: request.method }, 'request failed');
    if (answer.status === 401 || answer.status === 403) await auditRefusal(request, answer);
    const body: { code: string; message: string; field?: string } = {
      code: answer.code,
      message: oneLine(answer.message),
    };
    if (answer.field !== undefined) body.field = answer.field;
    return reply.status(answer.status).send({ error: body });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({
      error: { code: 'NotFound', message: `no route ${request.method} ${request.url.split('?')[0]}` },
    }),
  );
  app.addHook('onResponse', async (request, reply) => {
    metrics.observeRequest(
      request.method,
      request.routeOptions.url ?? 'unknown',
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
  });

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'Switchboard API',
        version: '1',
        description:
          'Contacts, scheduled callbacks, agents, skills and scripts. Errors: `{ "error": { "code", "message", "field"? } }`.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.get('/health', { schema: { hide: true } }, async (_request, reply) => {
    if (await platform.read.health()) return { status: 'ok', database: platform.store.dialect };
    return reply
      .status(503)
      .send({ error: { code: 'ServiceUnavailable', message: 'the database does not answer' } });
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  await app.register(
    async (api) => {
      api.decorateRequest('actor', null as unknown as Actor);
      api.addHook('onRequest', async (request: FastifyRequest) => {
        const header = request.headers.authorization;
        const match = typeof header === 'string' ? BEARER.exec(header) : null;
        if (!match?.[1])
          throw new HttpError(
            'InvalidSecurityUser',
            'send Authorization: Bearer <token> (switchboard token create --agent ID)',
          );
        const actor = await platform.authenticate(match[1]);
        if (!actor.ok) throw new HttpError('InvalidSecurityUser', actor.message);
        request.actor = actor.value;
        const { operation } = request.routeOptions.config;
        const denied = operation && platform.authorize({ channel: 'api', actor: actor.value }, operation);
        if (denied) throw new HttpError(denied.code, denied.message);
      });
      api.addHook('onRoute', (route) => {
        const operation = route.config?.operation;
        // Fastify adds a HEAD route for each GET, sharing its schema: describe it once.
        if (!operation || !route.schema || route.method === 'HEAD') return;
        const { permission, self } = ruleOf(operation);
        const needs = `Needs \`${permission}\`${self ? ' (or the agent acting on itself)' : ''}.`;
        route.schema.description = route.schema.description ? `${route.schema.description} ${needs}` : needs;
      });
      const typed = api.withTypeProvider<TypeBoxTypeProvider>();
      contactRoutes(typed, platform);
      callbackRoutes(typed, platform);
      agentRoutes(typed, platform);
      skillRoutes(typed, platform);
      scriptRoutes(typed, platform);
      auditRoutes(typed, platform);
    },
    { prefix: '/api/v1' },
  );
  return app;
}
