import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitFor } from '../support/server-process.js';
import { describeEachStore } from '../support/stores.js';
import { median, startTarget, type Target } from './target.js';

/**
 * Attack items 3 (one contact freezing the server) and 5 (a run that never ends), against a real
 * server: the hostile run is stopped by its budget, named in the log, and `/health` answers quickly
 * all the while.
 */
describeEachStore('security: no script stalls the server or runs forever', (kind) => {
  let target: Target;
  beforeAll(async () => {
    target = await startTarget(kind.name);
  }, 60_000);
  afterAll(async () => {
    await target?.stop();
  });

  /** Deploys `script` as the admin and starts a contact in it as Mixed 1 (contacts:write); its ID. */
  async function start(script: { name: string; actions: unknown[] }): Promise<number> {
    const deployed = await target.request('admin', {
      method: 'PUT',
      path: `/api/v1/scripts/${script.name}`,
      body: script,
    });
    expect(deployed.status, deployed.text).toBe(200);
    const res = await target.request('mixed1', {
      method: 'POST',
      path: '/api/v1/contacts',
      body: { mediaType: 'Generic', script: script.name },
    });
    expect(res.status, res.text).toBe(201);
    return (res.json as { id: number }).id;
  }
  const contact = (id: number) =>
    target.store.db
      .selectFrom('contacts')
      .select(['state', 'disconnect_reason'])
      .where('id', '=', id)
      .executeTakeFirst();
  const failure = (id: number) =>
    target.serve.logs.find((l) => l.msg.startsWith('script run failed') && l.contactId === id);

  it('a run that builds large texts in a loop is stopped by its CPU budget; /health answers quickly meanwhile', async () => {
    // x grows to 32 KiB; then an IF builds 20 copies of it (about 640,000 characters) on every
    // step and loops to itself: each step costs milliseconds, and it never ends by itself.
    const copies = Array.from({ length: 20 }, () => 'x').join(' + ');
    const id = await start({
      name: 'freeze',
      actions: [
        { id: '1', action: 'BEGIN', branches: { Default: '2' } },
        {
          id: '2',
          action: 'ASSIGN',
          properties: { Variable: 'x', Value: 'xxxxxxxx' },
          branches: { Default: '3' },
        },
        {
          id: '3',
          action: 'ASSIGN',
          properties: { Variable: 'x', Value: '{x}{x}{x}{x}' },
          branches: { Default: '4' },
        },
        {
          id: '4',
          action: 'IF',
          properties: { Expression: 'len(x) < 32768' },
          branches: { True: '3', False: '5' },
        },
        {
          id: '5',
          action: 'IF',
          properties: { Expression: `len(${copies}) > 0` },
          branches: { True: '5', False: '9' },
        },
        { id: '9', action: 'END' },
      ],
    });
    await waitFor(
      'the hostile run to be running',
      async () =>
        (
          await target.store.db
            .selectFrom('script_runs')
            .select('status')
            .where('contact_id', '=', id)
            .executeTakeFirst()
        )?.status === 'running',
      { timeoutMs: 15_000, intervalMs: 5 },
    );
    const probes: number[] = [];
    while ((await contact(id))?.state !== 'Ended' && probes.length < 200)
      probes.push(await target.healthMs());
    expect(probes.length).toBeGreaterThan(0);
    // A blocked event loop answers the first probe only when the run is over: one slow probe.
    expect(median(probes)).toBeLessThan(100);
    expect(await contact(id)).toEqual({ state: 'Ended', disconnect_reason: 'ScriptError' });
    const logged = await waitFor('the failure logged', () => failure(id));
    expect(String(logged.error)).toContain('(runCpuMsPerEvent)');
  });

  it('a loop around a short WAIT is stopped by its lifetime resume budget', async () => {
    await target.store.db
      .updateTable('business_unit')
      .set({ run_max_resumes: 3 })
      .where('id', '=', 1)
      .execute();
    try {
      const id = await start({
        name: 'forever',
        actions: [
          { id: '1', action: 'BEGIN', branches: { Default: '2' } },
          { id: '2', action: 'WAIT', properties: { Seconds: 1 }, branches: { Default: '2' } },
        ],
      });
      await waitFor('the endless run stopped', async () => (await contact(id))?.state === 'Ended', {
        timeoutMs: 20_000,
      });
      expect(await contact(id)).toEqual({ state: 'Ended', disconnect_reason: 'ScriptError' });
      const logged = await waitFor('the failure logged', () => failure(id));
      expect(String(logged.error)).toContain('(runMaxResumes)');
    } finally {
      await target.store.db
        .updateTable('business_unit')
        .set({ run_max_resumes: 10_000 })
        .where('id', '=', 1)
        .execute();
    }
  });
});
