import { afterEach, beforeEach, expect, it } from 'vitest';
import { systemClock } from '../src/clock.js';
import { createPlatform } from '../src/platform/platform.js';
import { socketClient } from './support/api-client.js';
import { AGENT, apiWorld } from './support/api-world.js';
import { freshDatabase, type TestDatabase } from './support/server-db.js';
import { cli, killLeftovers, STOPPED, startServe } from './support/server-process.js';
import { describeEachStore } from './support/stores.js';

/**
 * The API suites run the server in-process from src/ (test/support/api-server.ts). This one proves
 * that the compiled CLI serves the same API: `switchboard serve` from dist/, a token made by
 * `switchboard token create`, one authenticated request over its socket, and exit 0 on SIGTERM.
 */
describeEachStore('switchboard serve serves the API (real processes)', (kind) => {
  let db: TestDatabase;

  beforeEach(async () => {
    db = await freshDatabase(kind.name);
  });

  afterEach(async () => {
    await killLeftovers();
    await db.drop();
  });

  it('a token from `token create` authenticates a request to the URL serve prints; SIGTERM exits 0', async () => {
    // Seeding is not what this proves: the world goes in through the platform, which is quicker.
    const loaded = await createPlatform({ store: await db.store(), clock: systemClock }).loadWorld(
      apiWorld(),
    );
    expect(loaded.ok).toBe(true);
    const created = await cli(['token', 'create', '--agent', String(AGENT.reader), '--db', db.url]);
    expect(created.stderr).toBe('');
    expect(created.status).toBe(0);
    const token = created.stdout.trim();

    const serve = await startServe(db.url);
    const running = /Switchboard is running at (http:\/\/\S+)/;
    const printed = await serve.waitForLog((l) => running.test(l.msg));
    const client = socketClient(running.exec(printed.msg)?.[1] ?? '');
    try {
      const anonymous = await client.request({ path: '/api/v1/agents?limit=1' });
      expect(anonymous.status, anonymous.text).toBe(401);
      const agents = await client.request({ path: '/api/v1/agents?limit=1', token });
      expect(agents.status, agents.text).toBe(200);
      expect(agents.json).toMatchObject({ items: [{ id: AGENT.admin }] });
    } finally {
      client.close();
    }

    serve.kill('SIGTERM');
    expect(await serve.exited).toEqual({ code: 0, signal: null });
    expect(serve.logs.some(STOPPED)).toBe(true);
    expect(serve.stderr()).toBe('');
  });
});
