import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { baseWorld } from '../../test/support/simulate.js';
import { createSimulatedClock } from '../clock.js';
import { buildApp } from '../http/app.js';
import { createMetrics } from '../http/metrics.js';
import { createLogger } from '../logger.js';
import { openSqliteStore } from '../storage/sqlite/open-sqlite.js';
import type { Store } from '../storage/store.js';
import { type Actor, PERMISSIONS, type Permission } from './model.js';
import { authorize, OPERATIONS, type Operation, ruleOf } from './permissions.js';
import { createPlatform, type Platform } from './platform.js';

const actor = (permissions: Permission[], agentId = 1002): Actor => ({
  agentId,
  username: 'ben',
  permissions: new Set(permissions),
  timeZone: 'UTC',
});
const api = (permissions: Permission[], agentId?: number) => ({
  channel: 'api' as const,
  actor: actor(permissions, agentId),
});

describe('the permission table', () => {
  it('gives every operation a known permission', () => {
    for (const operation of Object.keys(OPERATIONS) as Operation[]) {
      expect(PERMISSIONS).toContain(ruleOf(operation).permission);
    }
  });

  it('lets system work (no actor) do anything, admin do anything, others what their profile holds', () => {
    expect(authorize({ channel: 'scheduler' }, 'contacts.end')).toBeUndefined();
    expect(authorize(api(['admin']), 'contacts.end')).toBeUndefined();
    expect(authorize(api(['contacts:end']), 'contacts.end')).toBeUndefined();
    expect(authorize(api(['contacts:read']), 'contacts.end')).toEqual({
      ok: false,
      code: 'Unauthorized',
      message: "agent 1002's security profile lacks contacts:end",
    });
  });

  it('lets an agent set its own state without agents:write, but not another agent’s', () => {
    expect(authorize(api([], 1002), 'agents.setState', 1002)).toBeUndefined();
    expect(authorize(api([], 1002), 'agents.setState', 1001)).toMatchObject({ code: 'Unauthorized' });
    // Before the subject is known (the HTTP layer), a self operation is left to the platform.
    expect(authorize(api([], 1002), 'agents.setState', 'unknown')).toBeUndefined();
  });
});

describe('the platform checks reads as it checks writes', () => {
  let store: Store;
  let platform: Platform;

  beforeEach(async () => {
    store = await openSqliteStore(':memory:');
    platform = createPlatform({ store, clock: createSimulatedClock(Date.parse('2026-11-23T08:00:00Z')) });
    const loaded = await platform.loadWorld(baseWorld());
    if (!loaded.ok) throw new Error(loaded.message);
  });

  afterEach(() => store.close());

  it.each([
    ['contacts', (p: Platform, ctx: ReturnType<typeof api>) => p.read.contacts({}, ctx), 'contacts:read'],
    ['one contact', (p: Platform, ctx: ReturnType<typeof api>) => p.read.contact(5001, ctx), 'contacts:read'],
    ['callbacks', (p: Platform, ctx: ReturnType<typeof api>) => p.read.callbacks({}, ctx), 'callbacks:read'],
    ['agents', (p: Platform, ctx: ReturnType<typeof api>) => p.read.agents({}, ctx), 'agents:read'],
    ['one agent', (p: Platform, ctx: ReturnType<typeof api>) => p.read.agent(1001, ctx), 'agents:read'],
    ['skills', (p: Platform, ctx: ReturnType<typeof api>) => p.read.skills({}, ctx), 'skills:read'],
    ['a script', (p: Platform, ctx: ReturnType<typeof api>) => p.read.script('x', ctx), 'scripts:read'],
    ['the audit log', (p: Platform, ctx: ReturnType<typeof api>) => p.read.audit({}, ctx), 'admin'],
  ] as const)('%s: Unauthorized without %s', async (_what, readIt, permission) => {
    const others = PERMISSIONS.filter((p) => p !== permission && p !== 'admin');
    expect(await readIt(platform, api(others))).toMatchObject({ ok: false, code: 'Unauthorized' });
    const allowed = await readIt(platform, api([permission]));
    expect(allowed.ok || allowed.code === 'NotFound').toBe(true);
  });

  it('a listener that throws cannot fail an operation that has committed', async () => {
    const heard: string[] = [];
    const failures: string[] = [];
    const quiet = createPlatform({
      store,
      clock: platform.clock,
      onListenerError: (_error, event) => failures.push(event.type),
    });
    quiet.on(() => {
      throw new Error('a broken listener');
    });
    quiet.on((event) => heard.push(event.type));
    const ended = await quiet.endContact(5001, 'Test', { channel: 'cli' });
    expect(ended).toMatchObject({ ok: true, value: { id: 5001, state: 'Ended' } });
    expect(failures).toContain('contact.ended');
    // The listeners after the broken one still hear of it.
    expect(heard).toContain('contact.ended');
    const read = await quiet.read.contact(5001, { channel: 'cli' });
    expect(read).toMatchObject({ ok: true, value: { state: 'Ended' } });
  });
});

describe('the HTTP API derives each route’s permission from the table', () => {
  it('documents, in OpenAPI, the permission of every /api/v1 operation', async () => {
    const store = await openSqliteStore(':memory:');
    try {
      const platform = createPlatform({ store, clock: createSimulatedClock(0) });
      const app = await buildApp({ platform, metrics: createMetrics(platform), log: createLogger('silent') });
      await app.ready();
      const doc = app.swagger() as {
        paths: Record<string, Record<string, { description?: string; summary?: string }>>;
      };
      const documented = Object.entries(doc.paths).filter(([path]) => path.startsWith('/api/v1'));
      expect(documented.length).toBeGreaterThan(10);
      for (const [path, methods] of documented) {
        for (const [method, op] of Object.entries(methods)) {
          expect(op.description, `${method.toUpperCase()} ${path}`).toMatch(/Needs `[a-z:]+`/);
          const named = /Needs `([a-z:]+)`/.exec(op.description ?? '')?.[1];
          expect(PERMISSIONS, `${method.toUpperCase()} ${path}`).toContain(named);
        }
      }
      await app.close();
    } finally {
      await store.close();
    }
  });
});
