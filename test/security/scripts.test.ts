import { afterAll, beforeAll, expect, it } from 'vitest';
import { AGENT, SKILL } from '../support/api-world.js';
import { waitFor } from '../support/server-process.js';
import { describeEachStore } from '../support/stores.js';
import { median, startTarget, type Target } from './target.js';

/**
 * Attack items 1 (impersonation), 7 (handles that never expire, replayed from a backup), 4 (a
 * read-only token stalling the server with the validator) and 9 (`limit=Infinity`), against a
 * real server with least-privileged tokens.
 */
describeEachStore('security: scripts cannot borrow power, requests cannot stall the server', (kind) => {
  let target: Target;
  beforeAll(async () => {
    target = await startTarget(kind.name);
  }, 60_000);
  afterAll(async () => {
    await target?.stop();
  });

  const state = async (id: number) =>
    (await target.store.db.selectFrom('contacts').select('state').where('id', '=', id).executeTakeFirst())
      ?.state;
  const deploy = async (as: 'admin' | 'mixed3', script: { name: string; actions: unknown[] }) => {
    const res = await target.request(as, {
      method: 'PUT',
      path: `/api/v1/scripts/${script.name}`,
      body: script,
    });
    expect(res.status, res.text).toBe(200);
  };
  /** A contact to be the victim: Active, in no script. */
  const victim = async () => {
    const res = await target.request('admin', {
      method: 'POST',
      path: '/api/v1/contacts',
      body: { mediaType: 'Chat' },
    });
    return (res.json as { id: number }).id;
  };
  /** Starts a contact in `script` as Mixed 1 (contacts:write and little else) and waits for it to end. */
  const runAsMixed1 = async (script: string, variables: Record<string, string>) => {
    const res = await target.request('mixed1', {
      method: 'POST',
      path: '/api/v1/contacts',
      body: { mediaType: 'Generic', script, variables },
    });
    expect(res.status, res.text).toBe(201);
    const id = (res.json as { id: number }).id;
    await waitFor(`contact ${id} ended by its script`, async () => (await state(id)) === 'Ended', {
      timeoutMs: 15_000,
    });
    return id;
  };

  /** SETSECURITYUSER the admin, then End a Contact {Target} as the admin. */
  const borrow = {
    name: 'borrow',
    actions: [
      { id: '1', action: 'BEGIN', branches: { Default: '2' } },
      {
        id: '2',
        action: 'SETSECURITYUSER',
        properties: { Agent: 'ana' },
        branches: { Default: '3', OnError: '9' },
      },
      { id: '3', action: 'KILLCONTACT', properties: { ContactID: '{Target}' }, branches: { Default: '9' } },
      { id: '9', action: 'END' },
    ],
  };

  it('a script deployed by a scripts:write token cannot act as the admin; the same script deployed by the admin can', async () => {
    const first = await victim();
    await deploy('mixed3', borrow);
    const mark = await target.auditMark();
    const started = await runAsMixed1('borrow', { Target: String(first) });
    expect(await state(first)).toBe('Active');
    const attempts = await target.audit(mark);
    expect(attempts.filter((e) => e.action === 'security-user.issued')).toEqual([]);
    // The attempt shows: who deployed the script, who started the contact.
    const refused = attempts.find((e) => e.action === 'security-user.refused');
    expect(refused).toMatchObject({ targetId: String(AGENT.admin), details: { contactId: started } });
    expect(JSON.stringify(refused?.details)).toContain(`agent:${AGENT.mixed3} (mo)`);
    expect(JSON.stringify(refused?.details)).toContain(`agent:${AGENT.mixed1} (mia)`);

    // Deployed by the admin, it acts as the admin: the audit names the whole chain.
    await deploy('admin', borrow);
    const second = await victim();
    const mark2 = await target.auditMark();
    const again = await runAsMixed1('borrow', { Target: String(second) });
    expect(await state(second)).toBe('Ended');
    const issued = (await target.audit(mark2)).find((e) => e.action === 'security-user.issued');
    expect(issued).toMatchObject({ targetId: String(AGENT.admin) });
    expect(JSON.stringify(issued?.details)).toContain(`agent:${AGENT.admin} (ana)`);
    expect(JSON.stringify(issued?.details)).toContain(`agent:${AGENT.mixed1} (mia)`);
    expect(JSON.stringify(issued?.details)).toContain(String(again));
    expect(started).not.toBe(again);
  });

  it('COMMITMENT acts within its deployer’s permissions: a scripts:write token’s script schedules nothing', async () => {
    const promise = (name: string) => ({
      name,
      actions: [
        { id: '1', action: 'BEGIN', branches: { Default: '2' } },
        {
          id: '2',
          action: 'COMMITMENT',
          properties: {
            FirstName: 'Borrowed',
            LastName: name,
            PhoneNumber: '+49 30 901823',
            Skill: String(SKILL.later),
            CommitmentDate: new Date(Date.now() + 2 * 86_400_000).toISOString(),
          },
          branches: { Default: '9' },
        },
        { id: '9', action: 'END' },
      ],
    });
    const scheduled = async (lastName: string) =>
      (
        await target.store.db
          .selectFrom('scheduled_callbacks')
          .select('id')
          .where('last_name', '=', lastName)
          .execute()
      ).length;
    // Mixed 3 may deploy scripts and write callbacks; Mixed 2 may deploy scripts but not write callbacks.
    await target.request('mixed2', {
      method: 'PUT',
      path: '/api/v1/scripts/promise-2',
      body: promise('promise-2'),
    });
    await deploy('mixed3', promise('promise-3'));
    await runAsMixed1('promise-2', {});
    await runAsMixed1('promise-3', {});
    expect(await scheduled('promise-2')).toBe(0);
    expect(await scheduled('promise-3')).toBe(1);
  });

  it('a handle lifted from a parked run (a backup, a log) is refused by any other run', async () => {
    await deploy('admin', {
      name: 'mint',
      actions: [
        { id: '1', action: 'BEGIN', branches: { Default: '2' } },
        { id: '2', action: 'SETSECURITYUSER', properties: { Agent: 'ana' }, branches: { Default: '3' } },
        { id: '3', action: 'STOP' },
      ],
    });
    const minted = await target.request('mixed1', {
      method: 'POST',
      path: '/api/v1/contacts',
      body: { mediaType: 'Generic', script: 'mint' },
    });
    const mintId = (minted.json as { id: number }).id;
    const handle = await waitFor('the parked run holding a handle', async () => {
      const run = await target.store.db
        .selectFrom('script_runs')
        .select(['status', 'snapshot'])
        .where('contact_id', '=', mintId)
        .executeTakeFirst();
      if (run?.status !== 'stopped' || run.snapshot === null) return undefined;
      const saved = JSON.parse(run.snapshot) as { variables: Record<string, unknown> };
      return Object.values(saved.variables).find(
        (v): v is string => typeof v === 'string' && v.startsWith('su'),
      );
    });
    await deploy('admin', {
      name: 'replay',
      actions: [
        { id: '1', action: 'BEGIN', branches: { Default: '2' } },
        {
          id: '2',
          action: 'KILLCONTACT',
          properties: { SecurityUser: '{Stolen}', ContactID: '{Target}' },
          branches: { Default: '9' },
        },
        // Parks, so that its _ERR can be read from the saved run.
        { id: '9', action: 'STOP' },
      ],
    });
    const victimId = await victim();
    const replayed = await target.request('mixed1', {
      method: 'POST',
      path: '/api/v1/contacts',
      body: {
        mediaType: 'Generic',
        script: 'replay',
        variables: { Stolen: handle, Target: String(victimId) },
      },
    });
    const replayId = (replayed.json as { id: number }).id;
    const error = await waitFor('the replaying run parked with its _ERR', async () => {
      const run = await target.store.db
        .selectFrom('script_runs')
        .select(['status', 'snapshot'])
        .where('contact_id', '=', replayId)
        .executeTakeFirst();
      if (run?.status !== 'stopped' || run.snapshot === null) return undefined;
      return (JSON.parse(run.snapshot) as { variables: Record<string, unknown> }).variables._ERR;
    });
    expect(error).toBe('the security user was issued to another script run');
    expect(await state(victimId)).toBe('Active');
  });

  it('a read-only token’s hostile validate request answers quickly and never stalls /health', async () => {
    // The reported shape: every action branches to an id no action has, close to the real ones.
    const ids = Array.from(
      { length: 250 },
      (_, i) => `action-${String(i).padStart(4, '0')}-${'x'.repeat(60)}`,
    );
    const script = {
      name: 'hostile',
      actions: [
        { id: 'begin', action: 'BEGIN', branches: { Default: ids[0] } },
        ...ids.map((id, i) => ({ id, action: 'END', branches: { Default: `${id.slice(0, -3)}zz${i}` } })),
      ],
    };
    const body = JSON.stringify(script);
    expect(body.length).toBeGreaterThan(40_000);
    expect(body.length).toBeLessThan(64 * 1024);
    // The attacker sends them back to back while /health is probed: each probe meets one in progress.
    let attacking = true;
    const answers: Array<{ status: number; valid: boolean }> = [];
    const attack = (async () => {
      while (attacking) {
        const res = await target.request('reader', {
          method: 'POST',
          path: '/api/v1/scripts/hostile/validate',
          body: script,
        });
        answers.push({ status: res.status, valid: (res.json as { valid: boolean }).valid });
      }
    })();
    const probes: number[] = [];
    try {
      for (let i = 0; i < 10; i++) probes.push(await target.healthMs());
    } finally {
      attacking = false;
      await attack;
    }
    expect(answers.length).toBeGreaterThan(0);
    expect(answers.every((a) => a.status === 200 && !a.valid)).toBe(true);
    expect(median(probes)).toBeLessThan(100);
  });

  it('limit=Infinity and its cousins are 400 InvalidRequest naming limit on every list route, never 500', async () => {
    for (const path of ['/contacts', '/scheduled-callbacks', '/agents', '/skills', '/audit']) {
      for (const limit of ['Infinity', '1e400', '-1', '1.5', '']) {
        const res = await target.request('admin', { path: `/api/v1${path}?limit=${limit}` });
        expect(res.status, `${path}?limit=${limit}: ${res.text}`).toBe(400);
        expect((res.json as { error: { field?: string } }).error.field).toBe('limit');
      }
    }
  });
});
