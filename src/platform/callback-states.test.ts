import { afterEach, beforeEach, expect, it } from 'vitest';
import { baseWorld } from '../../test/support/simulate.js';
import { describeEachStore } from '../../test/support/stores.js';
import { createSimulatedClock } from '../clock.js';
import type { Store } from '../storage/store.js';
import {
  CALLBACK_STATE_OF_CONTACT,
  CALLBACK_TRANSITIONS,
  statesLeadingTo,
  transitionCallbacks,
} from './callback-states.js';
import { CALLBACK_STATES, type CallbackState, type ContactState } from './model.js';
import { createPlatform } from './platform.js';

const NOW = Date.parse('2026-11-23T08:00:00Z');

it('lists every state, and leads to each state only from those the table names', () => {
  expect(Object.keys(CALLBACK_TRANSITIONS).sort()).toEqual([...CALLBACK_STATES].sort());
  expect(statesLeadingTo('Queued')).toEqual(['Scheduled']);
  expect(statesLeadingTo('Delivered')).toEqual(['Queued']);
  expect(statesLeadingTo('Completed').sort()).toEqual(['Delivered', 'Queued']);
  expect(statesLeadingTo('Canceled')).toEqual(['Scheduled']);
  expect(statesLeadingTo('Scheduled')).toEqual([]);
});

describeEachStore('the one guarded transition of a callback', (kind) => {
  let store: Store;
  /** One callback in each state, by state. */
  let ids: Record<CallbackState, number>;

  beforeEach(async () => {
    store = await kind.open();
    const platform = createPlatform({ store, clock: createSimulatedClock(NOW) });
    const callback = (id: number, state: CallbackState) => ({
      id,
      state,
      phoneNumber: '+4930123456',
      skillId: 2001,
      scheduleDate: state === 'Scheduled' ? '2026-11-24T09:00:00Z' : '2026-11-20T09:00:00Z',
    });
    // Each callback of a contact is held by it, in the contact's matching state.
    const contactOf = (callbackId: number, state: ContactState) => ({
      id: 6000 + callbackId,
      mediaType: 'Phone',
      direction: 'Outbound',
      state,
      skillId: 2001,
      ...(state === 'Active' ? { agentId: 1001 } : {}),
      callbackId,
    });
    const loaded = await platform.loadWorld({
      ...baseWorld(),
      contacts: CALLBACK_STATES.flatMap((state, i) => {
        const held = (Object.keys(CALLBACK_STATE_OF_CONTACT) as ContactState[]).find(
          (c) => CALLBACK_STATE_OF_CONTACT[c] === state,
        );
        return held ? [contactOf(i + 1, held)] : [];
      }),
      callbacks: CALLBACK_STATES.map((state, i) => callback(i + 1, state)),
    });
    if (!loaded.ok) throw new Error(loaded.message);
    ids = Object.fromEntries(CALLBACK_STATES.map((state, i) => [state, i + 1])) as Record<
      CallbackState,
      number
    >;
  });

  afterEach(() => store.close());

  const stateOf = async (id: number) =>
    (await store.db.selectFrom('scheduled_callbacks').select('state').where('id', '=', id).executeTakeFirst())
      ?.state;

  it.each(CALLBACK_STATES.flatMap((from) => CALLBACK_STATES.map((to) => [from, to] as const)))(
    '%s → %s moves only when the table allows it',
    async (from, to) => {
      const allowed = CALLBACK_TRANSITIONS[from].includes(to);
      const moved = await store.transaction((trx) => transitionCallbacks(trx, NOW, [ids[from]], to));
      expect(moved.map((m) => m.id)).toEqual(allowed ? [ids[from]] : []);
      expect(await stateOf(ids[from])).toBe(allowed ? to : from);
    },
  );
});
