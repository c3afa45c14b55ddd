import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATUS_BY_CODE } from '../src/http/http-error.js';
import { PERMISSIONS, type Permission } from '../src/platform/model.js';
import type { ApiResponse } from './support/api-client.js';
import { errorShapeProblem } from './support/api-contract.js';
import { type ApiServer, startApiServer } from './support/api-server.js';
import { AGENT, agentOf, permissionsOf, relayScript, SKILL, type TokenKey } from './support/api-world.js';
import { describeEachStore } from './support/stores.js';

/**
 * Every route of DESIGN §6 with the permission its route file names (`config.permission`; PUT
 * /agents/{id}/state: agents:write, checked by the platform, or the agent itself), a request that
 * a token with that permission may make, and what it answers. Requests with the permission touch
 * nothing the other cases depend on (unknown IDs, far-future callbacks, new skills).
 */
interface RouteCase {
  /** As /openapi.json names it. */
  route: string;
  permission: Permission;
  path(s: ApiServer): string;
  body?: unknown;
  /** The status a token with the permission gets. */
  allowed: number;
}

const UNKNOWN = 999_999_999;
const inTwoDays = () => new Date(Date.now() + 2 * 86_400_000).toISOString();

const ROUTES: RouteCase[] = [
  {
    route: 'POST /api/v1/contacts',
    permission: 'contacts:write',
    path: () => '/api/v1/contacts',
    body: { mediaType: 'Generic' },
    allowed: 201,
  },
  {
    route: 'GET /api/v1/contacts',
    permission: 'contacts:read',
    path: () => '/api/v1/contacts',
    allowed: 200,
  },
  {
    route: 'GET /api/v1/contacts/{id}',
    permission: 'contacts:read',
    path: () => '/api/v1/contacts/5001',
    allowed: 200,
  },
  {
    route: 'POST /api/v1/contacts/{id}/end',
    permission: 'contacts:end',
    path: () => `/api/v1/contacts/${UNKNOWN}/end`,
    body: {},
    allowed: 404,
  },
  {
    route: 'POST /api/v1/contacts/{id}/signal',
    permission: 'contacts:write',
    path: () => `/api/v1/contacts/${UNKNOWN}/signal`,
    body: { params: ['go'] },
    allowed: 404,
  },
  {
    route: 'POST /api/v1/scheduled-callbacks',
    permission: 'callbacks:write',
    path: () => '/api/v1/scheduled-callbacks',
    get body() {
      return { phoneNumber: '+4930901820', skillId: SKILL.later, scheduleDate: inTwoDays() };
    },
    allowed: 201,
  },
  {
    route: 'GET /api/v1/scheduled-callbacks',
    permission: 'callbacks:read',
    path: () => '/api/v1/scheduled-callbacks',
    allowed: 200,
  },
  {
    route: 'GET /api/v1/scheduled-callbacks/{id}',
    permission: 'callbacks:read',
    path: (s) => `/api/v1/scheduled-callbacks/${s.seededCallbackId}`,
    allowed: 200,
  },
  {
    route: 'PUT /api/v1/scheduled-callbacks/{id}',
    permission: 'callbacks:write',
    path: (s) => `/api/v1/scheduled-callbacks/${s.seededCallbackId}`,
    body: { notes: 'edited by the permission matrix' },
    allowed: 200,
  },
  {
    route: 'DELETE /api/v1/scheduled-callbacks/{id}',
    permission: 'callbacks:write',
    path: () => `/api/v1/scheduled-callbacks/${UNKNOWN}`,
    allowed: 404,
  },
  { route: 'GET /api/v1/agents', permission: 'agents:read', path: () => '/api/v1/agents', allowed: 200 },
  {
    route: 'GET /api/v1/agents/{id}',
    permission: 'agents:read',
    path: () => `/api/v1/agents/${AGENT.admin}`,
    allowed: 200,
  },
  {
    route: 'PUT /api/v1/agents/{id}/state',
    permission: 'agents:write',
    path: () => `/api/v1/agents/${AGENT.spare}/state`,
    body: { state: 'Unavailable' },
    allowed: 200,
  },
  { route: 'GET /api/v1/skills', permission: 'skills:read', path: () => '/api/v1/skills', allowed: 200 },
  {
    route: 'POST /api/v1/skills',
    permission: 'skills:write',
    path: () => '/api/v1/skills',
    body: { name: 'Matrix skill', mediaType: 'Email', direction: 'Inbound' },
    allowed: 201,
  },
  {
    route: 'GET /api/v1/scripts/{name}',
    permission: 'scripts:read',
    path: () => '/api/v1/scripts/relay',
    allowed: 200,
  },
  {
    route: 'PUT /api/v1/scripts/{name}',
    permission: 'scripts:write',
    path: () => '/api/v1/scripts/relay',
    body: relayScript(),
    allowed: 200,
  },
  {
    route: 'POST /api/v1/scripts/{name}/validate',
    permission: 'scripts:read',
    path: () => '/api/v1/scripts/relay/validate',
    body: relayScript(),
    allowed: 200,
  },
  { route: 'GET /api/v1/audit', permission: 'admin', path: () => '/api/v1/audit', allowed: 200 },
];

/** Authorization values that are not `Bearer <token>`. */
const MALFORMED = [
  '',
  'Bearer',
  'Bearer ',
  'Basic YW5hOnNlY3JldA==',
  'Token sb_abc',
  'Bearer a b',
  'Bearer <script>',
  'Bearer\tsb_abc',
];

const UNKNOWN_TOKENS = [
  'sb_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  'not-a-switchboard-token',
  'x'.repeat(4000),
];

/** The tokens the matrix uses: admin, Reader, Mixed 1–3 (see MIXED), no profile, spare (no profile). */
const KEYS: TokenKey[] = ['admin', 'reader', 'mixed1', 'mixed2', 'mixed3', 'none', 'spare'];

/** Tokens whose agent lacks `p` — for PUT state, but the agent whose state it sets. */
function lacking(c: RouteCase): TokenKey[] {
  return KEYS.filter((k) => {
    const held = permissionsOf(k);
    if (held.has('admin') || held.has(c.permission)) return false;
    return !(c.route.startsWith('PUT /api/v1/agents/') && agentOf(k) === AGENT.spare);
  });
}

const granted = (c: RouteCase): TokenKey[] =>
  KEYS.filter((k) => permissionsOf(k).has('admin') || permissionsOf(k).has(c.permission));

function expectError(res: ApiResponse, status: number, code: string, what: string) {
  expect(errorShapeProblem(res.json), `${what}: ${res.text}`).toBeUndefined();
  expect({ what, status: res.status, code: (res.json as { error: { code: string } }).error.code }).toEqual({
    what,
    status,
    code,
  });
  expect(STATUS_BY_CODE[code]).toBe(status);
}

describe('the matrix tokens', () => {
  it('Reader and Mixed 1–3 give every permission but admin its own holder pattern, never none or all', () => {
    const coders: TokenKey[] = ['reader', 'mixed1', 'mixed2', 'mixed3'];
    const codes = PERMISSIONS.filter((p) => p !== 'admin').map((p) =>
      coders.map((k) => (permissionsOf(k).has(p) ? '1' : '0')).join(''),
    );
    expect(new Set(codes).size).toBe(codes.length);
    expect(codes).not.toContain('0000');
    expect(codes).not.toContain('1111');
  });
});

describeEachStore('API permission matrix', (kind) => {
  let server: ApiServer;
  beforeAll(async () => {
    server = await startApiServer(kind, { tokens: KEYS });
  });
  afterAll(async () => {
    await server?.stop();
  });

  const send = (c: RouteCase, auth: { token?: string; authorization?: string }) =>
    server.request({
      method: c.route.split(' ')[0] as string,
      path: c.path(server),
      ...(c.body === undefined ? {} : { body: c.body }),
      ...(auth.token ? { token: auth.token } : {}),
      ...(auth.authorization === undefined ? {} : { headers: { authorization: auth.authorization } }),
    });

  it('covers every route the server documents, and each documents 401 and 403', async () => {
    const res = await server.request({ path: '/openapi.json' });
    expect(res.status).toBe(200);
    const doc = res.json as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    const documented: string[] = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        if (!path.startsWith('/api/v1/')) continue;
        documented.push(`${method.toUpperCase()} ${path}`);
        expect(Object.keys(operation.responses), `${method} ${path}`).toEqual(
          expect.arrayContaining(['401', '403']),
        );
      }
    }
    expect(documented.sort()).toEqual(ROUTES.map((r) => r.route).sort());
  });

  for (const c of ROUTES) {
    describe(c.route, () => {
      it('without a token: 401 InvalidSecurityUser', async () => {
        expectError(await send(c, {}), 401, 'InvalidSecurityUser', 'no Authorization');
      });

      it('with a malformed Authorization header: 401 InvalidSecurityUser', async () => {
        for (const value of MALFORMED) {
          expectError(await send(c, { authorization: value }), 401, 'InvalidSecurityUser', `'${value}'`);
        }
        // The scheme without its token, before a valid token, after it: still not `Bearer <token>`.
        const admin = server.token('admin');
        for (const value of [`Basic ${admin}`, `Bearer ${admin} ${admin}`, `${admin}`]) {
          expectError(await send(c, { authorization: value }), 401, 'InvalidSecurityUser', value);
        }
      });

      it('with an unknown token: 401 InvalidSecurityUser', async () => {
        for (const token of UNKNOWN_TOKENS) {
          expectError(await send(c, { token }), 401, 'InvalidSecurityUser', token.slice(0, 40));
        }
        // A real token with one character changed.
        const admin = server.token('admin');
        const forged = `${admin.slice(0, -1)}${admin.endsWith('A') ? 'B' : 'A'}`;
        expectError(await send(c, { token: forged }), 401, 'InvalidSecurityUser', 'forged');
      });

      it('with a revoked token: 401 InvalidSecurityUser', async () => {
        const res = await send(c, { token: server.revokedToken });
        expectError(res, 401, 'InvalidSecurityUser', 'revoked');
        expect((res.json as { error: { message: string } }).error.message).toMatch(/revoked/);
      });

      it(`with a token whose profile lacks ${c.permission}: 403 Unauthorized`, async () => {
        const keys = lacking(c);
        expect(keys.length).toBeGreaterThan(0);
        expect(keys).toContain('none');
        for (const key of keys) {
          const res = await send(c, { token: server.token(key) });
          expectError(res, 403, 'Unauthorized', key);
          expect((res.json as { error: { message: string } }).error.message).toContain(c.permission);
        }
      });

      it(`with a token whose profile holds ${c.permission}: ${c.allowed}`, async () => {
        const keys = granted(c);
        expect(keys).toContain('admin');
        if (c.permission !== 'admin') expect(keys.length).toBeGreaterThan(1);
        for (const key of keys) {
          const res = await send(c, { token: server.token(key) });
          expect({ key, status: res.status, body: res.status === c.allowed ? '' : res.text }).toEqual({
            key,
            status: c.allowed,
            body: '',
          });
        }
      });
    });
  }

  it('PUT /agents/{id}/state: an agent without agents:write may set its own state', async () => {
    for (const key of ['none', 'spare', 'reader'] as const) {
      const id = agentOf(key);
      const res = await server.request({
        method: 'PUT',
        path: `/api/v1/agents/${id}/state`,
        token: server.token(key),
        body: { state: 'Unavailable' },
      });
      expect({ key, status: res.status }).toEqual({ key, status: 200 });
      expect(res.json).toMatchObject({ id, state: 'Unavailable' });
    }
    // ...but not another's, even one with fewer rights.
    const res = await server.request({
      method: 'PUT',
      path: `/api/v1/agents/${AGENT.none}/state`,
      token: server.token('reader'),
      body: { state: 'Unavailable' },
    });
    expectError(res, 403, 'Unauthorized', 'reader sets none');
  });

  it('the permission is checked before the body: a lacking token with a bad body is still 403', async () => {
    const res = await server.request({
      method: 'POST',
      path: '/api/v1/skills',
      token: server.token('reader'),
      body: { bogus: true },
    });
    expectError(res, 403, 'Unauthorized', 'reader, bad body');
    const none = await server.request({ method: 'POST', path: '/api/v1/skills', raw: '{oops', headers: {} });
    expectError(none, 401, 'InvalidSecurityUser', 'no token, malformed body');
  });
});
