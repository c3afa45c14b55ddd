import { afterAll, beforeAll, expect, it } from 'vitest';
import { systemClock } from '../src/clock.js';
import { STATUS_BY_CODE } from '../src/http/http-error.js';
import { MAX_GIVEN_ID, MAX_ID } from '../src/platform/model.js';
import { createPlatform } from '../src/platform/platform.js';
import { MAX_FINDINGS } from '../src/script/validate.js';
import { errorShapeProblem, leaks } from './support/api-contract.js';
import { type ApiServer, startApiServer } from './support/api-server.js';
import { apiWorld, relayScript } from './support/api-world.js';
import { describeEachStore } from './support/stores.js';

/** Every list route: each reads `limit` and `cursor` the same way. */
const LISTS = ['/contacts', '/scheduled-callbacks', '/agents', '/skills', '/audit'];

interface ErrorBody {
  error: { code: string; message: string; field?: string };
}

describeEachStore('HTTP API limits', (kind) => {
  let server: ApiServer;

  beforeAll(async () => {
    server = await startApiServer(kind, { tokens: ['admin', 'reader'], revoked: false });
  });
  afterAll(async () => {
    await server?.stop();
  });

  const call = (method: string, path: string, body?: unknown, token = server.token('admin')) =>
    server.request({ method, path: `/api/v1${path}`, token, ...(body === undefined ? {} : { body }) });

  /** A 4xx with the one error body, naming `field`; returns the message. */
  function refused(res: Awaited<ReturnType<typeof call>>, code: string, field?: string): string {
    expect(errorShapeProblem(res.json), res.text).toBeUndefined();
    expect(leaks(res.text)).toBeUndefined();
    const { error } = res.json as ErrorBody;
    expect({ status: res.status, code: error.code, field: error.field }, res.text).toEqual({
      status: STATUS_BY_CODE[code],
      code,
      field,
    });
    return error.message;
  }

  // Was a bug: the schema validator read `Infinity` and `1e400` as a number past every bound, and
  // the database refused it: 500 on every list route.
  it('takes a limit only as a whole number from 1 to 1000, on every list route', async () => {
    const bad = [
      'Infinity',
      '-Infinity',
      '1e400',
      '1e3',
      '0x10',
      '1.5',
      '1.0',
      '-1',
      '+5',
      ' 5',
      '0',
      '1001',
      '',
      'ten',
      'NaN',
    ];
    for (const path of LISTS) {
      for (const limit of bad) {
        const message = refused(
          await call('GET', `${path}?limit=${encodeURIComponent(limit)}`),
          'InvalidRequest',
          'limit',
        );
        expect(message).toMatch(/^limit must be a whole number from 1 to 1000 \(default 100\), not /);
      }
      const one = await call('GET', `${path}?limit=1`);
      expect(one.status, one.text).toBe(200);
      expect((one.json as { items: unknown[] }).items).toHaveLength(1);
      const most = await call('GET', `${path}?limit=1000`);
      expect(most.status, most.text).toBe(200);
    }
    expect(refused(await call('GET', '/skills?limit=Infinity'), 'InvalidRequest', 'limit')).toBe(
      "limit must be a whole number from 1 to 1000 (default 100), not 'Infinity'",
    );
    expect(refused(await call('GET', '/skills?limit='), 'InvalidRequest', 'limit')).toBe(
      'limit must be a whole number from 1 to 1000 (default 100), not empty',
    );
  });

  it('takes a cursor only as the digits of a previous page', async () => {
    for (const cursor of ['Infinity', '1e400', '1e3', '1.5', '-1', '', 'abc', '9999999999999999']) {
      const message = refused(
        await call('GET', `/agents?cursor=${encodeURIComponent(cursor)}`),
        'InvalidRequest',
        'cursor',
      );
      expect(message).toMatch(/^cursor must be the previous page's nextCursor \(a whole number\), not /);
    }
    const first = (await call('GET', '/agents?limit=1')).json as { nextCursor: string };
    const next = await call('GET', `/agents?limit=1&cursor=${first.nextCursor}`);
    expect(next.status, next.text).toBe(200);
  });

  // The same validator quirk on the callback filters: 500 on PostgreSQL (not a bigint).
  it('takes the IDs a list is filtered by only as IDs', async () => {
    for (const field of ['skillId', 'agentId']) {
      for (const value of ['Infinity', '1e400', '1e3', '0', '-1', '1.5', '', '9999999999999999']) {
        const message = refused(
          await call('GET', `/scheduled-callbacks?${field}=${encodeURIComponent(value)}`),
          'InvalidRequest',
          field,
        );
        expect(message).toMatch(
          new RegExp(`^${field} must be an ID \\(a whole number from 1 to ${MAX_ID}\\), not `),
        );
      }
      const res = await call('GET', `/scheduled-callbacks?${field}=${MAX_ID}`);
      expect(res.status, res.text).toBe(200);
    }
  });

  it('answers 413 for a script body over 64 KiB, to a reader validating it too', async () => {
    const big = { ...relayScript('big'), description: 'x'.repeat(65 * 1024) };
    refused(await call('POST', '/scripts/big/validate', big, server.token('reader')), 'PayloadTooLarge');
    refused(await call('PUT', '/scripts/big', big), 'PayloadTooLarge');
  });

  // The attack: a 64 KB script whose every branch goes to an id no action has, each close to a
  // real id, validated with a `scripts:read` token. The answer is bounded (how fast it comes is
  // bench/validate.mjs's to measure).
  it('validates a hostile script under the body limit with a bounded answer', async () => {
    const ids = Array.from({ length: 230 }, (_, i) => `${'step-'.repeat(11)}${String(i).padStart(4, '0')}`);
    const hostile = {
      name: 'hostile',
      actions: [
        { id: 'begin', action: 'BEGIN', branches: { Default: ids[0] } },
        ...ids.map((id, i) => ({
          id,
          action: 'IF',
          properties: { Expression: 'true' },
          branches: { True: `${id}x`, False: `x${ids[(i * 7) % ids.length]}` },
        })),
      ],
    };
    expect(JSON.stringify(hostile).length).toBeGreaterThan(40 * 1024);
    expect(JSON.stringify(hostile).length).toBeLessThan(64 * 1024);
    const res = await call('POST', '/scripts/hostile/validate', hostile, server.token('reader'));
    expect(res.status, res.text.slice(0, 300)).toBe(200);
    const { valid, findings } = res.json as {
      valid: boolean;
      findings: Array<{ message: string; hint: string }>;
    };
    expect(valid).toBe(false);
    expect(findings).toHaveLength(MAX_FINDINGS);
    expect(findings.at(-1)?.message).toMatch(
      /^\d+ more findings not shown \(\d+ errors, \d+ warnings\): at most 200 are reported$/,
    );
    expect(findings.filter((f) => f.hint?.startsWith('did you mean')).length).toBeGreaterThan(0);
    expect(res.text.length).toBeLessThan(100 * 1024);
  });

  // Was a bug: a skill created with an ID near the top of the range made the next generated ID
  // (the largest + 1) one the API refuses, so that skill could not be addressed.
  it('refuses a skill ID that leaves no room for the IDs given out after it', async () => {
    const skill = (fields: Record<string, unknown>) => ({
      name: 'Overflow',
      mediaType: 'Chat',
      direction: 'Inbound',
      ...fields,
    });
    for (const id of [MAX_GIVEN_ID + 1, MAX_ID]) {
      const message = refused(await call('POST', '/skills', skill({ id })), 'InvalidRequest', 'id');
      expect(message).toContain(String(MAX_GIVEN_ID));
    }
    const highest = await call('POST', '/skills', skill({ id: MAX_GIVEN_ID }));
    expect(highest.status, highest.text).toBe(201);
    const next = await call('POST', '/skills', skill({ name: 'Next' }));
    expect(next.status, next.text).toBe(201);
    const { id } = next.json as { id: number };
    expect(id).toBe(MAX_GIVEN_ID + 1);
    expect(id).toBeLessThanOrEqual(MAX_ID);
    // The generated skill is addressable: a contact queues for it, and a list filters by it.
    const contact = await call('POST', '/contacts', { mediaType: 'Chat', skillId: id });
    expect(contact.status, contact.text).toBe(201);
    expect(contact.json).toMatchObject({ skillId: id });
    const filtered = await call('GET', `/scheduled-callbacks?skillId=${id}`);
    expect(filtered.status, filtered.text).toBe(200);
    const listed = (await call('GET', `/skills?cursor=${MAX_GIVEN_ID}`)).json as {
      items: Array<{ id: number }>;
    };
    expect(listed.items.map((s) => s.id)).toEqual([id]);
  });

  it('refuses a world whose fixtures give an ID past the hand-given range', async () => {
    const store = await kind.open();
    try {
      const platform = createPlatform({ store, clock: systemClock });
      for (const [list, index] of [
        ['skills', 0],
        ['agents', 0],
        ['contacts', 0],
        ['callbacks', 0],
      ] as const) {
        const world = apiWorld() as Record<string, unknown>;
        const items = [...(world[list] as Array<Record<string, unknown>>)];
        items[index] = { ...items[index], id: MAX_GIVEN_ID + 1 };
        const loaded = await platform.loadWorld({ ...world, [list]: items });
        expect(loaded.ok).toBe(false);
        if (!loaded.ok)
          expect(loaded.message).toContain(`/${list}/${index}/id: must be at most ${MAX_GIVEN_ID}`);
      }
    } finally {
      await store.close();
    }
  });
});
