import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATUS_BY_CODE } from '../src/http/http-error.js';
import type { ApiRequest, ApiResponse } from './support/api-client.js';
import { errorShapeProblem, leaks } from './support/api-contract.js';
import { type ApiServer, startApiServer } from './support/api-server.js';
import { AGENT, relayScript, SKILL } from './support/api-world.js';
import { describeEachStore } from './support/stores.js';

/** Codes no request can produce: InvalidPriority is QUEUECALLBACK's (an action, not a route);
 * ServiceUnavailable needs the database down; InternalError is a bug by definition. */
const NOT_FROM_A_REQUEST = ['InvalidPriority', 'ServiceUnavailable', 'InternalError'];

/** Every route of DESIGN §6, as /openapi.json names it. */
const ROUTES = [
  'POST /api/v1/contacts',
  'GET /api/v1/contacts',
  'GET /api/v1/contacts/{id}',
  'POST /api/v1/contacts/{id}/end',
  'POST /api/v1/contacts/{id}/signal',
  'POST /api/v1/scheduled-callbacks',
  'GET /api/v1/scheduled-callbacks',
  'GET /api/v1/scheduled-callbacks/{id}',
  'PUT /api/v1/scheduled-callbacks/{id}',
  'DELETE /api/v1/scheduled-callbacks/{id}',
  'GET /api/v1/agents',
  'GET /api/v1/agents/{id}',
  'PUT /api/v1/agents/{id}/state',
  'GET /api/v1/skills',
  'POST /api/v1/skills',
  'GET /api/v1/scripts/{name}',
  'PUT /api/v1/scripts/{name}',
  'POST /api/v1/scripts/{name}/validate',
  'GET /api/v1/audit',
];

const UNKNOWN = 999_999_999;
const DAY = 86_400_000;
const inDays = (days: number) => new Date(Date.now() + days * DAY).toISOString();

/** The last Sunday of March next year, 02:30: a wall-clock time Europe/Berlin skips. */
function berlinDstGap(): string {
  const year = new Date().getUTCFullYear() + 1;
  const day = new Date(Date.UTC(year, 2, 31));
  day.setUTCDate(31 - day.getUTCDay());
  return `${day.toISOString().slice(0, 10)}T02:30`;
}

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
interface CallbackView {
  id: number;
  state: string;
  skillId: number;
  targetAgentId: number | null;
  phoneNumber: string;
  scheduledFor: string;
  contactId: number | null;
}
interface ContactView {
  id: number;
  state: string;
  agentId: number | null;
  callbackId: number | null;
  direction: string;
  mediaType: string;
  phoneNumber: string | null;
  disconnectReason: string | null;
}
interface AgentView {
  id: number;
  state: string;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describeEachStore('HTTP API', (kind) => {
  let server: ApiServer;
  /** Codes the error tests saw, to check every requestable code was produced. */
  const seen = new Set<string>();

  beforeAll(async () => {
    server = await startApiServer(kind, { tokens: ['admin', 'reader'], revoked: false });
  });
  afterAll(async () => {
    await server?.stop();
  });

  const call = (method: string, path: string, body?: unknown, extra: Partial<ApiRequest> = {}) =>
    server.request({
      method,
      path: `/api/v1${path}`,
      token: server.token('admin'),
      ...(body === undefined ? {} : { body }),
      ...extra,
    });
  const ok = async <T>(method: string, path: string, body?: unknown, status = 200): Promise<T> => {
    const res = await call(method, path, body);
    expect(res.status, `${method} ${path}: ${res.text}`).toBe(status);
    return res.json as T;
  };

  /** The error body, the status its code carries, and (when given) the field; `null`: no field. */
  function expectError(res: ApiResponse, code: string, field?: string | null) {
    expect(errorShapeProblem(res.json), res.text).toBeUndefined();
    const error = (res.json as { error: { code: string; message: string; field?: string } }).error;
    expect({ status: res.status, code: error.code }, res.text).toEqual({
      status: STATUS_BY_CODE[code],
      code,
    });
    if (field === null) expect(error.field).toBeUndefined();
    else if (field !== undefined) expect(error.field).toBe(field);
    expect(leaks(res.text)).toBeUndefined();
    seen.add(code);
    return error;
  }

  const callback = (fields: Record<string, unknown> = {}) => ({
    firstName: 'Erika',
    lastName: 'Mustermann',
    phoneNumber: '+49 30 901820',
    skillId: SKILL.later,
    targetAgentId: '',
    scheduleDate: inDays(2),
    timeZone: 'Europe/Berlin',
    notes: 'About the invoice',
    ...fields,
  });
  const newCallback = async (fields: Record<string, unknown> = {}) =>
    (await ok<{ callbackId: number }>('POST', '/scheduled-callbacks', callback(fields), 201)).callbackId;

  describe('error codes', () => {
    it('401 InvalidSecurityUser without a token; 403 Unauthorized for a profile without the permission', async () => {
      expectError(await call('GET', '/contacts', undefined, { token: null }), 'InvalidSecurityUser', null);
      const error = expectError(
        await call(
          'POST',
          '/skills',
          { name: 'x', mediaType: 'Chat', direction: 'Inbound' },
          {
            token: server.token('reader'),
          },
        ),
        'Unauthorized',
      );
      expect(error.message).toContain('skills:write');
    });

    it('400 InvalidSkillId: not a number, unknown, inactive, not an Outbound Phone skill', async () => {
      for (const skillId of ['abc', '-1', UNKNOWN, SKILL.retired, SKILL.hotline, SKILL.chat]) {
        expectError(
          await call('POST', '/scheduled-callbacks', callback({ skillId })),
          'InvalidSkillId',
          'skillId',
        );
      }
      // A contact queued to a skill that does not exist.
      expectError(
        await call('POST', '/contacts', { mediaType: 'Chat', skillId: UNKNOWN }),
        'InvalidSkillId',
        'skillId',
      );
    });

    it('400 InvalidTargetAgentId: a username, an unknown or an inactive agent', async () => {
      for (const targetAgentId of ['ana', 'cora', UNKNOWN, String(AGENT.retired), AGENT.retired]) {
        const error = expectError(
          await call('POST', '/scheduled-callbacks', callback({ targetAgentId })),
          'InvalidTargetAgentId',
          'targetAgentId',
        );
        if (targetAgentId === 'ana') expect(error.message).toMatch(/not a username/);
      }
    });

    it('400 InvalidScheduleDate: February 30, the past, a DST gap, beyond the horizon, not ISO 8601', async () => {
      const nextYear = new Date().getUTCFullYear() + 1;
      const cases: Array<[string, RegExp]> = [
        [`${nextYear}-02-30T10:00`, /not a real date/],
        ['2020-01-01T10:00:00Z', /in the past/],
        [berlinDstGap(), /does not exist in Europe\/Berlin/],
        [`${nextYear + 20}-01-01T10:00:00Z`, /days ahead/],
        ['tomorrow at ten', /not an ISO 8601/],
        [`${nextYear}-06-01`, /no time of day/],
        [`${nextYear}-06-01T25:00`, /not a real time/],
      ];
      for (const [scheduleDate, message] of cases) {
        const error = expectError(
          await call('POST', '/scheduled-callbacks', callback({ scheduleDate })),
          'InvalidScheduleDate',
          'scheduleDate',
        );
        expect(error.message).toMatch(message);
      }
    });

    it('400 InvalidPhoneNumber', async () => {
      for (const phoneNumber of ['not a number', '+1', '12', '+99 123 456']) {
        expectError(
          await call('POST', '/scheduled-callbacks', callback({ phoneNumber })),
          'InvalidPhoneNumber',
          'phoneNumber',
        );
      }
    });

    it("checks in Studio's branch order: skill, target agent, schedule date, phone number", async () => {
      const bad = { skillId: SKILL.hotline, targetAgentId: 'ana', scheduleDate: 'x', phoneNumber: 'x' };
      expectError(await call('POST', '/scheduled-callbacks', callback(bad)), 'InvalidSkillId');
      const { skillId: _s, ...noSkill } = bad;
      expectError(await call('POST', '/scheduled-callbacks', callback(noSkill)), 'InvalidTargetAgentId');
      const { targetAgentId: _t, ...dateAndPhone } = noSkill;
      expectError(await call('POST', '/scheduled-callbacks', callback(dateAndPhone)), 'InvalidScheduleDate');
    });

    it('400 InvalidRequest names the field: unknown, missing, wrong type, out of range, path and query', async () => {
      const { phoneNumber: _p, ...noPhone } = callback();
      const cases: Array<[string, string, unknown, string]> = [
        ['POST', '/scheduled-callbacks', { ...callback(), bogus: 1 }, 'bogus'],
        ['POST', '/scheduled-callbacks', noPhone, 'phoneNumber'],
        ['POST', '/scheduled-callbacks', callback({ phoneNumber: { number: 1 } }), 'phoneNumber'],
        ['POST', '/scheduled-callbacks', callback({ skillId: [SKILL.later] }), 'skillId'],
        ['POST', '/scheduled-callbacks', callback({ notes: 'x'.repeat(4001) }), 'notes'],
        ['POST', '/contacts', { mediaType: 'Fax' }, 'mediaType'],
        ['POST', '/contacts', { mediaType: 'Chat', skillId: 0 }, 'skillId'],
        ['POST', '/contacts', { mediaType: 'Chat', ani: ['x'] }, 'ani'],
        ['POST', '/contacts', {}, 'mediaType'],
        ['POST', '/contacts/5001/signal', { params: Array(10).fill('p') }, 'params'],
        ['POST', '/contacts/5001/end', { reason: '' }, 'reason'],
        ['PUT', `/agents/${AGENT.spare}/state`, { state: 'Asleep' }, 'state'],
        ['PUT', `/agents/${AGENT.spare}/state`, {}, 'state'],
        ['POST', '/skills', { name: '', mediaType: 'Chat', direction: 'Inbound' }, 'name'],
        ['POST', '/skills', { name: 'n', mediaType: 'Chat', direction: 'Sideways' }, 'direction'],
        ['GET', '/contacts/abc', undefined, 'id'],
        ['GET', '/contacts/-1', undefined, 'id'],
        ['GET', '/contacts/1234567890123456', undefined, 'id'],
        ['GET', '/contacts?limit=0', undefined, 'limit'],
        ['GET', '/contacts?limit=1001', undefined, 'limit'],
        ['GET', '/contacts?limit=ten', undefined, 'limit'],
        ['GET', '/contacts?cursor=abc', undefined, 'cursor'],
        ['GET', '/contacts?state=Gone', undefined, 'state'],
        ['GET', '/contacts?bogus=1', undefined, 'bogus'],
        ['GET', '/scheduled-callbacks?skillId=abc', undefined, 'skillId'],
        ['GET', '/scheduled-callbacks?state=Lost', undefined, 'state'],
        ['GET', '/scripts/..%2Fetc', undefined, 'name'],
      ];
      for (const [method, path, body, field] of cases) {
        const error = expectError(await call(method, path, body), 'InvalidRequest', field);
        if (field === 'bogus') expect(error.message).toMatch(/bogus is not a known field/);
      }
      // An edit must change something.
      expectError(await call('PUT', `/scheduled-callbacks/${server.seededCallbackId}`, {}), 'InvalidRequest');
      // Headers and the URL are fields too.
      expectError(
        await call('POST', '/scheduled-callbacks', callback(), {
          headers: { 'idempotency-key': 'has spaces' },
        }),
        'InvalidRequest',
        'Idempotency-Key',
      );
      expectError(await call('PUT', '/scripts/one', relayScript('other')), 'InvalidRequest', 'name');
    });

    it('400 InvalidRequest for malformed JSON, an empty JSON body, a body that is not an object', async () => {
      const json = { 'content-type': 'application/json' };
      for (const raw of ['{"mediaType": ', '{mediaType: "Chat"}', "{'a':1}", '{"a":1}}', 'NaN', '\u0000']) {
        const error = expectError(
          await call('POST', '/contacts', undefined, { raw, headers: json }),
          'InvalidRequest',
        );
        expect(error.message).toMatch(/malformed JSON/);
      }
      const empty = expectError(
        await call('POST', '/skills', undefined, { raw: '', headers: json }),
        'InvalidRequest',
      );
      expect(empty.message).toMatch(/empty/);
      for (const body of [[], null, 'Chat', 42, true]) {
        expectError(await call('POST', '/contacts', body), 'InvalidRequest');
      }
      // Prototype pollution is refused, and pollutes nothing.
      for (const raw of [
        '{"mediaType":"Chat","__proto__":{"polluted":true}}',
        '{"mediaType":"Chat","constructor":{"prototype":{"polluted":true}}}',
      ]) {
        expectError(await call('POST', '/contacts', undefined, { raw, headers: json }), 'InvalidRequest');
      }
      const health = await server.request({ path: '/health' });
      expect(health.json).toEqual({ status: 'ok', database: kind.name });
    });

    it('unknown fields are refused on every route that takes a body', async () => {
      const cases: Array<[string, string, Record<string, unknown>]> = [
        ['POST', '/contacts', { mediaType: 'Generic' }],
        ['POST', '/contacts/5001/end', {}],
        ['POST', '/contacts/5001/signal', { params: [] }],
        ['POST', '/scheduled-callbacks', callback()],
        ['PUT', `/scheduled-callbacks/${server.seededCallbackId}`, { notes: 'x' }],
        ['PUT', `/agents/${AGENT.spare}/state`, { state: 'Unavailable' }],
        ['POST', '/skills', { name: 'Never created', mediaType: 'Chat', direction: 'Inbound' }],
      ];
      for (const [method, path, body] of cases) {
        expectError(await call(method, path, { ...body, zzz: 1 }), 'InvalidRequest', 'zzz');
      }
      // None of them took effect: 5001 is still Active.
      expect((await ok<ContactView>('GET', '/contacts/5001')).state).toBe('Active');
    });

    it('404 InvalidContactID for contacts, NotFound for everything else', async () => {
      expectError(await call('GET', `/contacts/${UNKNOWN}`), 'InvalidContactID');
      expectError(await call('POST', `/contacts/${UNKNOWN}/end`, {}), 'InvalidContactID');
      expectError(await call('POST', `/contacts/${UNKNOWN}/signal`, {}), 'InvalidContactID');
      for (const [method, path] of [
        ['GET', `/agents/${UNKNOWN}`],
        ['PUT', `/agents/${UNKNOWN}/state`],
        ['GET', `/scheduled-callbacks/${UNKNOWN}`],
        ['PUT', `/scheduled-callbacks/${UNKNOWN}`],
        ['DELETE', `/scheduled-callbacks/${UNKNOWN}`],
        ['GET', '/scripts/not-deployed'],
        ['GET', '/nothing-here'],
        ['PATCH', '/contacts/5001'],
      ] as const) {
        const body =
          method === 'PUT' ? (path.includes('agents') ? { state: 'Available' } : { notes: 'x' }) : undefined;
        expectError(await call(method, path, body), 'NotFound', null);
      }
      expectError(await server.request({ path: '/no/such/page' }), 'NotFound');
    });

    it('409 ContactNotActive for an ended contact; NoScriptRunning for one without a script', async () => {
      const contact = await ok<ContactView>('POST', '/contacts', { mediaType: 'Chat' }, 201);
      expect(contact.state).toBe('Active');
      expectError(await call('POST', `/contacts/${contact.id}/signal`, { params: ['x'] }), 'NoScriptRunning');
      const ended = await ok<ContactView>('POST', `/contacts/${contact.id}/end`, { reason: 'Testing' });
      expect(ended).toMatchObject({ state: 'Ended', disconnectReason: 'Testing' });
      expectError(await call('POST', `/contacts/${contact.id}/end`, {}), 'ContactNotActive');
      expectError(await call('POST', `/contacts/${contact.id}/signal`, {}), 'ContactNotActive');
    });

    it('400 for a start variable the platform sets, and for a script made for another media type', async () => {
      await ok('PUT', '/scripts/relay-start', relayScript('relay-start'));
      for (const name of [
        'ContactID',
        'contactid',
        'MasterID',
        'SkillId',
        'MediaType',
        'ANI',
        '_ERR',
        '__DisconnectReason',
      ]) {
        const res = await call('POST', '/contacts', {
          mediaType: 'WorkItem',
          script: 'relay-start',
          variables: { [name]: '5001' },
        });
        expectError(res, 'InvalidRequest', `variables.${name}`);
        expect(res.text).toContain(name);
      }
      const chat = await call('POST', '/contacts', { mediaType: 'Chat', script: 'relay-start' });
      expectError(chat, 'InvalidScript', 'script');
      expect(chat.text).toContain('WorkItem script');
      // ANI is a field of the request: the script sees it, and the contact carries it.
      const started = await ok<ContactView>(
        'POST',
        '/contacts',
        { mediaType: 'WorkItem', script: 'relay-start', ani: '+4930123', variables: { Secret: 's' } },
        201,
      );
      expect(started.state).toBe('Active');
    });

    it('409 TooManySignals once maxPendingSignals wait for one run; the run still takes the ones it has', async () => {
      await ok('PUT', '/scripts/long-wait', {
        name: 'long-wait',
        actions: [
          { id: '1', action: 'BEGIN', branches: { Default: '2' } },
          { id: '2', action: 'WAIT', properties: { Seconds: 86_000 }, branches: { Default: '3' } },
          { id: '3', action: 'END' },
        ],
      });
      const contact = await ok<ContactView>(
        'POST',
        '/contacts',
        { mediaType: 'Chat', script: 'long-wait' },
        201,
      );
      for (let i = 0; i < 100; i++) {
        const res = await call('POST', `/contacts/${contact.id}/signal`, { params: [String(i)] });
        expect(res.status, res.text).toBe(202);
      }
      const over = await call('POST', `/contacts/${contact.id}/signal`, { params: ['one too many'] });
      expectError(over, 'TooManySignals');
      expect(over.text).toContain('maxPendingSignals');
      await ok('POST', `/contacts/${contact.id}/end`, {});
    });

    it('409 CallbackNotScheduled: PUT and DELETE after a cancel', async () => {
      const id = await newCallback({ phoneNumber: '+49 30 1111111' });
      const canceled = await ok<CallbackView>('DELETE', `/scheduled-callbacks/${id}`);
      expect(canceled.state).toBe('Canceled');
      expectError(await call('DELETE', `/scheduled-callbacks/${id}`), 'CallbackNotScheduled');
      expectError(
        await call('PUT', `/scheduled-callbacks/${id}`, { notes: 'too late' }),
        'CallbackNotScheduled',
      );
      expectError(
        await call('PUT', `/scheduled-callbacks/${id}`, { scheduleDate: inDays(3) }),
        'CallbackNotScheduled',
      );
    });

    it('409 SkillExists and AgentNotActive; 400 InvalidScript', async () => {
      expectError(
        await call('POST', '/skills', {
          id: SKILL.callbacks,
          name: 'Again',
          mediaType: 'Phone',
          direction: 'Outbound',
        }),
        'SkillExists',
      );
      expectError(
        await call('PUT', `/agents/${AGENT.retired}/state`, { state: 'Available' }),
        'AgentNotActive',
      );
      expectError(
        await call('POST', '/contacts', { mediaType: 'Generic', script: 'not-deployed' }),
        'InvalidScript',
        'script',
      );
      expectError(await call('PUT', '/scripts/broken', { name: 'broken', actions: [] }), 'InvalidScript');
      expectError(await call('PUT', '/scripts/broken', { name: 'broken' }), 'InvalidScript');
    });

    it('413 PayloadTooLarge over 64 KiB; a body just under it is read', async () => {
      const big = relayScript('big');
      const over = await call('PUT', '/scripts/big', { ...big, description: 'x'.repeat(65 * 1024) });
      expectError(over, 'PayloadTooLarge');
      const raw = await call('POST', '/contacts', undefined, {
        raw: `{"mediaType":"Chat","ani":"${'y'.repeat(70_000)}"}`,
        headers: { 'content-type': 'application/json' },
      });
      expectError(raw, 'PayloadTooLarge');
      const under = await call('POST', '/scripts/big/validate', {
        ...big,
        description: 'x'.repeat(60 * 1024),
      });
      expect(under.status).toBe(200);
      expect(under.json).toMatchObject({ valid: true });
    });

    it('415 UnsupportedMediaType for text, form data, multipart and XML', async () => {
      for (const [type, raw] of [
        ['text/plain', '{"mediaType":"Chat"}'],
        ['application/x-www-form-urlencoded', 'mediaType=Chat'],
        [
          'multipart/form-data; boundary=XyZ',
          '--XyZ\r\nContent-Disposition: form-data; name="mediaType"\r\n\r\nChat\r\n--XyZ--\r\n',
        ],
        ['application/xml', '<contact mediaType="Chat"/>'],
        ['application/octet-stream', '\u0001\u0002'],
      ] as const) {
        expectError(
          await call('POST', '/contacts', undefined, { raw, headers: { 'content-type': type } }),
          'UnsupportedMediaType',
        );
      }
      // A body without any content type is not taken for JSON either.
      expectError(
        await call('POST', '/contacts', undefined, { raw: '{"mediaType":"Chat"}' }),
        'UnsupportedMediaType',
      );
    });

    it('Idempotency-Key: the same key and body give the same callback once; another body is 422', async () => {
      const key = `order-${randomBytes(6).toString('hex')}`;
      const phone = '+49 30 2222222';
      const body = callback({ phoneNumber: phone, notes: 'idempotent' });
      const first = await call('POST', '/scheduled-callbacks', body, { headers: { 'idempotency-key': key } });
      const second = await call('POST', '/scheduled-callbacks', body, {
        headers: { 'idempotency-key': key },
      });
      expect([first.status, second.status]).toEqual([201, 201]);
      expect(second.json).toEqual(first.json);
      const rows = await ok<Page<CallbackView>>(
        'GET',
        `/scheduled-callbacks?skillId=${SKILL.later}&limit=1000`,
      );
      expect(rows.items.filter((c) => c.phoneNumber === '+49302222222')).toHaveLength(1);
      // Without the key, the same body is a second callback.
      const third = await call('POST', '/scheduled-callbacks', body);
      expect((third.json as { callbackId: number }).callbackId).not.toBe(
        (first.json as { callbackId: number }).callbackId,
      );
      // The key with another body is refused, and makes nothing.
      const reused = await call(
        'POST',
        '/scheduled-callbacks',
        { ...body, notes: 'changed' },
        {
          headers: { 'idempotency-key': key },
        },
      );
      expectError(reused, 'IdempotencyKeyReused');
      const after = await ok<Page<CallbackView>>(
        'GET',
        `/scheduled-callbacks?skillId=${SKILL.later}&limit=1000`,
      );
      expect(after.items.filter((c) => c.phoneNumber === '+49302222222')).toHaveLength(2);
    });

    it('a request produces every code of STATUS_BY_CODE but those no request can', () => {
      const requestable = Object.keys(STATUS_BY_CODE).filter((c) => !NOT_FROM_A_REQUEST.includes(c));
      expect([...seen].sort()).toEqual(requestable.sort());
    });
  });

  describe('lists', () => {
    it('pages with limit and cursor through every item once, in ID order', async () => {
      for (let i = 0; i < 5; i++) await newCallback({ phoneNumber: `+49 30 33333${i}` });
      const all = await ok<Page<CallbackView>>('GET', '/scheduled-callbacks?limit=1000');
      expect(all.nextCursor).toBeNull();
      expect(all.items.length).toBeGreaterThanOrEqual(6);
      const ids: number[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: Page<CallbackView> = await ok(
          'GET',
          `/scheduled-callbacks?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        );
        expect(page.items.length).toBeLessThanOrEqual(2);
        if (page.nextCursor !== null) expect(page.nextCursor).toBe(String(page.items.at(-1)?.id));
        ids.push(...page.items.map((c) => c.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor !== null && pages < 100);
      expect(ids).toEqual(all.items.map((c) => c.id));
      expect([...ids].sort((a, b) => a - b)).toEqual(ids);
      expect(new Set(ids).size).toBe(ids.length);
      expect(pages).toBe(Math.ceil(ids.length / 2));
    });

    it('every list has the same page shape and a default limit of 100', async () => {
      for (const path of ['/contacts', '/scheduled-callbacks', '/agents', '/skills', '/audit']) {
        const one = await ok<Page<{ id: number }>>('GET', `${path}?limit=1`);
        expect(Object.keys(one).sort()).toEqual(['items', 'nextCursor']);
        expect(one.items).toHaveLength(1);
        expect(one.nextCursor).toBe(String(one.items[0]?.id));
        const next = await ok<Page<{ id: number }>>('GET', `${path}?limit=1&cursor=${one.nextCursor}`);
        expect(next.items[0]?.id).toBeGreaterThan(one.items[0]?.id ?? 0);
        const max = await ok<Page<{ id: number }>>('GET', `${path}?limit=1000`);
        const byDefault = await ok<Page<{ id: number }>>('GET', path);
        expect(byDefault.items).toHaveLength(Math.min(100, max.items.length));
        expectError(await call('GET', `${path}?limit=1001`), 'InvalidRequest', 'limit');
      }
    });

    it('filters callbacks by state, skill and target agent, and contacts by state', async () => {
      const targeted = await newCallback({ targetAgentId: AGENT.spare, phoneNumber: '+49 30 4444444' });
      const canceled = await newCallback({ phoneNumber: '+49 30 5555555' });
      await ok('DELETE', `/scheduled-callbacks/${canceled}`);
      const list = async (query: string) =>
        (await ok<Page<CallbackView>>('GET', `/scheduled-callbacks?limit=1000&${query}`)).items;

      const byAgent = await list(`agentId=${AGENT.spare}`);
      expect(byAgent.map((c) => c.id)).toEqual([targeted]);
      const byState = await list('state=Canceled');
      expect(byState.map((c) => c.id)).toContain(canceled);
      expect(byState.every((c) => c.state === 'Canceled')).toBe(true);
      const bySkill = await list(`skillId=${SKILL.later}&state=Scheduled`);
      expect(bySkill.length).toBeGreaterThan(1);
      expect(bySkill.every((c) => c.skillId === SKILL.later && c.state === 'Scheduled')).toBe(true);
      expect(bySkill.map((c) => c.id)).not.toContain(canceled);
      expect(await list(`skillId=${SKILL.hotline}`)).toEqual([]);

      for (const state of ['Queued', 'Active', 'Ended']) {
        const contacts = await ok<Page<ContactView>>('GET', `/contacts?state=${state}&limit=1000`);
        expect(contacts.items.every((c) => c.state === state)).toBe(true);
      }
      const active = await ok<Page<ContactView>>('GET', '/contacts?state=Active&limit=1000');
      expect(active.items.map((c) => c.id)).toContain(5001);
    });
  });

  describe('end to end', () => {
    it('a callback due in 2 s is delivered to the Available agent, who is Outbound until the contact ends', async () => {
      const available = await ok<AgentView>('PUT', `/agents/${AGENT.caller}/state`, { state: 'Available' });
      expect(available.state).toBe('Available');
      const due = Date.now() + 2_000;
      const { callbackId } = await ok<{ callbackId: number }>(
        'POST',
        '/scheduled-callbacks',
        callback({ skillId: SKILL.callbacks, scheduleDate: new Date(due).toISOString(), notes: 'Refund' }),
        201,
      );
      const created = await ok<CallbackView>('GET', `/scheduled-callbacks/${callbackId}`);
      expect(created).toMatchObject({
        phoneNumber: '+4930901820',
        scheduledFor: new Date(due).toISOString(),
      });
      if (Date.now() < due - 300) expect(created.state).toBe('Scheduled');

      const states = new Set<string>();
      let firstDispatchSeenAt = 0;
      const delivered = await waitFor('the callback to be Delivered', async () => {
        const before = Date.now();
        const cb = await ok<CallbackView>('GET', `/scheduled-callbacks/${callbackId}`);
        states.add(cb.state);
        if (cb.state !== 'Scheduled' && firstDispatchSeenAt === 0) firstDispatchSeenAt = before;
        return cb.state === 'Delivered' ? cb : undefined;
      });
      expect([...states].every((s) => ['Scheduled', 'Queued', 'Delivered'].includes(s))).toBe(true);
      // Not before its time (the request that first saw it dispatched was sent after it fell due).
      expect(Date.now()).toBeGreaterThanOrEqual(due);
      expect(firstDispatchSeenAt).toBeGreaterThan(due - 1_000);

      expect((await ok<AgentView>('GET', `/agents/${AGENT.caller}`)).state).toBe('Outbound');
      const contactId = delivered.contactId;
      expect(contactId).not.toBeNull();
      const contact = await ok<ContactView>('GET', `/contacts/${contactId}`);
      expect(contact).toMatchObject({
        state: 'Active',
        agentId: AGENT.caller,
        callbackId,
        direction: 'Outbound',
        mediaType: 'Phone',
        phoneNumber: '+4930901820',
      });
      const active = await ok<Page<ContactView>>('GET', '/contacts?state=Active&limit=1000');
      expect(active.items.map((c) => c.id)).toContain(contactId);

      const ended = await ok<ContactView>('POST', `/contacts/${contactId}/end`);
      expect(ended).toMatchObject({ state: 'Ended', disconnectReason: 'TerminateScript' });
      expect((await ok<CallbackView>('GET', `/scheduled-callbacks/${callbackId}`)).state).toBe('Completed');
      expect((await ok<AgentView>('GET', `/agents/${AGENT.caller}`)).state).toBe('Available');
      await ok('PUT', `/agents/${AGENT.caller}/state`, { state: 'Unavailable' });
    }, 30_000);

    it('an agent made Available through PUT /agents/{id}/state gets a queued contact at once', async () => {
      const queued = await ok<ContactView>(
        'POST',
        '/contacts',
        { mediaType: 'Chat', skillId: SKILL.chat },
        201,
      );
      expect(queued).toMatchObject({ state: 'Queued', agentId: null });
      await ok('PUT', `/agents/${AGENT.chatter}/state`, { state: 'Available' });
      // No waiting: routing ran in the same request.
      expect(await ok<ContactView>('GET', `/contacts/${queued.id}`)).toMatchObject({
        state: 'Active',
        agentId: AGENT.chatter,
      });
      expect((await ok<AgentView>('GET', `/agents/${AGENT.chatter}`)).state).toBe('Inbound');
      await ok('POST', `/contacts/${queued.id}/end`, {});
      expect((await ok<AgentView>('GET', `/agents/${AGENT.chatter}`)).state).toBe('Available');
      await ok('PUT', `/agents/${AGENT.chatter}/state`, { state: 'Unavailable' });
    });

    it('a script deployed with PUT runs for a contact started with it; a signal resumes its STOP', async () => {
      const deployed = await ok<{ name: string; findings: unknown[] }>(
        'PUT',
        '/scripts/relay-api',
        relayScript('relay-api'),
      );
      expect(deployed).toMatchObject({ name: 'relay-api', findings: [] });
      const read = await ok<{ name: string; script: { actions: unknown[] } }>('GET', '/scripts/relay-api');
      expect(read.name).toBe('relay-api');
      expect(read.script.actions).toHaveLength(6);
      expect(await ok('POST', '/scripts/relay-api/validate', relayScript('relay-api'))).toMatchObject({
        valid: true,
      });
      const invalid = await ok<{ valid: boolean; findings: unknown[] }>('POST', '/scripts/x/validate', {
        name: 'x',
      });
      expect(invalid.valid).toBe(false);
      expect(invalid.findings.length).toBeGreaterThan(0);

      const start = (secret: string) =>
        ok<ContactView>(
          'POST',
          '/contacts',
          { mediaType: 'WorkItem', script: 'relay-api', variables: { Secret: secret } },
          201,
        );
      const a = await start('open-sesame');
      const b = await start('other');
      expect([a.state, b.state]).toEqual(['Active', 'Active']);
      const signal = (id: number, p1: string) =>
        ok<{ contactId: number }>('POST', `/contacts/${id}/signal`, { params: [p1] }, 202);
      expect(await signal(b.id, 'open-sesame')).toEqual({ contactId: b.id });
      await signal(a.id, 'wrong');
      await signal(a.id, 'open-sesame');
      const ended = await waitFor('contact A to end', async () => {
        const c = await ok<ContactView>('GET', `/contacts/${a.id}`);
        return c.state === 'Ended' ? c : undefined;
      });
      expect(ended.disconnectReason).toBe('ScriptEnded');
      // B's script saw its own Secret, so A's word did not end it; its own does.
      expect((await ok<ContactView>('GET', `/contacts/${b.id}`)).state).toBe('Active');
      await signal(b.id, 'other');
      const endedB = await waitFor('contact B to end', async () => {
        const c = await ok<ContactView>('GET', `/contacts/${b.id}`);
        return c.state === 'Ended' ? c : undefined;
      });
      expect(endedB.disconnectReason).toBe('ScriptEnded');
    }, 30_000);
  });

  describe('documents and operations', () => {
    it('GET /openapi.json is an OpenAPI 3 document listing every route', async () => {
      const res = await server.request({ path: '/openapi.json' });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const doc = res.json as {
        openapi: string;
        info: { title: string; version: string };
        paths: Record<
          string,
          Record<
            string,
            {
              parameters?: Array<{ in: string; name: string; required?: boolean }>;
              responses: Record<string, unknown>;
            }
          >
        >;
        components: { securitySchemes: Record<string, unknown> };
      };
      expect(doc.openapi).toMatch(/^3\.\d+\.\d+$/);
      expect(typeof doc.info.title).toBe('string');
      expect(typeof doc.info.version).toBe('string');
      expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
      const listed: string[] = [];
      for (const [path, operations] of Object.entries(doc.paths)) {
        expect(path.startsWith('/')).toBe(true);
        for (const [method, op] of Object.entries(operations)) {
          expect(['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace']).toContain(method);
          listed.push(`${method.toUpperCase()} ${path}`);
          expect(
            Object.keys(op.responses).some((s) => /^2\d\d$/.test(s)),
            `${method} ${path}`,
          ).toBe(true);
          for (const name of path.match(/\{(\w+)\}/g) ?? []) {
            const p = op.parameters?.find((x) => x.in === 'path' && `{${x.name}}` === name);
            expect(p?.required, `${method} ${path} declares ${name}`).toBe(true);
          }
        }
      }
      expect(listed.filter((r) => r.includes('/api/v1/')).sort()).toEqual([...ROUTES].sort());
      // Every $ref points at something in the document.
      const refs: string[] = [];
      const walk = (v: unknown) => {
        if (Array.isArray(v)) v.forEach(walk);
        else if (v && typeof v === 'object')
          for (const [k, x] of Object.entries(v))
            k === '$ref' && typeof x === 'string' ? refs.push(x) : walk(x);
      };
      walk(doc);
      for (const ref of refs) {
        expect(ref.startsWith('#/')).toBe(true);
        let node: unknown = doc;
        for (const part of ref.slice(2).split('/'))
          node = (node as Record<string, unknown> | undefined)?.[part];
        expect(node, ref).toBeDefined();
      }
    });

    it('GET /docs serves the HTML docs; GET /health answers ok with the database', async () => {
      const docs = await server.request({ path: '/docs' });
      expect(docs.status).toBe(200);
      expect(docs.headers['content-type']).toMatch(/^text\/html/);
      expect(docs.text).toMatch(/swagger-ui/i);
      const health = await server.request({ path: '/health' });
      expect(health.status).toBe(200);
      expect(health.json).toEqual({ status: 'ok', database: kind.name });
    });

    it('GET /metrics has the callbacks and contacts gauges, the dispatch lateness and request latency', async () => {
      const res = await server.request({ path: '/metrics' });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      const text = res.text;
      // After the end-to-end test: one callback Completed, dispatched by this process.
      expect(text).toMatch(/^switchboard_callbacks\{state="Scheduled"\} \d+$/m);
      expect(text).toMatch(/^switchboard_callbacks\{state="Completed"\} [1-9]\d*$/m);
      expect(text).toMatch(/^switchboard_contacts\{state="Active"\} [1-9]\d*$/m);
      expect(text).toMatch(/^switchboard_contacts\{state="Ended"\} [1-9]\d*$/m);
      expect(text).toMatch(/^switchboard_dispatch_lateness_seconds_bucket\{le="\+Inf"\} [1-9]\d*$/m);
      expect(text).toMatch(/^switchboard_dispatch_lateness_seconds_count [1-9]\d*$/m);
      expect(text).toMatch(
        /^switchboard_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/scheduled-callbacks\/:id",status="200"\} [1-9]\d*$/m,
      );
      expect(text).toMatch(
        /^switchboard_http_request_duration_seconds_bucket\{le="0.1",method="POST",route="\/api\/v1\/contacts",status="201"\} \d+$/m,
      );
    });

    it('a mutating request is in GET /audit with the agent, the action and where it came from', async () => {
      const skill = await ok<{ id: number }>(
        'POST',
        '/skills',
        { name: 'Audited', mediaType: 'SMS', direction: 'Outbound' },
        201,
      );
      const entries: Array<{
        actor: string;
        channel: string;
        action: string;
        targetType: string;
        targetId: string;
      }> = [];
      let cursor: string | null = null;
      do {
        const page: Page<(typeof entries)[number] & { id: number }> = await ok(
          'GET',
          `/audit?limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
        );
        entries.push(...page.items);
        cursor = page.nextCursor;
      } while (cursor !== null);
      expect(entries).toContainEqual(
        expect.objectContaining({
          action: 'skill.created',
          targetType: 'skill',
          targetId: String(skill.id),
          channel: 'api',
          actor: `agent:${AGENT.admin} (ana) via api from 127.0.0.1`,
        }),
      );
      // Refused requests change nothing and are not recorded as changes.
      expect(entries.filter((e) => e.action === 'skill.created' && e.actor.includes('rita'))).toEqual([]);
    });
  });

  describe('hostile input the first version mishandled', () => {
    // Was a bug: ajv's coerceTypes applies to bodies, not only to query strings (src/http/app.ts).
    it('a number or boolean where the body wants a string is 400 naming the field', async () => {
      const res = await call('POST', '/skills', { name: 12345, mediaType: 'Email', direction: 'Inbound' });
      expectError(res, 'InvalidRequest', 'name');
    });

    // Was a bug: StartContactBody.variables is a Type.Record without additionalProperties: false, so
    // names that are not variable names are accepted, with any JSON value (src/http/schemas.ts).
    it('a variable name that is not a name is 400', async () => {
      const res = await call('POST', '/contacts', {
        mediaType: 'Generic',
        variables: { '1 bad name': { deep: [1] } },
      });
      expectError(res, 'InvalidRequest');
    });

    // Was a bug: JSON.stringify of a deeply nested body overflows the stack (routes/scripts.ts and
    // platform/contacts.ts createContact): 500 InternalError for a ~16 KB body.
    it('deeply nested JSON under the body limit is a 4xx, not a 500', async () => {
      const deep = `${'['.repeat(8000)}${']'.repeat(8000)}`;
      const json = { 'content-type': 'application/json' };
      for (const [method, path, raw] of [
        ['POST', '/scripts/deep/validate', `{"name":"deep","actions":${deep}}`],
        ['PUT', '/scripts/deep', `{"name":"deep","actions":${deep}}`],
        ['POST', '/contacts', `{"mediaType":"Generic","script":"relay","variables":{"-":${deep}}}`],
      ] as const) {
        const res = await call(method, path, undefined, { raw, headers: json });
        expect({ path, status: res.status }).toEqual({ path, status: 400 });
      }
    });

    // Was a bug (PostgreSQL only): a NUL character in a text field is 500 ("invalid byte sequence for
    // encoding UTF8: 0x00"); SQLite stores it.
    it('a NUL character in a text field is stored or refused, not a 500', async () => {
      const results = [
        await call('POST', '/skills', { name: 'nul\u0000skill', mediaType: 'Chat', direction: 'Inbound' }),
        await call('POST', '/contacts', { mediaType: 'Chat', ani: 'a\u0000b' }),
        await call('POST', '/scheduled-callbacks', callback({ notes: 'a\u0000b' })),
      ];
      for (const r of results) expect(r.status).toBeLessThan(500);
    });

    // Was a bug: some messages quote the input verbatim (platform/callbacks.ts SkillId and TargetAgentId,
    // platform/contacts.ts script, routes/scripts.ts name, app.ts unknown body/query fields), so a
    // newline in the input makes a multi-line message; phone numbers, dates and zones are quoted
    // with JSON escapes and stay on one line.
    it('an error message stays one line whatever the input holds', async () => {
      const cases: Array<[string, string, unknown]> = [
        ['POST', '/scheduled-callbacks', callback({ skillId: 'a\nb' })],
        ['POST', '/scheduled-callbacks', callback({ targetAgentId: 'x\ny' })],
        ['POST', '/scheduled-callbacks', { ...callback(), 'a\nb': 1 }],
        ['POST', '/contacts', { mediaType: 'Generic', script: 'no\npe' }],
        ['PUT', '/scripts/x', { name: 'a\nb' }],
        ['GET', '/contacts?a%0Ab=1', undefined],
      ];
      for (const [method, path, body] of cases) {
        const res = await call(method, path, body);
        expect(res.status).toBe(400);
        expect(errorShapeProblem(res.json), `${method} ${path}`).toBeUndefined();
      }
    });

    // Was a bug: routes/scripts.ts builds its name-mismatch message with String(body.name), which
    // throws for an object whose toString/valueOf are not functions: 500 InternalError.
    it('a script name that is an object is 400, not 500', async () => {
      for (const name of [{ toString: 1 }, [{ toString: '1' }], { valueOf: {}, toString: null }]) {
        const res = await call('PUT', '/scripts/x', { name, actions: [] });
        expect({ name, status: res.status }).toEqual({ name, status: 400 });
      }
    });

    // Was a bug: Fastify's router errors bypass setErrorHandler (no `frameworkErrors` option):
    // a malformed %-escape is 400 {"error":"Bad Request","code":"FST_ERR_BAD_URL",...}.
    it('a malformed percent-escape in the path answers the one error body', async () => {
      const res = await call('GET', '/contacts/%E0%A4%A');
      expect(res.status).toBe(400);
      expect(errorShapeProblem(res.json), res.text).toBeUndefined();
    });

    // Was a bug: a path parameter over maxParamLength (200) is 414 {"error":"Bad Request","code":
    // "FST_ERR_MAX_PARAM_LENGTH",...}, not the error body (and 414 has no code in STATUS_BY_CODE).
    it('a path parameter over 200 characters answers the one error body', async () => {
      const res = await call('GET', `/contacts/${'1'.repeat(201)}`);
      expect(res.status).toBeLessThan(500);
      expect(errorShapeProblem(res.json), res.text).toBeUndefined();
    });

    // Was a bug: requests Node's HTTP parser refuses (an unknown method, a raw non-ASCII byte in the
    // path) get Fastify's default client-error body {"error":"Bad Request","message":"Client
    // Error","statusCode":400} (no clientErrorHandler).
    it('a request the HTTP parser refuses answers the one error body', async () => {
      for (const req of [
        { method: 'FOO', path: '/api/v1/contacts' },
        { method: 'GET', path: '/api/v1/contacts/\u00e9' },
      ]) {
        const res = await server.overSocket({ ...req, token: server.token('admin') });
        expect(res.status).toBe(400);
        expect(errorShapeProblem(res.json), res.text).toBeUndefined();
      }
    });

    // The parser's other refusal (clientErrorHandler's 431): headers past Node's 16 KiB limit.
    it("headers over the HTTP parser's limit answer 431 with the one error body", async () => {
      const res = await server.overSocket({
        path: '/api/v1/contacts',
        token: server.token('admin'),
        headers: { 'x-huge': 'h'.repeat(20_000) },
      });
      expect(res.status).toBe(431);
      expect(errorShapeProblem(res.json), res.text).toBeUndefined();
      expect(leaks(res.text)).toBeUndefined();
    });

    // Was a bug: integer IDs in bodies and queries have no upper bound; past the database's integer
    // range they are 500 (SQLite: POST /skills id 1e300; PostgreSQL: any ID beyond bigint), and
    // 9007199254740993 silently becomes 9007199254740992. Last: the skill it makes at 2^53 breaks
    // every later POST /skills without an id (the next id, max + 1, is 2^53 again: 500).
    it('an integer ID out of range is 400, not 500 or another ID', async () => {
      const json = { 'content-type': 'application/json' };
      const unsafe = await call('POST', '/skills', undefined, {
        raw: '{"id":9007199254740993,"name":"Unsafe","mediaType":"Chat","direction":"Inbound"}',
        headers: json,
      });
      expect(unsafe.status, unsafe.text).toBe(400);
      const results = [
        await call('POST', '/skills', { id: 1e300, name: 'Huge', mediaType: 'Chat', direction: 'Inbound' }),
        await call('POST', '/contacts', { mediaType: 'Chat', skillId: 1e20 }),
        await call('GET', '/scheduled-callbacks?skillId=99999999999999999999'),
        await call('GET', '/scheduled-callbacks?agentId=1e20'),
      ];
      for (const r of results) expect(r.status, r.text).toBeLessThan(500);
    });
  });
});
