import { METHODS } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { STATUS_BY_CODE } from '../src/http/http-error.js';
import { MEDIA_TYPES } from '../src/platform/model.js';
import type { ApiRequest, ApiResponse } from './support/api-client.js';
import { responseProblems } from './support/api-contract.js';
import { type ApiServer, startApiServer } from './support/api-server.js';
import { AGENT, SKILL } from './support/api-world.js';
import { describeEachStore } from './support/stores.js';

/**
 * Random and hostile requests against the server in this process: through `app.inject`, and over a
 * real socket where the bytes on the wire matter (paths as written, which inject would normalise as
 * a URL; headers as Node's HTTP parser reads them). Whatever is sent, every answer is below 500, a
 * 4xx is the one error body with its code's status, nothing shows a stack trace or a source path,
 * nothing is logged as a failed request, and the server still answers /health after each property.
 *
 * Bodies nest up to 10,000 deep, numbers reach 1e300, strings hold NUL and control characters,
 * and every error message must stay on one line. Paths stay ASCII with well-formed %-escapes and
 * methods Node's client can send: malformed URLs and requests the HTTP parser refuses are covered
 * one by one in test/api.test.ts.
 *
 * FUZZ_SEED=<n> replays a run; FUZZ_RUNS scales the number of requests (default 1).
 */
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const SCALE = Number(process.env.FUZZ_RUNS ?? 1);
/** Each property stops after this long, whatever its number of runs (no run is a failure). */
const TIME_LIMIT_MS = 2_500;

const ROUTES_WITH_BODY: Array<[string, string]> = [
  ['POST', '/api/v1/contacts'],
  ['POST', '/api/v1/contacts/5001/end'],
  ['POST', '/api/v1/contacts/5001/signal'],
  ['POST', '/api/v1/scheduled-callbacks'],
  ['PUT', '/api/v1/scheduled-callbacks/1'],
  ['DELETE', '/api/v1/scheduled-callbacks/1'],
  ['PUT', `/api/v1/agents/${AGENT.spare}/state`],
  ['POST', '/api/v1/skills'],
  ['PUT', '/api/v1/scripts/fuzz'],
  ['POST', '/api/v1/scripts/fuzz/validate'],
  ['GET', '/api/v1/contacts'],
];

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json;charset=latin1',
  'application/json; charset=utf-16',
  'application/json, text/plain',
  'application/vnd.api+json',
  'text/json',
  'text/plain',
  'text/html; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/octet-stream',
  '*/*',
  'application/',
  ';',
  '',
];

const FIELD_NAMES = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '$ref',
  '',
  ' ',
  'a.b',
  'a/b',
  'mediaType',
  'skillId',
  'targetAgentId',
  'script',
  'variables',
  'params',
  'reason',
  'state',
  'name',
  'id',
  'actions',
  'phoneNumber',
  'scheduleDate',
  'timeZone',
  'firstName',
  'notes',
];

const NUMBERISH = [
  '1',
  '0',
  '-1',
  '1e3',
  '0x10',
  ' 2001 ',
  '2001.0',
  'NaN',
  'Infinity',
  '-0',
  '9007199254740993',
];

describeEachStore('API fuzz', (kind) => {
  let server: ApiServer;
  let sent = 0;
  const statuses = new Map<number, number>();
  const codes = new Map<string, number>();

  beforeAll(async () => {
    server = await startApiServer(kind, { tokens: ['admin', 'reader'], revoked: false });
  });
  afterAll(async () => {
    if (!server) return;
    await server.stop();
    const tally = <K>(m: Map<K, number>) =>
      [...m]
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k}×${n}`)
        .join(' ');
    console.info(
      `API fuzz [${kind.name}]: ${sent} requests; statuses ${tally(statuses)}; codes ${tally(codes)}`,
    );
  });

  // ---- arbitraries ------------------------------------------------------------------------

  /** No NUL on PostgreSQL (see above). */
  const clean = (s: string) => s;
  const text = (maxLength: number) =>
    fc
      .oneof(
        fc.string({ maxLength }),
        fc.string({ unit: 'binary', maxLength }),
        fc.string({ unit: 'grapheme', maxLength }),
      )
      .map(clean);
  const int = fc.oneof(
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
    fc.constantFrom(2 ** 53, 2 ** 53 + 2, 1e20, -1e300),
  );
  const leaf = fc.oneof(
    text(40),
    int,
    fc.double({ min: -(2 ** 31), max: 2 ** 31 }),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom(...NUMBERISH, 'Chat', 'Phone', 'Outbound', 'Available', 'relay', '+4930901820'),
  );
  const key = fc.oneof(fc.constantFrom(...FIELD_NAMES), text(20));
  const { json } = fc.letrec<{ json: unknown }>((tie) => ({
    json: fc.oneof(
      { depthSize: 'small', maxDepth: 5 },
      leaf,
      fc.array(tie('json'), { maxLength: 5 }),
      fc.dictionary(key, tie('json'), { maxKeys: 6 }),
    ),
  }));
  /** Objects, mostly, since every body must be one. */
  const body = fc.oneof(
    { weight: 4, arbitrary: fc.dictionary(key, json, { maxKeys: 8 }) },
    { weight: 1, arbitrary: json },
  );
  /** `depth` arrays or objects inside each other, as text (at most 1000 deep: see above). */
  const deep = fc
    .tuple(fc.integer({ min: 10, max: 10_000 }), fc.boolean())
    .map(([depth, objects]) =>
      objects ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` : `${'['.repeat(depth)}${']'.repeat(depth)}`,
    );
  /** A string field near the 64 KiB body limit, under or over. */
  const huge = fc
    .tuple(fc.constantFrom('name', 'notes', 'description', 'ani'), fc.integer({ min: 60_000, max: 70_000 }))
    .map(([field, n]) => `{"${field}":"${'x'.repeat(n)}"}`);

  const tokens = () =>
    fc.oneof(
      { weight: 8, arbitrary: fc.constant(server.token('admin')) },
      { weight: 1, arbitrary: fc.constant(server.token('reader')) },
      { weight: 1, arbitrary: fc.constantFrom(null, 'sb_bogus', 'x') },
    );
  const route = fc.constantFrom(...ROUTES_WITH_BODY);

  // ---- the check ----------------------------------------------------------------------------

  function describeRequest(req: ApiRequest): string {
    const b = req.raw ?? (req.body === undefined ? '' : JSON.stringify(req.body));
    const shown = Buffer.isBuffer(b)
      ? `<${b.length} bytes>`
      : b.length > 300
        ? `${b.slice(0, 300)}…(${b.length})`
        : b;
    const headers = Object.entries(req.headers ?? {})
      .map(([k, v]) => `${k}: ${String(v).slice(0, 60)}`)
      .join(', ');
    return `${req.method ?? 'GET'} ${req.path.slice(0, 300)} [${headers}] ${shown}`;
  }

  /** How a property's requests reach the server (see the top of the file). */
  type Transport = 'inject' | 'socket';

  async function probe(req: ApiRequest, transport: Transport): Promise<void> {
    let res: ApiResponse;
    try {
      const request = { timeoutMs: 10_000, ...req };
      res = await (transport === 'inject' ? server.request(request) : server.overSocket(request));
    } catch (e) {
      throw new Error(`no answer to ${describeRequest(req)} (${transport}): ${(e as Error).message}`);
    }
    sent++;
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    const code = (res.json as { error?: { code?: string } } | undefined)?.error?.code;
    if (code) codes.set(code, (codes.get(code) ?? 0) + 1);
    const problems = responseProblems(req.method ?? 'GET', req.path, res, STATUS_BY_CODE, { oneLine: true });
    if (problems.length > 0)
      throw new Error(`${describeRequest(req)} → ${res.status}: ${problems.join('; ')}`);
  }

  const check = async <T>(
    arbitrary: fc.Arbitrary<T>,
    toRequest: (value: T) => ApiRequest,
    numRuns: number,
    transport: Transport = 'inject',
  ) => {
    await fc.assert(
      fc.asyncProperty(arbitrary, (value) => probe(toRequest(value), transport)),
      {
        numRuns: Math.round(numRuns * SCALE),
        interruptAfterTimeLimit: TIME_LIMIT_MS * SCALE,
        markInterruptAsFailure: false,
        ...(SEED === undefined ? {} : { seed: SEED }),
      },
    );
    // In this process a crash is an uncaught error that fails the run; a server that stopped
    // answering is caught here.
    await expectHealthy(transport);
  };

  async function expectHealthy(transport: Transport) {
    const req = { path: '/health' };
    const health = await (transport === 'inject' ? server.request(req) : server.overSocket(req));
    expect(health.status).toBe(200);
    expect(health.json).toEqual({ status: 'ok', database: kind.name });
  }

  // ---- the properties ---------------------------------------------------------------------

  it('random and hostile JSON bodies on every route that takes one', async () => {
    await check(
      fc.record({
        route,
        body: fc.oneof({ weight: 5, arbitrary: body.map((b) => JSON.stringify(b)) }, deep, huge),
        token: tokens(),
      }),
      ({ route: [method, path], body: raw, token }) => {
        // Not a name String() cannot convert (the bug of PUT /scripts/{name}; see above).
        return { method, path, raw, token, headers: { 'content-type': 'application/json' } };
      },
      450,
    );
  }, 60_000);

  it('random bytes, broken JSON and invalid UTF-8 under any content type', async () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
      text(300),
      fc.tuple(body, fc.nat({ max: 400 })).map(([b, cut]) => JSON.stringify(b).slice(0, cut)),
      body.map((b) => `\ufeff${JSON.stringify(b)}`),
      fc
        .tuple(
          fc.constantFrom('mediaType', 'name', 'notes', 'reason'),
          fc.uint8Array({ minLength: 1, maxLength: 8 }),
        )
        .map(([f, b]) =>
          Buffer.concat([Buffer.from(`{"${f}":"`), Buffer.from(b.map((x) => x | 0x80)), Buffer.from('"}')]),
        ),
    );
    await check(
      fc.record({ route, raw: bytes, type: fc.option(fc.constantFrom(...CONTENT_TYPES)), token: tokens() }),
      ({ route: [method, path], raw, type, token }) => ({
        method,
        path,
        raw,
        token,
        headers: type === null ? {} : { 'content-type': type },
      }),
      350,
    );
  }, 60_000);

  it('random paths, queries and methods', async () => {
    const segment = fc.oneof(
      fc.constantFrom(
        'api',
        'v1',
        'contacts',
        'scheduled-callbacks',
        'agents',
        'skills',
        'scripts',
        'audit',
        'state',
        'end',
        'signal',
        'validate',
        'health',
        'metrics',
        'docs',
        'static',
        'openapi.json',
        'json',
        'relay',
        '..',
        '.',
        '%2e%2e',
        '%2E',
        '%00',
        '%2F',
        '%5C',
        '%20',
        '%25',
        '~',
        '*',
        '+',
        '5001',
        '1001',
        '2001',
        '1',
        '0',
        '-1',
        '00001',
        '1e3',
        '1.5',
        '999999999999999',
        '9999999999999999',
        'null',
        'NaN',
        '__proto__',
        'constructor',
      ),
      fc.string({ unit: 'grapheme', maxLength: 30 }).map(encodeURIComponent),
      fc.integer({ min: 16, max: 200 }).map((n) => '9'.repeat(n)),
      fc.stringMatching(/^[0-9a-zA-Z._~-]{1,40}$/),
    );
    const prefix = fc.constantFrom(
      '/api/v1/',
      '/api/v1/contacts/',
      '/api/v1/scheduled-callbacks/',
      '/api/v1/agents/',
      '/api/v1/scripts/',
      '/docs/',
      '/',
      '//',
    );
    const queryKey = fc.oneof(
      fc.constantFrom(
        'limit',
        'cursor',
        'state',
        'skillId',
        'agentId',
        '__proto__',
        'constructor',
        'limit[]',
        'x',
        '',
      ),
      fc.string({ unit: 'grapheme', maxLength: 10 }).map(encodeURIComponent),
    );
    const queryValue = fc.oneof(
      fc.constantFrom(
        '0',
        '1',
        '100',
        '1000',
        '1001',
        '-1',
        'abc',
        '1e3',
        'Active',
        'Scheduled',
        '',
        '%20',
        '999999999999999',
      ),
      fc.string({ unit: 'grapheme', maxLength: 20 }).map(encodeURIComponent),
    );
    const query = fc.option(
      fc
        .array(fc.tuple(queryKey, queryValue), { maxLength: 4 })
        .map((pairs) => `?${pairs.map(([k, v]) => `${k}=${v}`).join('&')}`),
    );
    const method = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE') },
      { weight: 2, arbitrary: fc.constantFrom(...METHODS.filter((m) => m !== 'CONNECT' && m !== 'PRI')) },
    );
    await check(
      fc.record({
        method,
        prefix,
        segments: fc.oneof(
          { weight: 9, arbitrary: fc.array(segment, { maxLength: 5 }) },
          // Paths an attacker tries first, whatever the prefix.
          fc.constantFrom(
            ['..', '..', 'health'],
            ['%2e%2e', '%2e%2e', 'etc', 'passwd'],
            ['..%2f..%2fetc%2fpasswd'],
            ['%00'],
            ['5001%00'],
            ['5001', '%2e%2e', 'end'],
            ['%252e%252e'],
            ['%EF%BC%8E%EF%BC%8E'],
            ['relay%2F..%2F..%2Fpackage.json'],
          ),
        ),
        query,
        token: tokens(),
        body: fc.option(body, { freq: 3 }),
      }),
      ({ method, prefix, segments, query, token, body }) => ({
        method,
        path: `${prefix}${segments.join('/')}${query ?? ''}`,
        token,
        ...(body === null || method === 'GET' || method === 'HEAD' ? {} : { body }),
      }),
      600,
      // Paths as written: inject parses them as URLs, so `..` and `%2e%2e` segments would not arrive.
      'socket',
    );
  }, 60_000);

  it('random and hostile headers', async () => {
    // What Node's client lets through: tab, visible ASCII, and latin-1 bytes.
    const headerText = (maxLength: number) =>
      fc.oneof(
        fc.string({ maxLength }),
        fc.string({
          unit: fc
            .oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }))
            .map((c) => String.fromCharCode(c)),
          maxLength,
        }),
      );
    // Node's limit is 16 KiB for all headers together: these stay under it (over it is 431).
    const bigHeader = (max: number) => fc.integer({ min: 1_000, max }).map((n) => 'h'.repeat(n));
    const authorization = fc.oneof(
      fc.constant(`Bearer ${server.token('admin')}`),
      fc.constant(`Bearer ${server.token('reader')}`),
      fc.constant(`bearer ${server.token('admin')}`),
      fc.constant(`Bearer  ${server.token('admin')}  `),
      fc.constant(`Bearer ${server.token('admin')}, Bearer x`),
      fc.constantFrom(
        'Bearer',
        'Bearer ',
        'Basic YTpi',
        'Digest x',
        'Bearer sb_',
        'Bearer ====',
        'Bearer ../../etc',
      ),
      fc.integer({ min: 100, max: 3_000 }).map((n) => `Bearer ${'a'.repeat(n)}`),
      headerText(80),
    );
    const headers = fc.record(
      {
        'content-type': fc.constantFrom(...CONTENT_TYPES),
        authorization,
        'idempotency-key': fc.oneof(
          headerText(40),
          fc.stringMatching(/^[A-Za-z0-9_.:-]{1,200}$/),
          bigHeader(3_000),
        ),
        accept: fc.constantFrom('application/json', 'text/html', '*/*', 'application/xml', '', 'x/y;q=abc'),
        'accept-encoding': fc.constantFrom('gzip', 'br', 'deflate', 'identity;q=0', '*', 'zstd, gzip;q=0.5'),
        'x-forwarded-for': headerText(40),
        'x-http-method-override': fc.constantFrom('DELETE', 'PUT', 'PATCH'),
        cookie: headerText(100),
        'x-huge': bigHeader(6_000),
        'user-agent': headerText(100),
      },
      { requiredKeys: [] },
    );
    const validBodies = fc.constantFrom(
      { mediaType: 'Chat' },
      { reason: 'Fuzzed' },
      { params: ['a'] },
      {
        phoneNumber: '+4930901820',
        skillId: SKILL.later,
        scheduleDate: new Date(Date.now() + 86_400_000).toISOString(),
      },
      { notes: 'fuzzed' },
      { state: 'Unavailable' },
      { name: 'Fuzzed', mediaType: 'Chat', direction: 'Inbound' },
    );
    await check(
      fc.record({ route, headers, body: validBodies }),
      ({ route: [method, path], headers, body }) => ({
        method,
        path,
        raw: JSON.stringify(body),
        headers: headers as Record<string, string>,
      }),
      450,
      // Headers as Node's parser hands them to the app (trimmed, latin-1, under its 16 KiB limit).
      'socket',
    );
  }, 60_000);

  it('well-formed bodies with fuzzed values: dates, phone numbers, IDs, zones, variables', async () => {
    const id = fc.oneof(
      fc.constantFrom(
        SKILL.callbacks,
        SKILL.chat,
        SKILL.hotline,
        SKILL.retired,
        SKILL.later,
        AGENT.admin,
        AGENT.caller,
        AGENT.retired,
        0,
        -1,
      ),
      fc.constantFrom('2001', ' 2005 ', '2005.0', '1e3', 'abc', '', '0x7D5', 'ana', '1010'),
      fc.integer({ min: -10, max: 2 ** 31 }),
      text(32),
    );
    // Mostly the right kind of value, so that requests get past the first check (the skill) to
    // the later ones (target agent, date, phone number) and to the database.
    const skillId = fc.oneof(
      {
        weight: 8,
        arbitrary: fc.constantFrom<number | string>(
          SKILL.later,
          SKILL.callbacks,
          String(SKILL.later),
          ` ${SKILL.later} `,
        ),
      },
      { weight: 2, arbitrary: id },
    );
    const targetAgentId = fc.oneof(
      {
        weight: 4,
        arbitrary: fc.constantFrom<number | string | null>(
          '',
          null,
          AGENT.spare,
          String(AGENT.caller),
          AGENT.admin,
        ),
      },
      { weight: 1, arbitrary: id },
    );
    const phone = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom('+4930901820', '+49 30 901820', '030 901820', '+448675309') },
      fc.constantFrom(
        '+448675309',
        '+49 30 901820',
        '030 901820',
        '(030) 901-820',
        '+1 (555) 010-9999',
        '00 49 30 901820',
        '+',
        '++49',
        '+0',
        '',
        ' ',
        '+49 30 901820 ext. 5',
        '١٢٣٤٥٦٧٨٩',
      ),
      fc.stringMatching(/^\+?[0-9 ().-]{0,20}$/),
      text(64),
    );
    const year = new Date().getUTCFullYear();
    const date = fc.oneof(
      {
        weight: 4,
        arbitrary: fc
          .integer({ min: 60_000, max: 300 * 86_400_000 })
          .map((ms) => new Date(Date.now() + ms).toISOString()),
      },
      fc.constantFrom(
        `${year + 1}-02-30T10:00`,
        `${year + 1}-03-28T02:30`,
        `${year + 1}-10-25T02:30`,
        '9999-12-31T23:59:59Z',
        '0000-01-01T00:00Z',
        `${year + 1}-01-01T10:00+25:00`,
        `${year + 1}-01-01T10:00+01:00[Europe/Berlin]`,
        `${year + 1}-01-01T10:00[Mars/Olympus]`,
        `${year + 1}-01-01T10:00:00.123456789Z`,
        `${year + 1}-01-01 10:00`,
        `${year + 1}-01-01t10:00z`,
        `  ${year + 1}-01-01T10:00  `,
        `${year + 1}-W01-1`,
        'P1D',
        'now',
      ),
      fc
        .date({ min: new Date('1900-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
        .map((d) => d.toISOString()),
      fc
        .integer({ min: -60_000, max: 400 * 86_400_000 })
        .map((ms) => new Date(Date.now() + ms).toISOString()),
      text(100),
    );
    const zone = fc.oneof(
      fc.constantFrom(
        'Europe/Berlin',
        'UTC',
        'America/New_York',
        'Etc/GMT+14',
        'Asia/Kathmandu',
        '+01:00',
        'Mars/Olympus',
        '',
        'europe/berlin',
        '../../etc/passwd',
        'A'.repeat(64),
      ),
      text(64),
    );
    const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
    const strip = <T extends object>(o: T) =>
      Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
    const callback = fc
      .record({
        firstName: opt(text(200)),
        lastName: opt(text(200)),
        phoneNumber: phone,
        skillId,
        targetAgentId: opt(targetAgentId),
        scheduleDate: date,
        timeZone: opt(zone),
        notes: opt(text(200)),
      })
      .map(strip);
    const variableName = fc.oneof(
      fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,20}$/),
      fc.constantFrom('Secret', 'p1', '__proto__', 'constructor'),
    );
    const contact = fc
      .record({
        mediaType: fc.oneof(fc.constantFrom(...MEDIA_TYPES), fc.constantFrom('Fax', 'chat', '')),
        direction: opt(fc.constantFrom('Inbound', 'Outbound', 'Sideways')),
        skillId: opt(
          fc.oneof(
            fc.integer({ min: -1, max: 2 ** 31 }),
            fc.constantFrom(SKILL.chat, SKILL.hotline, SKILL.callbacks),
          ),
        ),
        script: opt(fc.constantFrom('relay', 'not-deployed', '', 'x'.repeat(101))),
        variables: opt(fc.dictionary(variableName, fc.oneof(text(50), int, fc.boolean()), { maxKeys: 5 })),
        ani: opt(text(64)),
        dnis: opt(text(64)),
      })
      .map(strip);
    const skill = fc
      .record({
        id: opt(fc.integer({ min: -1, max: 2 ** 31 })),
        name: text(200),
        mediaType: fc.oneof(fc.constantFrom(...MEDIA_TYPES), fc.constant('Fax')),
        direction: fc.constantFrom('Inbound', 'Outbound', 'Both'),
        active: opt(fc.boolean()),
        script: opt(fc.oneof(fc.constant(null), fc.constantFrom('relay', 'not-deployed'), text(100))),
      })
      .map(strip);
    const contactId = fc.oneof(fc.integer({ min: 5001, max: 5400 }), fc.constantFrom(0, 1, 999999999999999));
    const requests: fc.Arbitrary<ApiRequest> = fc.oneof(
      {
        weight: 5,
        arbitrary: callback.map((b) => ({ method: 'POST', path: '/api/v1/scheduled-callbacks', body: b })),
      },
      {
        weight: 2,
        arbitrary: fc
          .tuple(fc.integer({ min: 1, max: 400 }), callback)
          .map(([n, b]) => ({ method: 'PUT', path: `/api/v1/scheduled-callbacks/${n}`, body: b })),
      },
      {
        weight: 1,
        arbitrary: fc
          .integer({ min: 1, max: 400 })
          .map((n) => ({ method: 'DELETE', path: `/api/v1/scheduled-callbacks/${n}` })),
      },
      { weight: 3, arbitrary: contact.map((b) => ({ method: 'POST', path: '/api/v1/contacts', body: b })) },
      {
        weight: 2,
        arbitrary: fc
          .tuple(contactId, fc.option(fc.array(text(50), { maxLength: 10 }), { nil: undefined }))
          .map(([n, params]) => ({
            method: 'POST',
            path: `/api/v1/contacts/${n}/signal`,
            body: params === undefined ? {} : { params },
          })),
      },
      {
        weight: 1,
        arbitrary: fc.tuple(contactId, opt(text(100))).map(([n, reason]) => ({
          method: 'POST',
          path: `/api/v1/contacts/${n}/end`,
          body: reason === undefined ? {} : { reason },
        })),
      },
      { weight: 2, arbitrary: skill.map((b) => ({ method: 'POST', path: '/api/v1/skills', body: b })) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(
            fc.constantFrom(AGENT.spare, AGENT.caller, AGENT.chatter, AGENT.retired, AGENT.admin, 1, 999999),
            fc.constantFrom('Available', 'Unavailable', 'Inbound', 'Outbound', 'Away'),
          )
          .map(([agent, state]) => ({
            method: 'PUT',
            path: `/api/v1/agents/${agent}/state`,
            body: { state },
          })),
      },
    );
    await check(
      fc.record({
        request: requests,
        admin: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, fc.constant(false)),
      }),
      ({ request, admin }) => ({ ...request, token: admin ? server.token('admin') : server.token('reader') }),
      600,
    );
  }, 60_000);

  it('after all that: the server is up, /health answers 200, and no request failed on the server', async () => {
    expect(sent).toBeGreaterThan(500);
    await expectHealthy('inject');
    await expectHealthy('socket');
    // Every 500 is logged as "request failed"; none was.
    expect(server.output()).not.toContain('"msg":"request failed"');
    // And the API still works as before.
    const list = await server.request({ path: '/api/v1/agents?limit=1', token: server.token('admin') });
    expect(list.status).toBe(200);
  });
});
