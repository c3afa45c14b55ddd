import { describe, expect, it } from 'vitest';
import { branches, chain, runActions, steps } from '../../test/support/simulate.js';
import { actions } from '../actions/registry.js';
import type { ScriptAction } from '../script/types.js';
import { compileScript } from './compile.js';
import { ScriptRun } from './run.js';

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
