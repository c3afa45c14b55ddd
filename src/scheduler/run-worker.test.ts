import { pino } from 'pino';
import { afterEach, expect, it } from 'vitest';
import { baseWorld, NOW } from '../../test/support/simulate.js';
import { describeEachStore, type StoreKind } from '../../test/support/stores.js';
import { actions } from '../actions/registry.js';
import { createSimulatedClock } from '../clock.js';
import { buildApp } from '../http/app.js';
import { createMetrics } from '../http/metrics.js';
import { createLogger } from '../logger.js';
import { saveBusinessUnit } from '../platform/business-unit.js';
import type { OperationContext } from '../platform/model.js';
import { createPlatform } from '../platform/platform.js';
import { queueRun } from '../platform/script-runs.js';
import type { Store } from '../storage/store.js';
import { createRunWorker } from './run-worker.js';

const CLI: OperationContext = { channel: 'cli' };
const LEASE_MS = 60_000;
const SCRIPT = JSON.stringify({
  name: 'Slow',
  mediaType: 'Generic',
  actions: [
    { id: '1', action: 'BEGIN', branches: { Default: '2' } },
    { id: '2', action: 'END' },
  ],
});

let closing: Store | undefined;
afterEach(async () => {
  await closing?.close();
  closing = undefined;
});

async function threeQueuedRuns(kind: StoreKind) {
  const [first, second] = await kind.openPair();
  closing = first;
  const clock = createSimulatedClock(Date.parse(NOW));
  const a = createPlatform({ store: first, clock });
  const b = createPlatform({ store: second, clock });
  const loaded = await a.loadWorld(baseWorld());
  if (!loaded.ok) throw new Error(loaded.message);
  const deployed = await a.deployScript(SCRIPT, actions, CLI);
  if (!deployed.ok) throw new Error(deployed.message);
  const contacts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const { id } = await a.startContact({ mediaType: 'Chat', direction: 'Inbound', state: 'Active' }, CLI);
    await queueRun(first.db, clock.now(), id, 'Slow', {}, CLI);
    contacts.push(id);
  }
  return { clock, a, b, contacts };
}

describeEachStore('a run worker working through a slow batch', (kind) => {
  it('keeps the lease on the runs it has not reached, so no other process runs them too', async () => {
    const { clock, a, b, contacts } = await threeQueuedRuns(kind);
    const secondRun = contacts[1];
    const ran: number[] = [];
    let claimedByOther: Promise<unknown[]> | undefined;
    const worker = createRunWorker({
      platform: a,
      actions,
      log: createLogger('silent'),
      owner: 'process-a',
      leaseMs: LEASE_MS,
      onTrace: ({ contactId }, entry) => {
        if (entry.action !== 'BEGIN') return;
        ran.push(contactId);
        // Each run takes 40 s: by the second, the batch's first lease (60 s) would have run out.
        clock.advance(40_000);
        if (contactId === secondRun) {
          claimedByOther = b.runs.claim({ owner: 'process-b', leaseMs: LEASE_MS, limit: 10 });
        }
      },
    });
    expect(await worker.processDue()).toBe(3);
    expect(await claimedByOther).toEqual([]);
    expect(ran).toEqual(contacts);
  });
});

describeEachStore("a run worker holding runs to the business unit's budgets", (kind) => {
  /** BEGIN, then ASSIGN and a one-second WAIT, again and again: three actions, then two per event. */
  const WAITING_LOOP = JSON.stringify({
    name: 'Patient',
    mediaType: 'Generic',
    actions: [
      { id: '1', action: 'BEGIN', branches: { Default: '2' } },
      { id: '2', action: 'ASSIGN', properties: { Variable: 'n', Value: '{n}x' }, branches: { Default: '3' } },
      { id: '3', action: 'WAIT', properties: { Seconds: '1' }, branches: { Default: '2' } },
    ],
  });
  const HOSTILE = JSON.stringify({
    name: 'Hostile',
    mediaType: 'Generic',
    actions: [
      { id: '1', action: 'BEGIN', branches: { Default: '2' } },
      { id: '2', action: 'ASSIGN', properties: { Variable: 'n', Value: 'x' }, branches: { Default: '2' } },
    ],
  });

  async function worldWith(script: string) {
    const store = await kind.open();
    closing = store;
    const clock = createSimulatedClock(Date.parse(NOW));
    const platform = createPlatform({ store, clock });
    const loaded = await platform.loadWorld(baseWorld());
    if (!loaded.ok) throw new Error(loaded.message);
    const deployed = await platform.deployScript(script, actions, CLI);
    if (!deployed.ok) throw new Error(deployed.message);
    const { id } = await platform.startContact(
      { mediaType: 'Generic', direction: 'Inbound', state: 'Active' },
      CLI,
    );
    await queueRun(store.db, clock.now(), id, JSON.parse(script).name, {}, CLI);
    const row = () =>
      store.db.selectFrom('script_runs').selectAll().where('contact_id', '=', id).executeTakeFirst();
    const contact = async () => (await platform.snapshot()).contacts.find((c) => c.id === id);
    return { store, clock, platform, id, row, contact };
  }

  it('saves what a run spent at each park and counts its budgets from there at the next claim', async () => {
    const { store, clock, platform, row, contact } = await worldWith(WAITING_LOOP);
    await saveBusinessUnit(store.db, { runMaxSteps: 8 });
    const logged: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => logged.push(line) });
    const worker = createRunWorker({ platform, actions, log, owner: 'process-a' });
    expect(await worker.processDue()).toBe(1);
    expect(await row()).toMatchObject({ status: 'waiting', steps: 3, resumes: 0 });
    for (const [steps, resumes] of [
      [5, 1],
      [7, 2],
    ]) {
      clock.advance(1_000);
      expect(await worker.processDue()).toBe(1);
      expect(await row()).toMatchObject({ status: 'waiting', steps, resumes });
    }
    clock.advance(1_000);
    expect(await worker.processDue()).toBe(1);
    expect(await row()).toBeUndefined();
    expect(await contact()).toMatchObject({ state: 'Ended', disconnectReason: 'ScriptError' });
    expect(logged.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({
        msg: 'script run failed; its contact ended ScriptError',
        error: "budget exceeded: 8 actions over the run's life (runMaxSteps)",
        spent: expect.objectContaining({ steps: 8, resumes: 3 }),
      }),
    ]);
  });

  it('lets the server answer /health while a hostile run computes', async () => {
    const { store, platform, contact } = await worldWith(HOSTILE);
    await saveBusinessUnit(store.db, { runCpuMsPerEvent: 10_000_000, runCpuMsTotal: 10_000_000 });
    const app = await buildApp({ platform, metrics: createMetrics(platform), log: createLogger('silent') });
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const address = app.server.address();
      if (typeof address !== 'object' || !address) throw new Error('the app listens on no port');
      const url = `http://127.0.0.1:${address.port}/health`;
      // A load balancer asks again and again (the first request also loads the HTTP client).
      expect((await fetch(url)).status).toBe(200);
      let answered = false;
      // The run computes until /health has answered; then each look at its meter finds a long
      // time gone, and it fails for that — not for the step limit (100,000 actions), which it
      // reaches if nothing answers meanwhile.
      let ms = 0;
      const meter = () => (ms += answered ? 1e9 : 1);
      let computing = () => {};
      const started = new Promise<void>((resolve) => {
        computing = resolve;
      });
      const logged: string[] = [];
      const worker = createRunWorker({
        platform,
        actions,
        log: pino({ level: 'warn' }, { write: (line: string) => logged.push(line) }),
        owner: 'a',
        meter,
        onTrace: (_run, entry) => {
          if (entry.id === '2') computing();
        },
      });
      const running = worker.processDue();
      // Asked once the loop is under way, as a load balancer would ask any time.
      await started;
      const health = await fetch(url);
      answered = true;
      expect(health.status).toBe(200);
      await running;
      expect(logged.map((line) => JSON.parse(line).error)).toEqual([
        'budget exceeded: 10000000 ms of CPU in one event (runCpuMsPerEvent)',
      ]);
      expect(await contact()).toMatchObject({ state: 'Ended', disconnectReason: 'ScriptError' });
    } finally {
      await app.close();
    }
  });
});
