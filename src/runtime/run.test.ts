import { describe, expect, it } from 'vitest';
import { baseWorld, branches, chain, NOW, runActions, steps } from '../../test/support/simulate.js';
import { actions } from '../actions/registry.js';
import { createSimulatedClock } from '../clock.js';
import { createPlatform } from '../platform/platform.js';
import { MAX_TEXT_LENGTH } from '../script/expression.js';
import type { ScriptAction } from '../script/types.js';
import { openSqliteStore } from '../storage/sqlite/open-sqlite.js';
import type { RunBudgets } from './budget.js';
import { compileScript } from './compile.js';
import { type RunOptions, type RunOutcome, ScriptRun } from './run.js';

const END = { id: 'end', action: 'END' };

describe('running a script', () => {
  it('follows branches from BEGIN to END and ends its contact with ScriptEnded', async () => {
    const report = await runActions(
      chain({
        id: 'a',
        action: 'ASSIGN',
        properties: { Variable: 'x', Value: 'hi' },
        branches: { Default: 'end' },
      }),
    );
    expect(report.outcome).toBe('ended');
    expect(branches(report)).toEqual(['begin:Default', 'a:Default', 'end']);
    expect(report.trace[1]?.set).toEqual({ x: 'hi' });
    const own = report.world.contacts.find((c) => c.id === report.contactId);
    expect(own).toMatchObject({ state: 'Ended', disconnectReason: 'ScriptEnded', mediaType: 'Generic' });
  });

  it("gives the run's contact the next ID and the script's media type", async () => {
    const report = await runActions(chain(), { mediaType: 'Chat' });
    expect(report.contactId).toBe(5003);
    expect(report.variables.ContactID).toBe('5003');
    expect(report.variables.MediaType).toBe('Chat');
  });

  it('substitutes {variables} case-insensitively and {obj.prop} from object values', async () => {
    const report = await runActions(
      chain({
        id: 'a',
        action: 'ASSIGN',
        properties: { Variable: 'greeting', Value: 'Hello {FIRSTNAME} from {order.city}' },
        branches: { Default: 'end' },
      }),
      { variables: { firstName: 'Ana', order: { city: 'Madrid' } } as never },
    );
    expect(report.variables.greeting).toBe('Hello Ana from Madrid');
  });

  it('substitutes an unknown variable as empty and says so in the trace', async () => {
    const report = await runActions(
      chain({
        id: 'a',
        action: 'ASSIGN',
        properties: { Variable: 'x', Value: '[{nope}]' },
        branches: { Default: 'end' },
      }),
    );
    expect(report.variables.x).toBe('[]');
    expect(report.trace[1]?.notes).toEqual(['unknown variable {nope} substituted as empty']);
  });

  it('names p1…p9 after BEGIN Parameters', async () => {
    const report = await runActions(
      [
        {
          id: 'begin',
          action: 'BEGIN',
          properties: { Parameters: 'FirstName, LastName' },
          branches: { Default: 'end' },
        },
        END,
      ],
      { variables: { p1: 'Ana', p2: 'Lopez' } },
    );
    expect(report.variables).toMatchObject({ FirstName: 'Ana', LastName: 'Lopez' });
  });

  it('takes Default when the branch taken is not wired', async () => {
    const report = await runActions(
      chain({
        id: 'if',
        action: 'IF',
        properties: { Expression: '1 = 2' },
        branches: { True: 'end', Default: 'end' },
      }),
    );
    expect(branches(report)).toContain('if:Default (False)');
    expect(report.outcome).toBe('ended');
  });

  it('ends as deadEnd, releasing the contact with ScriptDeadEnd, when neither the branch nor Default is wired', async () => {
    const report = await runActions([
      { id: 'begin', action: 'BEGIN', branches: { Default: 'if' } },
      { id: 'if', action: 'IF', properties: { Expression: 'false' }, branches: { True: 'end' } },
      END,
    ]);
    expect(report.outcome).toBe('deadEnd');
    // The script's last step (the contact's end follows it in the trace, as an event).
    expect(steps(report).at(-1)?.notes?.join()).toMatch(/not wired/);
    expect(report.world.contacts.find((c) => c.id === report.contactId)?.disconnectReason).toBe(
      'ScriptDeadEnd',
    );
  });

  it('STOP parks the run and leaves the contact Active', async () => {
    const report = await runActions([
      { id: 'begin', action: 'BEGIN', branches: { Default: 'stop' } },
      { id: 'stop', action: 'STOP' },
    ]);
    expect(report.outcome).toBe('stopped');
    expect(report.world.contacts.find((c) => c.id === report.contactId)?.state).toBe('Active');
  });

  it('ONSIGNAL resumes a stopped run with the signal parameters as p1…p9', async () => {
    const report = await runActions(
      [
        { id: 'begin', action: 'BEGIN', branches: { Default: 'stop' } },
        { id: 'stop', action: 'STOP' },
        { id: 'sig', action: 'ONSIGNAL', branches: { Default: 'a' } },
        {
          id: 'a',
          action: 'ASSIGN',
          properties: { Variable: 'got', Value: '{p1}/{p2}' },
          branches: { Default: 'end' },
        },
        END,
      ],
      { signals: [{ at: Date.parse('2026-11-23T08:05:00Z'), params: ['yes', '2'] }] },
    );
    expect(report.outcome).toBe('ended');
    expect(report.variables.got).toBe('yes/2');
    expect(report.trace.find((t) => t.id === 'sig')?.at).toBe('2026-11-23T08:05:00.000Z');
  });

  it('END runs the ONRELEASE handler once, after the contact is released', async () => {
    const report = await runActions([
      { id: 'begin', action: 'BEGIN', branches: { Default: 'end' } },
      END,
      { id: 'rel', action: 'ONRELEASE', branches: { Default: 'a' } },
      {
        id: 'a',
        action: 'ASSIGN',
        properties: { Variable: 'cleaned', Value: 'yes' },
        branches: { Default: 'end2' },
      },
      { id: 'end2', action: 'END' },
    ]);
    expect(report.outcome).toBe('ended');
    expect(branches(report)).toEqual(['begin:Default', 'end', 'rel:Default', 'a:Default', 'end2']);
  });

  it('a contact that ends itself with KILLCONTACT keeps running its script, then runs ONRELEASE at STOP', async () => {
    const report = await runActions([
      { id: 'begin', action: 'BEGIN', branches: { Default: 'su' } },
      { id: 'su', action: 'SETSECURITYUSER', properties: { Agent: 'ana' }, branches: { Default: 'kill' } },
      {
        id: 'kill',
        action: 'KILLCONTACT',
        properties: { ContactID: '{ContactID}' },
        branches: { OnSuccess: 'after' },
      },
      {
        id: 'after',
        action: 'ASSIGN',
        properties: { Variable: 'goesOn', Value: 'yes' },
        branches: { Default: 'stop' },
      },
      { id: 'stop', action: 'STOP' },
      { id: 'rel', action: 'ONRELEASE', branches: { Default: 'end' } },
      END,
    ]);
    expect(branches(report)).toEqual([
      'begin:Default',
      'su:Default',
      'kill:OnSuccess',
      'after:Default',
      'stop',
      'rel:Default',
      'end',
    ]);
    expect(report.outcome).toBe('ended');
    const own = report.world.contacts.find((c) => c.id === report.contactId);
    expect(own).toMatchObject({ state: 'Ended', disconnectReason: 'TerminateScript' });
  });

  it('stops an endless loop at the step limit as an error, and releases the contact', async () => {
    const report = await runActions(
      [
        { id: 'begin', action: 'BEGIN', branches: { Default: 'loop' } },
        {
          id: 'loop',
          action: 'ASSIGN',
          properties: { Variable: 'n', Value: '{n}1' },
          branches: { Default: 'loop' },
        },
      ],
      { maxSteps: 50 },
    );
    expect(report.outcome).toBe('error');
    expect(String(report.variables._ERR)).toMatch(/step limit of 50/);
    expect(report.world.contacts.find((c) => c.id === report.contactId)?.disconnectReason).toBe(
      'ScriptError',
    );
  });

  it('runs ONRELEASE after a failed run too', async () => {
    const report = await runActions(
      [
        { id: 'begin', action: 'BEGIN', branches: { Default: 'loop' } },
        {
          id: 'loop',
          action: 'ASSIGN',
          properties: { Variable: 'n', Value: 'x' },
          branches: { Default: 'loop' },
        },
        { id: 'rel', action: 'ONRELEASE', branches: { Default: 'end' } },
        END,
      ],
      { maxSteps: 10 },
    );
    expect(report.outcome).toBe('error');
    expect(branches(report).slice(-2)).toEqual(['rel:Default', 'end']);
  });

  it('a signal replaces all of p1…p9, so parameters of an earlier signal do not linger', async () => {
    const report = await runActions(
      [
        { id: 'begin', action: 'BEGIN', branches: { Default: 'stop' } },
        { id: 'stop', action: 'STOP' },
        { id: 'sig', action: 'ONSIGNAL', branches: { Default: 'a' } },
        {
          id: 'a',
          action: 'ASSIGN',
          properties: { Variable: 'seen', Value: '{seen}[{p1},{p2}]' },
          branches: { Default: 'stop' },
        },
      ],
      { signals: [{ params: ['a', 'b'] }, { params: ['c'] }] },
    );
    expect(report.outcome).toBe('stopped');
    expect(report.variables.seen).toBe('[a,b][c,]');
  });

  it('WAIT advances the simulated clock', async () => {
    const report = await runActions(
      chain({ id: 'w', action: 'WAIT', properties: { Seconds: '90' }, branches: { Default: 'end' } }),
    );
    expect(steps(report).map((t) => t.at)).toEqual([
      '2026-11-23T08:00:00.000Z',
      '2026-11-23T08:00:00.000Z',
      '2026-11-23T08:01:30.000Z',
    ]);
  });
});

describe('the one catch boundary', () => {
  const throwing = (branchesWired: Record<string, string>): ScriptAction[] => [
    { id: 'begin', action: 'BEGIN', branches: { Default: 'su' } },
    // An Agent that makes the platform's query fail is an outage, not a script mistake: simulated by a closed store below.
    { id: 'su', action: 'SETSECURITYUSER', properties: { Agent: 'ana' }, branches: branchesWired },
    END,
    {
      id: 'err',
      action: 'ASSIGN',
      properties: { Variable: 'handled', Value: 'yes' },
      branches: { Default: 'stop' },
    },
    // STOP, not END: ending the contact needs the database this test has taken away.
    { id: 'stop', action: 'STOP' },
  ];

  it('sets _ERR and takes the error branch when an action throws', async () => {
    const { runWithBrokenStore } = await import('../../test/support/broken-store.js');
    const report = await runWithBrokenStore(throwing({ Default: 'end', OnError: 'err' }));
    expect(report.trace[1]).toMatchObject({ id: 'su', branch: 'OnError' });
    expect(String(report.variables._ERR)).toMatch(/database/i);
    expect(report.variables.handled).toBe('yes');
  });

  it('falls back to Default when the error branch is not wired', async () => {
    const { runWithBrokenStore } = await import('../../test/support/broken-store.js');
    const report = await runWithBrokenStore(throwing({ Default: 'err' }));
    expect(report.trace[1]).toMatchObject({ id: 'su', branch: 'Default', outcome: 'OnError' });
    expect(report.trace[2]?.id).toBe('err');
  });
});

describe('listening for its contact’s end', () => {
  it('leaves no listener behind when a run fails (the database down as it ends its contact), retry after retry', async () => {
    const { brokenPlatform } = await import('../../test/support/broken-store.js');
    const { platform, close } = await brokenPlatform();
    let listening = 0;
    const counting = {
      ...platform,
      on(listener: Parameters<typeof platform.on>[0]) {
        listening++;
        const stop = platform.on(listener);
        return () => {
          listening--;
          return stop();
        };
      },
    };
    const script = compileScript({ name: 'ends', actions: chain() }, actions);
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        const run = new ScriptRun(script, { id: 1 }, { platform: counting, wait: async () => 'continue' });
        await expect(run.start()).rejects.toThrow(/database unavailable/);
        expect(listening).toBe(0);
      }
    } finally {
      await close();
    }
  });
});

describe('budgets', () => {
  const LARGE: RunBudgets = {
    runCpuMsPerEvent: 1e9,
    runCpuMsTotal: 1e9,
    runMaxSteps: 1e9,
    runMaxResumes: 1e9,
  };
  /** A fake meter: every look at it finds one more millisecond gone. */
  const ticking = () => {
    let ms = 0;
    return () => ++ms;
  };
  const RELEASE: ScriptAction[] = [
    { id: 'rel', action: 'ONRELEASE', branches: { Default: 'clean' } },
    {
      id: 'clean',
      action: 'ASSIGN',
      properties: { Variable: 'cleaned', Value: 'yes' },
      branches: { Default: 'relEnd' },
    },
    { id: 'relEnd', action: 'END' },
  ];
  const ENDLESS: ScriptAction[] = [
    { id: 'begin', action: 'BEGIN', branches: { Default: 'loop' } },
    {
      id: 'loop',
      action: 'ASSIGN',
      properties: { Variable: 'n', Value: 'x' },
      branches: { Default: 'loop' },
    },
    ...RELEASE,
  ];
  /** Two actions an event, then parked at a WAIT (a server's host parks), forever. */
  const WAITING_LOOP: ScriptAction[] = [
    { id: 'begin', action: 'BEGIN', branches: { Default: 'work' } },
    {
      id: 'work',
      action: 'ASSIGN',
      properties: { Variable: 'n', Value: '{n}x' },
      branches: { Default: 'wait' },
    },
    { id: 'wait', action: 'WAIT', properties: { Seconds: '1' }, branches: { Default: 'work' } },
    ...RELEASE,
  ];

  /** A server-like run: a real platform, a contact of its own, a host that parks at WAIT. */
  async function serverRun(scriptActions: ScriptAction[], waiting: 'park' | 'continue' = 'park') {
    const store = await openSqliteStore(':memory:');
    const clock = createSimulatedClock(Date.parse(NOW));
    const platform = createPlatform({ store, clock });
    const loaded = await platform.loadWorld(baseWorld());
    if (!loaded.ok) throw new Error(loaded.message);
    const contact = await platform.startContact(
      { mediaType: 'Generic', direction: 'Inbound', state: 'Active' },
      { channel: 'cli' },
    );
    const script = compileScript({ name: 'budgets', actions: scriptActions }, actions);
    const host = { platform, wait: async () => waiting };
    const disconnectReason = async () =>
      (await platform.read.contact(contact.id, { channel: 'cli' })).ok
        ? (await platform.snapshot()).contacts.find((c) => c.id === contact.id)?.disconnectReason
        : undefined;
    return {
      start: (options: RunOptions) => new ScriptRun(script, { id: contact.id }, host, options),
      /** As a server process does it: saved at the park, restored by the next claim (maybe elsewhere). */
      reclaim: (run: ScriptRun, options: RunOptions) => {
        clock.advance(1_000);
        return ScriptRun.restore(script, { id: contact.id }, host, run.snapshot(), {
          ...options,
          spent: run.spent,
        });
      },
      disconnectReason,
      close: () => store.close(),
    };
  }

  it('fails an event that computes longer than runCpuMsPerEvent, like the step limit: ScriptError, then ONRELEASE', async () => {
    const server = await serverRun(ENDLESS);
    try {
      const run = server.start({
        budgets: { ...LARGE, runCpuMsPerEvent: 50 },
        maxSteps: 1e9,
        meter: ticking(),
      });
      expect(await run.start()).toBe('error');
      expect(run.variables.toObject()._ERR).toBe(
        'budget exceeded: 50 ms of CPU in one event (runCpuMsPerEvent)',
      );
      expect(run.error).toBe(run.variables.toObject()._ERR);
      expect(run.variables.toObject().cleaned).toBe('yes');
      expect(await server.disconnectReason()).toBe('ScriptError');
    } finally {
      await server.close();
    }
  });

  it('charges the time an action waits for the platform: a loop of failing SETSECURITYUSER spends its budget', async () => {
    const store = await openSqliteStore(':memory:');
    try {
      const platform = createPlatform({ store, clock: createSimulatedClock(Date.parse(NOW)) });
      const loaded = await platform.loadWorld(baseWorld());
      if (!loaded.ok) throw new Error(loaded.message);
      const contact = await platform.startContact(
        { mediaType: 'Generic', state: 'Active' },
        { channel: 'cli' },
      );
      // Every call to the platform takes 10 ms of the meter's time; computing takes none.
      let elapsed = 0;
      const slow = new Proxy(platform, {
        get: (target, key) =>
          key === 'issueSecurityUser'
            ? (...args: Parameters<typeof platform.issueSecurityUser>) => {
                elapsed += 10;
                return target.issueSecurityUser(...args);
              }
            : Reflect.get(target, key),
      });
      const script = compileScript(
        {
          name: 'round-trips',
          actions: [
            { id: 'begin', action: 'BEGIN', branches: { Default: 'su' } },
            {
              id: 'su',
              action: 'SETSECURITYUSER',
              properties: { Agent: 'nobody' },
              branches: { OnError: 'su' },
            },
          ],
        },
        actions,
      );
      const run = new ScriptRun(
        script,
        { id: contact.id },
        { platform: slow, wait: async () => 'park' },
        {
          budgets: { ...LARGE, runCpuMsPerEvent: 50 },
          maxSteps: 1e9,
          meter: () => elapsed,
        },
      );
      expect(await run.start()).toBe('error');
      expect(run.error).toBe('budget exceeded: 50 ms of CPU in one event (runCpuMsPerEvent)');
      // Looked at every 32 steps: stopped within that many calls, not after the step limit's 100,000.
      expect(elapsed).toBeLessThanOrEqual(50 + 32 * 10);
    } finally {
      await store.close();
    }
  });

  it('counts runCpuMsTotal across parks and processes, so that short events add up', async () => {
    const server = await serverRun(WAITING_LOOP);
    try {
      const options = { budgets: { ...LARGE, runCpuMsPerEvent: 40, runCpuMsTotal: 100 }, meter: ticking() };
      let run = server.start(options);
      let outcome = await run.start();
      const events = [run.spent.cpuMs];
      while (outcome === 'waiting' && events.length < 1_000) {
        const before = run.spent;
        run = server.reclaim(run, options);
        expect(run.spent).toEqual(before);
        outcome = (await run.resume()) ?? outcome;
        events.push(run.spent.cpuMs - before.cpuMs);
      }
      expect(outcome).toBe('error');
      expect(run.error).toBe("budget exceeded: 100 ms of CPU over the run's life (runCpuMsTotal)");
      // No one event came near its own budget: only what they spent together did.
      expect(Math.max(...events)).toBeLessThan(40);
      expect(events.length).toBeGreaterThan(3);
      expect(run.variables.toObject().cleaned).toBe('yes');
      expect(await server.disconnectReason()).toBe('ScriptError');
    } finally {
      await server.close();
    }
  });

  it('counts runMaxSteps across parks: the action beyond it is refused', async () => {
    const server = await serverRun(WAITING_LOOP);
    try {
      // BEGIN, ASSIGN, WAIT; then ASSIGN, WAIT at each resume: the ninth action overdraws 8.
      const options = { budgets: { ...LARGE, runMaxSteps: 8 } };
      let run = server.start(options);
      expect(await run.start()).toBe('waiting');
      expect(run.spent.steps).toBe(3);
      for (const stepsAfter of [5, 7]) {
        run = server.reclaim(run, options);
        expect(await run.resume()).toBe('waiting');
        expect(run.spent.steps).toBe(stepsAfter);
      }
      run = server.reclaim(run, options);
      expect(await run.resume()).toBe('error');
      expect(run.error).toBe("budget exceeded: 8 actions over the run's life (runMaxSteps)");
      expect(run.variables.toObject().n).toBe('xxxx');
      // ONRELEASE still ran (three actions of its own), though the run had spent its steps.
      expect(run.variables.toObject().cleaned).toBe('yes');
      expect(run.spent.steps).toBe(11);
      expect(await server.disconnectReason()).toBe('ScriptError');
    } finally {
      await server.close();
    }
  });

  it('counts runMaxResumes across parks, WAITs and signals alike', async () => {
    const server = await serverRun([
      { id: 'begin', action: 'BEGIN', branches: { Default: 'wait' } },
      { id: 'wait', action: 'WAIT', properties: { Seconds: '1' }, branches: { Default: 'stop' } },
      { id: 'stop', action: 'STOP' },
      { id: 'sig', action: 'ONSIGNAL', branches: { Default: 'stop' } },
    ]);
    try {
      const options = { budgets: { ...LARGE, runMaxResumes: 2 } };
      let run = server.start(options);
      expect(await run.start()).toBe('waiting');
      run = server.reclaim(run, options);
      expect(await run.resume()).toBe('stopped');
      run = server.reclaim(run, options);
      expect(await run.signal(['again'])).toBe('stopped');
      expect(run.spent.resumes).toBe(2);
      run = server.reclaim(run, options);
      expect(await run.signal(['once more'])).toBe('error');
      expect(run.error).toBe(
        "budget exceeded: 2 resumes (WAITs and signals) over the run's life (runMaxResumes)",
      );
      expect(await server.disconnectReason()).toBe('ScriptError');
    } finally {
      await server.close();
    }
  });

  it('counts a WAIT the simulator moves its clock past as a resume, and starts a new event there', async () => {
    const server = await serverRun(WAITING_LOOP, 'continue');
    try {
      // Two actions an event: the per-event step limit never trips, the resumes budget does.
      const run = server.start({ budgets: { ...LARGE, runMaxResumes: 50 }, maxSteps: 5 });
      expect(await run.start()).toBe('error');
      expect(run.error).toBe(
        "budget exceeded: 50 resumes (WAITs and signals) over the run's life (runMaxResumes)",
      );
      expect(run.spent).toMatchObject({ resumes: 51, steps: 3 + 50 * 2 + 3 });
    } finally {
      await server.close();
    }
  });

  it('lets the event loop turn again and again while a hostile loop computes', async () => {
    const server = await serverRun(ENDLESS);
    try {
      const run = server.start({
        budgets: { ...LARGE, runCpuMsPerEvent: 500 },
        maxSteps: 1e9,
        meter: ticking(),
      });
      // Work queued behind the loop (a request, a timer, I/O): it gets its turns while the loop runs.
      const seenWhileRunning: Array<RunOutcome | null> = [];
      const other = () => {
        seenWhileRunning.push(run.outcome);
        if (run.outcome === null) setImmediate(other);
      };
      setImmediate(other);
      expect(await run.start()).toBe('error');
      expect(run.error).toMatch(/runCpuMsPerEvent/);
      const turnsWhileRunning = seenWhileRunning.filter((o) => o === null).length;
      expect(turnsWhileRunning).toBeGreaterThan(20);
    } finally {
      await server.close();
    }
  });

  it('refuses a value longer than MAX_TEXT_LENGTH: the action takes its error path with _ERR', async () => {
    const big = 'x'.repeat(MAX_TEXT_LENGTH / 2 + 1);
    const report = await runActions(
      [
        { id: 'begin', action: 'BEGIN', branches: { Default: 'if' } },
        {
          id: 'if',
          action: 'IF',
          properties: { Expression: 'len({big} + {big}) > 0' },
          branches: { True: 'end', False: 'end', Default: 'concat' },
        },
        {
          id: 'concat',
          action: 'ASSIGN',
          properties: { Variable: 'doubled', Value: '{big}{big}' },
          branches: { Default: 'end', Overflow: 'end' },
        },
        END,
      ],
      { variables: { big } },
    );
    expect(branches(report)).toEqual(['begin:Default', 'if:Default', 'concat:Overflow', 'end']);
    expect(steps(report)[1]?.set?._ERR).toMatch(/^text too long: 1000002 characters or more; .*1000000/);
    expect(report.variables._ERR).toMatch(/^value for doubled: text too long: .*1000000/);
    expect(report.variables.doubled).toBeUndefined();
    expect(report.outcome).toBe('ended');
  });
});
