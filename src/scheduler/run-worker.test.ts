import { afterEach, expect, it } from 'vitest';
import { baseWorld, NOW } from '../../test/support/simulate.js';
import { describeEachStore, type StoreKind } from '../../test/support/stores.js';
import { actions } from '../actions/registry.js';
import { createSimulatedClock } from '../clock.js';
import { createLogger } from '../logger.js';
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
