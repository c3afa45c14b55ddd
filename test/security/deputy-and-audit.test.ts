import { afterAll, beforeAll, expect, it } from 'vitest';
import { AGENT, SKILL } from '../support/api-world.js';
import { waitFor } from '../support/server-process.js';
import { describeEachStore } from '../support/stores.js';
import { startTarget, type Target } from './target.js';

/**
 * Attack items 2 (confused deputy), 6 (unbounded signals), 8 (audit gaps) and the per-object rule
 * of item 9, as an attacker with ordinary tokens tries them against a real server.
 */
describeEachStore('security: a script cannot be pointed elsewhere, and every act leaves a trace', (kind) => {
  let target: Target;
  beforeAll(async () => {
    target = await startTarget(kind.name);
  }, 60_000);
  afterAll(async () => {
    await target?.stop();
  });

  const contactState = async (id: number) =>
    (await target.store.db.selectFrom('contacts').select('state').where('id', '=', id).executeTakeFirst())
      ?.state;
  const errorOf = (res: { json: unknown }) =>
    (res.json as { error: { code: string; message: string; field?: string } }).error;

  it('a start request cannot set ContactID (or any variable the platform sets) to aim a script at another contact', async () => {
    // The admin's script ends "its own" contact: {ContactID} is the contact it runs for.
    const endOwn = {
      name: 'end-own',
      actions: [
        { id: '1', action: 'BEGIN', branches: { Default: '2' } },
        {
          id: '2',
          action: 'SETSECURITYUSER',
          properties: { Agent: 'ana' },
          branches: { Default: '3', OnError: '9' },
        },
        {
          id: '3',
          action: 'KILLCONTACT',
          properties: { ContactID: '{ContactID}' },
          branches: { OnSuccess: '9', Default: '9' },
        },
        { id: '9', action: 'END' },
      ],
    };
    expect(
      (await target.request('admin', { method: 'PUT', path: '/api/v1/scripts/end-own', body: endOwn }))
        .status,
    ).toBe(200);
    for (const name of [
      'ContactID',
      'contactId',
      'MasterID',
      'SkillId',
      'MediaType',
      'ANI',
      'DNIS',
      '_ERR',
      '__DISCONNECTREASON',
    ]) {
      const res = await target.request('mixed1', {
        method: 'POST',
        path: '/api/v1/contacts',
        body: { mediaType: 'Generic', script: 'end-own', variables: { [name]: '5001' } },
      });
      expect(res.status, res.text).toBe(400);
      expect(errorOf(res)).toMatchObject({ code: 'InvalidRequest', field: `variables.${name}` });
    }
    // Started as intended, it ends its own contact and nothing else.
    const own = await target.request('mixed1', {
      method: 'POST',
      path: '/api/v1/contacts',
      body: { mediaType: 'Generic', script: 'end-own' },
    });
    expect(own.status, own.text).toBe(201);
    const ownId = (own.json as { id: number }).id;
    await waitFor('its own contact ended', async () => (await contactState(ownId)) === 'Ended', {
      timeoutMs: 15_000,
    });
    expect(await contactState(5001)).toBe('Active');
  });

  it('a script runs only for contacts of its media type (or Generic)', async () => {
    const phoneOnly = {
      name: 'phone-only',
      mediaType: 'Phone',
      actions: [
        { id: '1', action: 'BEGIN', branches: { Default: '2' } },
        { id: '2', action: 'END' },
      ],
    };
    expect(
      (await target.request('admin', { method: 'PUT', path: '/api/v1/scripts/phone-only', body: phoneOnly }))
        .status,
    ).toBe(200);
    const res = await target.request('mixed1', {
      method: 'POST',
      path: '/api/v1/contacts',
      body: { mediaType: 'Chat', script: 'phone-only' },
    });
    expect(res.status, res.text).toBe(400);
    expect(errorOf(res)).toMatchObject({ code: 'InvalidScript', field: 'script' });
  });

  it('signals to one run are bounded: past maxPendingSignals, 409 TooManySignals, and the server stays quick', async () => {
    const waits = {
      name: 'waits',
      actions: [
        { id: '1', action: 'BEGIN', branches: { Default: '2' } },
        { id: '2', action: 'WAIT', properties: { Seconds: 86_000 }, branches: { Default: '3' } },
        { id: '3', action: 'END' },
      ],
    };
    expect(
      (await target.request('admin', { method: 'PUT', path: '/api/v1/scripts/waits', body: waits })).status,
    ).toBe(200);
    const started = await target.request('mixed1', {
      method: 'POST',
      path: '/api/v1/contacts',
      body: { mediaType: 'Chat', script: 'waits' },
    });
    const id = (started.json as { id: number }).id;
    const big = 'x'.repeat(1024);
    for (let i = 0; i < 100; i++) {
      const res = await target.request('mixed1', {
        method: 'POST',
        path: `/api/v1/contacts/${id}/signal`,
        body: { params: [big] },
      });
      expect(res.status, res.text).toBe(202);
    }
    const over = await target.request('mixed1', {
      method: 'POST',
      path: `/api/v1/contacts/${id}/signal`,
      body: { params: ['one more'] },
    });
    expect(over.status, over.text).toBe(409);
    expect(errorOf(over).code).toBe('TooManySignals');
    const pending = await target.store.db
      .selectFrom('script_run_signals')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('contact_id', '=', id)
      .executeTakeFirstOrThrow();
    expect(Number(pending.n)).toBe(100);
    expect(await target.healthMs()).toBeLessThan(100);
  });

  it('refused requests are audited: 401 with no agent, 403 naming the agent, with the route', async () => {
    const mark = await target.auditMark();
    expect((await target.request(null, { path: '/api/v1/contacts' })).status).toBe(401);
    expect(
      (
        await target.request('reader', {
          method: 'POST',
          path: '/api/v1/contacts',
          body: { mediaType: 'Chat' },
        })
      ).status,
    ).toBe(403);
    const refused = (await target.audit(mark)).filter((e) => e.action === 'request.refused');
    expect(refused).toEqual([
      expect.objectContaining({
        actor: 'anonymous via api from 127.0.0.1',
        channel: 'api',
        targetId: 'GET /api/v1/contacts',
        details: expect.objectContaining({ status: 401, code: 'InvalidSecurityUser' }),
      }),
      expect.objectContaining({
        actor: `agent:${AGENT.reader} (rita) via api from 127.0.0.1`,
        channel: 'api',
        targetId: 'POST /api/v1/contacts',
        details: expect.objectContaining({ status: 403, code: 'Unauthorized' }),
      }),
    ]);
  });

  it('a flood of refused requests costs the audit one summary per minute, not a row each', async () => {
    const mark = await target.auditMark();
    for (let i = 0; i < 200; i++)
      expect((await target.request(null, { path: '/api/v1/agents' })).status).toBe(401);
    const refused = (await target.audit(mark)).filter((e) => e.action === 'request.refused');
    // 60 a minute, one by one, then one summary; the flood may straddle two minutes.
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused.length).toBeLessThanOrEqual(122);
    expect(
      refused.some((e) =>
        String((e.details as { message: string }).message).includes('not audited one by one'),
      ),
    ).toBe(true);
  });

  it('the audit holds what changed: script bodies by hash, a contact’s script and variables, old and new values of an edit', async () => {
    const mark = await target.auditMark();
    const script = (description: string) => ({
      name: 'audited',
      description,
      actions: [
        { id: '1', action: 'BEGIN', branches: { Default: '2' } },
        { id: '2', action: 'STOP' },
      ],
    });
    for (const d of ['first', 'second']) {
      const res = await target.request('mixed3', {
        method: 'PUT',
        path: '/api/v1/scripts/audited',
        body: script(d),
      });
      expect(res.status, res.text).toBe(200);
    }
    const started = await target.request('mixed1', {
      method: 'POST',
      path: '/api/v1/contacts',
      body: { mediaType: 'Chat', script: 'audited', variables: { Order: '42' } },
    });
    expect(started.status, started.text).toBe(201);
    const created = await target.request('admin', {
      method: 'POST',
      path: '/api/v1/scheduled-callbacks',
      body: {
        firstName: 'Erika',
        lastName: 'Mustermann',
        phoneNumber: '+49 30 901821',
        skillId: SKILL.later,
        scheduleDate: new Date(Date.now() + 2 * 86_400_000).toISOString(),
        notes: 'before',
      },
    });
    const callbackId = (created.json as { callbackId: number }).callbackId;
    const edited = await target.request('admin', {
      method: 'PUT',
      path: `/api/v1/scheduled-callbacks/${callbackId}`,
      body: { notes: 'after' },
    });
    expect(edited.status, edited.text).toBe(200);

    const entries = await target.audit(mark);
    const deploys = entries.filter((e) => e.targetType === 'script' && e.targetId === 'audited');
    expect(deploys.map((e) => [e.action, e.actor])).toEqual([
      ['script.created', `agent:${AGENT.mixed3} (mo) via api from 127.0.0.1`],
      ['script.updated', `agent:${AGENT.mixed3} (mo) via api from 127.0.0.1`],
    ]);
    const [first, second] = deploys.map((e) => e.details as { hash: string; previousHash?: string });
    expect(first?.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(second).toEqual({ hash: expect.stringMatching(/^sha256:/), previousHash: first?.hash });
    expect(second?.hash).not.toBe(first?.hash);
    expect(entries.find((e) => e.action === 'contact.script-started')).toMatchObject({
      actor: `agent:${AGENT.mixed1} (mia) via api from 127.0.0.1`,
      channel: 'api',
      details: { script: 'audited', scriptHash: second?.hash, variables: { Order: '42' } },
    });
    expect(entries.find((e) => e.action === 'callback.updated')).toMatchObject({
      targetId: String(callbackId),
      details: { changes: { notes: { from: 'before', to: 'after' } } },
    });
  });

  it('routing an API call set off is audited as that call, not as the scheduler', async () => {
    const queued = await target.request('mixed1', {
      method: 'POST',
      path: '/api/v1/contacts',
      body: { mediaType: 'Chat', skillId: SKILL.chat },
    });
    expect((queued.json as { state: string }).state).toBe('Queued');
    const contactId = (queued.json as { id: number }).id;
    const mark = await target.auditMark();
    const available = await target.request('chatter', {
      method: 'PUT',
      path: `/api/v1/agents/${AGENT.chatter}/state`,
      body: { state: 'Available' },
    });
    expect(available.status, available.text).toBe(200);
    const routed = (await target.audit(mark)).find((e) => e.action === 'contact.routed');
    expect(routed).toMatchObject({
      actor: `agent:${AGENT.chatter} (dan) via api from 127.0.0.1, routing`,
      channel: 'api',
      targetId: String(contactId),
    });
  });

  it('another agent’s targeted callback is theirs: callbacks:write alone cannot change or cancel it', async () => {
    const created = await target.request('admin', {
      method: 'POST',
      path: '/api/v1/scheduled-callbacks',
      body: {
        firstName: 'Promised',
        lastName: 'ToCora',
        phoneNumber: '+49 30 901822',
        skillId: SKILL.callbacks,
        targetAgentId: AGENT.caller,
        scheduleDate: new Date(Date.now() + 2 * 86_400_000).toISOString(),
      },
    });
    expect(created.status, created.text).toBe(201);
    const id = (created.json as { callbackId: number }).callbackId;
    // Mixed 3 holds callbacks:write but not agents:write.
    const edit = await target.request('mixed3', {
      method: 'PUT',
      path: `/api/v1/scheduled-callbacks/${id}`,
      body: { targetAgentId: '' },
    });
    expect(edit.status, edit.text).toBe(403);
    expect(errorOf(edit).message).toContain(`targeted at agent ${AGENT.caller}`);
    const cancel = await target.request('mixed3', {
      method: 'DELETE',
      path: `/api/v1/scheduled-callbacks/${id}`,
    });
    expect(cancel.status, cancel.text).toBe(403);
    // A supervisor may.
    const bySupervisor = await target.request('supervisor', {
      method: 'PUT',
      path: `/api/v1/scheduled-callbacks/${id}`,
      body: { notes: 'moved by the supervisor' },
    });
    expect(bySupervisor.status, bySupervisor.text).toBe(200);
  });
});
