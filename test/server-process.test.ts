import { writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Store } from '../src/storage/store.js';
import { noStackTrace, tempFiles } from './support/cli.js';
import { withAgents } from './support/platform.js';
import {
  addCallbacks,
  countDispatched,
  describePostgres,
  dispatchReport,
  freshDatabase,
  freshPostgres,
  openProxy,
  postgresUrl,
  type TestDatabase,
  terminateBackends,
} from './support/server-db.js';
import {
  cli,
  killLeftovers,
  type ServeProcess,
  STOPPED,
  startServe,
  waitFor,
} from './support/server-process.js';
import { baseWorld } from './support/simulate.js';
import { describeEachStore, POSTGRES_URL } from './support/stores.js';

// Each test starts several Node processes (seed, deploy, serve, contact ...): on a loaded 2-core
// machine that alone can take most of the default 20 s.
vi.setConfig({ testTimeout: 60_000 });

const SKILL = 2001;
const ANA = 1001;
const MANY = 3_000;

/** The base world with ana Available; optionally a script on the callbacks skill and callbacks. */
function worldFile(options: { script?: string; callbacks?: unknown[] } = {}): string {
  const base = withAgents(baseWorld(), { [ANA]: { state: 'Available' } });
  const world = {
    ...base,
    skills: base.skills.map((s) => (s.id === SKILL && options.script ? { ...s, script: options.script } : s)),
    ...(options.callbacks ? { callbacks: options.callbacks } : {}),
  };
  return tempFiles({ 'world.json': world })['world.json'] as string;
}

const callbackAt = (dueAt: number, i: number) => ({
  firstName: 'Erika',
  lastName: `Mustermann ${i}`,
  phoneNumber: `+49309018${String(i).padStart(3, '0')}`,
  skillId: SKILL,
  scheduleDate: new Date(dueAt).toISOString(),
});

/** BEGIN → STOP; ONSIGNAL → END; ONRELEASE → ASSIGN → END. */
const parkingScript = {
  name: 'outbound',
  mediaType: 'Phone',
  actions: [
    { id: '1', action: 'BEGIN', branches: { Default: '2' } },
    { id: '2', action: 'STOP' },
    { id: '10', action: 'ONSIGNAL', branches: { Default: '11' } },
    { id: '11', action: 'END' },
    { id: '20', action: 'ONRELEASE', branches: { Default: '21' } },
    {
      id: '21',
      action: 'ASSIGN',
      properties: { Variable: 'Released', Value: 'yes' },
      branches: { Default: '22' },
    },
    { id: '22', action: 'END' },
  ],
};

async function seed(db: TestDatabase, world: string) {
  const r = await cli(['seed', '--world', world, '--db', db.url]);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
}

const oneLine = (text: string) => text.endsWith('\n') && text.trim().split('\n').length === 1;

async function expectClean(store: Store, total: number) {
  const report = await dispatchReport(store);
  expect(report).toMatchObject({
    callbacks: total,
    contacts: total,
    duplicated: [],
    lost: [],
    mismatched: [],
    audited: total,
    auditedTwice: [],
  });
  expect(report.states.Scheduled ?? 0).toBe(0);
  return report;
}

/** Sum of `count` in the `dispatched due callbacks` debug lines of one process. */
const dispatchedBy = (serve: ServeProcess) =>
  serve.logs.filter((l) => l.msg === 'dispatched due callbacks').reduce((n, l) => n + Number(l.count), 0);

async function stopGracefully(serve: ServeProcess) {
  serve.kill('SIGTERM');
  const exit = await Promise.race([
    serve.exited,
    new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000)),
  ]);
  expect(exit).toEqual({ code: 0, signal: null });
}

afterEach(async () => {
  await killLeftovers();
});

describeEachStore('switchboard serve (real processes)', (kind) => {
  let db: TestDatabase;

  beforeEach(async () => {
    db = await freshDatabase(kind.name);
  });

  afterEach(async () => {
    await killLeftovers();
    await db.drop();
  });

  it('dispatches seeded callbacks and exits 0 on SIGTERM', async () => {
    const due = Date.now() + 1_500;
    await seed(db, worldFile({ callbacks: [0, 1, 2].map((i) => callbackAt(due + i * 50, i)) }));
    const serve = await startServe(db.url);
    const store = await db.store();
    await waitFor('three callbacks dispatched', async () => (await countDispatched(store)) === 3, {
      timeoutMs: 10_000,
    });
    const report = await expectClean(store, 3);
    // The oldest went to ana (Outbound); the others wait in the queue.
    expect(report.states).toEqual({ Delivered: 1, Queued: 2 });
    const ana = await store.db.selectFrom('agents').select('state').where('id', '=', ANA).executeTakeFirst();
    expect(ana?.state).toBe('Outbound');

    await stopGracefully(serve);
    expect(serve.logs.map((l) => l.msg)).toContain('shutting down: finishing the work in flight');
    expect(serve.logs.some(STOPPED)).toBe(true);
    expect(serve.stderr()).toBe('');
  });

  it('after kill -9 in the middle of dispatching and a restart, every due callback is dispatched exactly once', async () => {
    await seed(db, worldFile());
    const store = await db.store();
    const first = await startServe(db.url);
    // Due over 6 s from a second on (a loaded machine must still be mid-way when the kill lands);
    // killed once a tenth are dispatched.
    await addCallbacks(store, { count: MANY, skillId: SKILL, startInMs: 1_000, spreadMs: 6_000 });
    await waitFor('a tenth dispatched', async () => (await countDispatched(store)) >= MANY / 10, {
      timeoutMs: 15_000,
      intervalMs: 5,
    });
    first.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const atKill = await countDispatched(store);
    expect(atKill).toBeGreaterThan(0);
    expect(atKill).toBeLessThan(MANY);
    // What committed is whole: no callback is Queued without its contact.
    const partial = await dispatchReport(store);
    expect(partial).toMatchObject({
      duplicated: [],
      lost: [],
      mismatched: [],
      contacts: atKill,
      audited: atKill,
    });

    const second = await startServe(db.url);
    await waitFor('every callback dispatched', async () => (await countDispatched(store)) === MANY, {
      timeoutMs: 20_000,
    });
    await expectClean(store, MANY);
    await stopGracefully(second);
  });

  it('migrate creates the schema and is idempotent; seed refuses a database that is not empty', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await cli(['migrate', '--db', db.url]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/schema is up to date/);
    }
    const world = worldFile();
    await seed(db, world);
    const again = await cli(['seed', '--world', world, '--db', db.url]);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/already holds skills or agents/);
    expect(oneLine(again.stderr)).toBe(true);
    const store = await db.store();
    const agents = await store.db.selectFrom('agents').select('id').execute();
    expect(agents).toHaveLength(3);
  });

  it('seed loads a world and its scripts together: a world the platform refuses leaves neither', async () => {
    const files = tempFiles({
      'outbound.json': parkingScript,
      'world.json': {
        ...baseWorld(),
        scripts: ['outbound.json'],
        // Skill 2003 is an Inbound skill: no callback can be scheduled on it.
        callbacks: [callbackAt(Date.now() + 86_400_000, 0)].map((c) => ({ ...c, skillId: 2003 })),
      },
    });
    const r = await cli(['seed', '--world', files['world.json'] as string, '--db', db.url]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/world\.json: callbacks\[0\]: InvalidSkillId/);
    expect(oneLine(r.stderr)).toBe(true);
    const store = await db.store();
    expect(await store.db.selectFrom('scripts').select('name').execute()).toEqual([]);
    expect(await store.db.selectFrom('agents').select('id').execute()).toEqual([]);

    // Corrected, it loads: the audit says the operator seeded it, and which scripts came with it.
    writeFileSync(
      files['world.json'] as string,
      JSON.stringify({ ...baseWorld(), scripts: ['outbound.json'] }),
    );
    const seeded = await cli(['seed', '--world', files['world.json'] as string, '--db', db.url]);
    expect(seeded.stderr).toBe('');
    const audit = await store.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'world.loaded')
      .execute();
    expect(audit.map((e) => [e.actor, e.channel, JSON.parse(e.details).scripts])).toEqual([
      ['cli via seed', 'cli', ['outbound.json']],
    ]);
    const deployed = await store.db
      .selectFrom('audit_log')
      .select('actor')
      .where('action', '=', 'script.created')
      .execute();
    expect(deployed).toEqual([{ actor: 'cli via seed' }]);
  });

  it('deploy refuses an invalid script with the reason; contact end/signal of an unknown contact fail in one line', async () => {
    const files = tempFiles({
      'bad.json': { name: 'bad', actions: [{ id: '1', action: 'BEGIN', branches: { Default: '7' } }] },
      'good.json': parkingScript,
    });
    const bad = await cli(['deploy', files['bad.json'] as string, '--db', db.url]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/bad\.json: .*7/);
    expect(oneLine(bad.stderr)).toBe(true);
    expect(noStackTrace(bad.stderr)).toBe(true);
    const good = await cli(['deploy', files['good.json'] as string, '--db', db.url]);
    expect(good.stderr).toBe('');
    expect(good.status).toBe(0);
    expect(good.stdout).toMatch(/deployed script 'outbound'/);

    const unknown = [
      ['contact', 'end', '987654'],
      ['contact', 'end', 'abc'],
      ['contact', 'signal', '987654', 'x'],
    ];
    const results = await Promise.all(unknown.map((args) => cli([...args, '--db', db.url])));
    for (const [i, r] of results.entries()) {
      expect(r.status, unknown[i]?.join(' ')).toBe(1);
      expect(oneLine(r.stderr), r.stderr).toBe(true);
      expect(noStackTrace(r.stderr)).toBe(true);
      expect(r.stderr).toMatch(/987654|abc/);
    }
  });

  it('contact end and contact signal from another process reach the running server', async () => {
    const due = Date.now() + 1_500;
    const files = tempFiles({ 'script.json': parkingScript });
    await seed(
      db,
      worldFile({ script: 'outbound', callbacks: [0, 1, 2].map((i) => callbackAt(due + i * 50, i)) }),
    );
    const deployed = await cli(['deploy', files['script.json'] as string, '--db', db.url]);
    expect(deployed.status).toBe(0);
    const serve = await startServe(db.url);
    const store = await db.store();
    const contactsByCallback = async () =>
      store.db
        .selectFrom('contacts')
        .select(['id', 'state', 'agent_id', 'callback_id', 'disconnect_reason'])
        .where('callback_id', 'is not', null)
        .orderBy('callback_id')
        .execute();
    const runOf = (contactId: number) =>
      store.db.selectFrom('script_runs').selectAll().where('contact_id', '=', contactId).executeTakeFirst();
    const callbackState = async (id: number) =>
      (
        await store.db
          .selectFrom('scheduled_callbacks')
          .select('state')
          .where('id', '=', id)
          .executeTakeFirst()
      )?.state;
    const agentState = async () =>
      (await store.db.selectFrom('agents').select('state').where('id', '=', ANA).executeTakeFirst())?.state;

    const [delivered, queued1, queued2] = await waitFor(
      'the first delivered and parked, two queued',
      async () => {
        const cs = await contactsByCallback();
        if (cs.length !== 3 || cs[0]?.state !== 'Active') return undefined;
        return (await runOf(Number(cs[0].id)))?.status === 'stopped' ? cs : undefined;
      },
      { timeoutMs: 10_000 },
    );
    if (!delivered || !queued1 || !queued2) throw new Error('unreachable');
    expect(Number(delivered.agent_id)).toBe(ANA);
    expect([queued1.state, queued2.state]).toEqual(['Queued', 'Queued']);

    // Ending a queued contact: it leaves the queue and its callback is complete; ana stays on her call.
    const endQueued = await cli(['contact', 'end', String(queued2.id), '--db', db.url]);
    expect(endQueued.stderr).toBe('');
    expect(endQueued.stdout).toBe(`contact ${queued2.id} ended (EndedByOperator)\n`);
    const entries = await store.db.selectFrom('queue_entries').select('contact_id').execute();
    expect(entries.map((e) => Number(e.contact_id))).not.toContain(Number(queued2.id));
    expect(entries.map((e) => Number(e.contact_id))).toContain(Number(queued1.id));
    expect(await callbackState(Number(queued2.callback_id))).toBe('Completed');
    expect(await agentState()).toBe('Outbound');

    // A signal from another process: the server resumes the parked script (ONSIGNAL → END), ana is
    // free, the next queued callback goes to her and the server runs its script in turn.
    const signaled = await cli(['contact', 'signal', String(delivered.id), 'go', '--db', db.url]);
    expect(signaled.stderr).toBe('');
    expect(signaled.status).toBe(0);
    await waitFor(
      'the signaled script ended its contact',
      async () => (await runOf(Number(delivered.id))) === undefined,
      { timeoutMs: 3_000, intervalMs: 20 },
    );
    const after = await contactsByCallback();
    expect(after[0]).toMatchObject({ state: 'Ended', disconnect_reason: 'ScriptEnded' });
    expect(await callbackState(Number(delivered.callback_id))).toBe('Completed');
    await waitFor(
      'the next callback delivered and its script parked',
      async () => (await runOf(Number(queued1.id)))?.status === 'stopped',
      { timeoutMs: 3_000, intervalMs: 20 },
    );
    const next = (await contactsByCallback())[1];
    expect(next).toMatchObject({ state: 'Active' });
    expect(Number(next?.agent_id)).toBe(ANA);
    expect(await agentState()).toBe('Outbound');

    // Ending that contact from another process: the server runs its ONRELEASE and drops the run.
    const endActive = await cli(['contact', 'end', String(queued1.id), '--db', db.url]);
    expect(endActive.status).toBe(0);
    await waitFor('the released run finished', async () => (await runOf(Number(queued1.id))) === undefined, {
      timeoutMs: 3_000,
      intervalMs: 20,
    });
    expect(await agentState()).toBe('Available');
    expect(await callbackState(Number(queued1.callback_id))).toBe('Completed');

    const ended = await cli(['contact', 'signal', String(queued1.id), '--db', db.url]);
    expect(ended.status).toBe(1);
    expect(ended.stderr).toMatch(/has already ended/);
    expect(oneLine(ended.stderr)).toBe(true);
    await stopGracefully(serve);
    expect(serve.logs.filter((l) => l.level >= 50)).toEqual([]);
  });
});

describePostgres('switchboard serve: several processes on one PostgreSQL', () => {
  let db: TestDatabase & { name: string };

  beforeEach(async () => {
    db = await freshPostgres();
  });

  afterEach(async () => {
    await killLeftovers();
    await db.drop();
  });

  it('two processes share the work: every callback once, none lost', async () => {
    await seed(db, worldFile());
    const store = await db.store();
    const [a, b] = await Promise.all([
      startServe(db.url, { logLevel: 'debug' }),
      startServe(db.url, { logLevel: 'debug' }),
    ]);
    await addCallbacks(store, { count: MANY, skillId: SKILL, startInMs: 500, spreadMs: 1_500 });
    await waitFor('every callback dispatched', async () => (await countDispatched(store)) === MANY, {
      timeoutMs: 20_000,
    });
    await expectClean(store, MANY);
    // Each process counts what it committed: together exactly the callbacks, none twice.
    await waitFor('both logged their last batch', () => dispatchedBy(a) + dispatchedBy(b) === MANY, {
      timeoutMs: 2_000,
    });
    // Both took part: the callbacks fall due over a second, and each process claims what the other has not locked.
    expect(dispatchedBy(a)).toBeGreaterThan(0);
    expect(dispatchedBy(b)).toBeGreaterThan(0);
    expect(a.child.exitCode).toBeNull();
    expect(b.child.exitCode).toBeNull();
    await Promise.all([stopGracefully(a), stopGracefully(b)]);
  });

  it('one of two processes killed mid-way: the other dispatches everything, none twice', async () => {
    await seed(db, worldFile());
    const store = await db.store();
    const [a, b] = await Promise.all([
      startServe(db.url, { logLevel: 'debug' }),
      startServe(db.url, { logLevel: 'debug' }),
    ]);
    // A window wide enough that a loaded machine is still mid-way when the kill lands.
    await addCallbacks(store, { count: MANY, skillId: SKILL, startInMs: 1_000, spreadMs: 6_000 });
    await waitFor('a tenth dispatched', async () => (await countDispatched(store)) >= MANY / 10, {
      timeoutMs: 15_000,
      intervalMs: 5,
    });
    // Kill the busier one: it is the likelier to be inside a dispatch transaction.
    const [victim, survivor] = dispatchedBy(a) >= dispatchedBy(b) ? [a, b] : [b, a];
    victim.kill('SIGKILL');
    await victim.exited;
    expect(await countDispatched(store)).toBeLessThan(MANY);
    await waitFor('the survivor dispatched everything', async () => (await countDispatched(store)) === MANY, {
      timeoutMs: 20_000,
    });
    await expectClean(store, MANY);
    expect(survivor.child.exitCode).toBeNull();
    await stopGracefully(survivor);
  });

  it('connections terminated while running (mid-dispatch too): it logs, reconnects, loses nothing', async () => {
    await seed(db, worldFile());
    const store = await db.store();
    const serve = await startServe(db.url);
    await addCallbacks(store, { count: 1_000, skillId: SKILL, startInMs: 500, spreadMs: 2_500 });
    await waitFor('some dispatched', async () => (await countDispatched(store)) >= 100, {
      timeoutMs: 15_000,
      intervalMs: 10,
    });
    // Every connection of the server dies, a few times while it dispatches: idle ones, the
    // listener, and ones inside a dispatch transaction.
    let terminated = 0;
    for (let i = 0; i < 3; i++) {
      terminated += await terminateBackends(db.name);
      await new Promise((r) => setTimeout(r, 150));
    }
    expect(terminated).toBeGreaterThan(0);
    expect(await countDispatched(store)).toBeLessThan(1_000);
    await serve.waitForLog('lost the notification connection; reconnecting', 5_000);
    await serve.waitForLog('notification connection back', 10_000);
    await waitFor('every callback dispatched', async () => (await countDispatched(store)) === 1_000, {
      timeoutMs: 15_000,
    });
    await expectClean(store, 1_000);
    expect(serve.child.exitCode).toBeNull();
    expect(serve.stderr()).toBe('');
    await stopGracefully(serve);
  });

  it('database unreachable while running: retries with back-off, loses nothing, recovers', async () => {
    const target = new URL(POSTGRES_URL);
    const proxy = await openProxy({ host: target.hostname, port: Number(target.port || 5432) });
    try {
      await seed(db, worldFile());
      const store = await db.store();
      const serve = await startServe(postgresUrl(db.name, proxy.port));
      await addCallbacks(store, { count: 1_000, skillId: SKILL, startInMs: 500, spreadMs: 2_500 });
      await waitFor('some dispatched', async () => (await countDispatched(store)) >= 100, {
        timeoutMs: 15_000,
        intervalMs: 10,
      });
      await proxy.cut();
      const failed = await serve.waitForLog('scheduler iteration failed; retrying', 5_000);
      const atCut = await countDispatched(store);
      expect(atCut).toBeLessThan(1_000);
      // Back-off: the retries grow while the database stays away.
      const retries = await waitFor(
        'a second, longer retry',
        () => {
          const r = serve.logs.filter((l) => l.msg === 'scheduler iteration failed; retrying');
          return r.length >= 3 ? r : undefined;
        },
        { timeoutMs: 5_000 },
      );
      expect(Number(retries[2]?.retryInMs)).toBeGreaterThan(Number(retries[0]?.retryInMs));
      expect(failed.err).toBeDefined();
      // Nothing is dispatched while it is away: nothing can commit.
      expect(await countDispatched(store)).toBe(atCut);
      await proxy.restore();
      await serve.waitForLog('scheduler recovered: the database answers again', 15_000);
      await waitFor('every callback dispatched', async () => (await countDispatched(store)) === 1_000, {
        timeoutMs: 15_000,
      });
      await expectClean(store, 1_000);
      expect(serve.child.exitCode).toBeNull();
      await stopGracefully(serve);
    } finally {
      await proxy.close();
    }
  });
});

describe('switchboard serve: a database it cannot use', () => {
  it('exits non-zero at once with one line naming the database when PostgreSQL is unreachable', async () => {
    const started = Date.now();
    const r = await cli(['serve', '--db', 'postgres://postgres:secret@127.0.0.1:1/x'], 15_000);
    expect(r.status).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(oneLine(r.stderr), r.stderr).toBe(true);
    expect(r.stderr).toMatch(
      /^switchboard serve: cannot open PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/x: /,
    );
    expect(r.stderr).not.toMatch(/secret/);
    expect(noStackTrace(r.stderr)).toBe(true);
    expect(r.stdout).toBe('');
  });

  it('refuses a --db that is neither a path nor a postgres:// URL with exit 2 and a clear message', async () => {
    const cases: Array<[string[], RegExp]> = [
      [
        ['serve', '--db', 'mysql://x'],
        /^switchboard serve: 'mysql:\/\/x' is neither a file path nor a postgres:\/\/ URL$/,
      ],
      [['serve', '--db', ''], /^switchboard serve: the database is empty/],
      [
        ['serve', '--db', 'postgres://[bad'],
        /^switchboard serve: 'postgres:\/\/\[bad' is not a valid postgres:\/\/ URL$/,
      ],
      // The other database commands share the check.
      [['migrate', '--db', 'mysql://x'], /neither a file path nor a postgres:\/\/ URL/],
      [['contact', 'end', '1', '--db', 'mysql://x'], /neither a file path nor a postgres:\/\/ URL/],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args)));
    for (const [i, r] of results.entries()) {
      const [args, message] = cases[i] ?? [[], /$^/];
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim()).toMatch(message);
      expect(oneLine(r.stderr), r.stderr).toBe(true);
      expect(noStackTrace(r.stderr)).toBe(true);
    }
  });
});
