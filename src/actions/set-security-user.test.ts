import { afterEach, describe, expect, it } from 'vitest';
import { baseWorld, branches, chain, NOW, runActions } from '../../test/support/simulate.js';
import { describeEachStore, type StoreKind } from '../../test/support/stores.js';
import { createSimulatedClock } from '../clock.js';
import type { Actor, OperationContext } from '../platform/model.js';
import { compileScript } from '../runtime/compile.js';
import type { ScriptAction } from '../script/types.js';
import { createSimulation, type SimulationReport, simulate, type TraceStep } from '../simulator/simulate.js';
import { openSqliteStore } from '../storage/sqlite/open-sqlite.js';
import type { Store } from '../storage/store.js';
import { actions } from './registry.js';

const securityUser = (
  properties: Record<string, string>,
  wired: Record<string, string> = { Default: 'end', OnError: 'end' },
): ScriptAction => ({ id: 'su', action: 'SETSECURITYUSER', properties, branches: wired });

const kill = (securityUserVar = 'SecurityUser'): ScriptAction => ({
  id: 'kill',
  action: 'KILLCONTACT',
  properties: { SecurityUser: securityUserVar, ContactID: '5001' },
  branches: { Default: 'end' },
});

/** What the action itself decided: its own result, whether wired or followed through Default. */
const resultOf = (report: SimulationReport, id = 'su') => {
  const step = report.trace.find((t) => t.id === id);
  return step?.outcome ?? step?.branch;
};

describe('SETSECURITYUSER', () => {
  it.each([
    ['ID', '1001'],
    ['username', 'ana'],
  ])('authenticates an active agent by %s and stores an opaque handle in SecurityUser', async (_how, ref) => {
    const report = await runActions(chain(securityUser({ Agent: ref }, { Default: 'kill' }), kill()));
    expect(branches(report)).toEqual(['begin:Default', 'su:Default', 'kill:Default (OnSuccess)', 'end']);
    const handle = String(report.variables.SecurityUser);
    expect(handle).toMatch(/^su2\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(report.trace[1]?.set).toEqual({ SecurityUser: handle });
    expect(report.world.audit.find((a) => a.action === 'contact.ended')?.actor).toBe(
      'agent:1001 (ana) via test',
    );
  });

  it('stores the handle in a custom ScriptVar, which the API actions then name', async () => {
    const report = await runActions(
      chain(securityUser({ Agent: 'ana', ScriptVar: 'Boss' }, { Default: 'kill' }), kill('Boss')),
    );
    expect(report.variables.Boss).toMatch(/^su2\./);
    expect(report.variables.SecurityUser).toBeUndefined();
    expect(resultOf(report, 'kill')).toBe('OnSuccess');
  });

  it('accepts ScriptVar written as {Boss}', async () => {
    const report = await runActions(chain(securityUser({ Agent: 'ana', ScriptVar: '{Boss}' })));
    expect(report.variables.Boss).toMatch(/^su2\./);
  });

  it('takes the Agent from a variable', async () => {
    const report = await runActions(chain(securityUser({ Agent: '{Supervisor}' })), {
      variables: { Supervisor: '1001' },
    });
    expect(resultOf(report)).toBe('Default');
  });

  it.each([
    ['an unknown username', 'zed', "no agent with username 'zed'"],
    ['an unknown ID', '9999', "no agent with ID '9999'"],
    ['an inactive agent by username', 'cid', 'agent 1003 (cid) is not active'],
    ['an inactive agent by ID', '1003', 'agent 1003 (cid) is not active'],
    ['an empty Agent', '', 'Agent is empty; give an agent ID or username'],
  ])('takes OnError for %s, sets _ERR and stores no handle', async (_what, ref, reason) => {
    const report = await runActions(chain(securityUser({ Agent: ref })));
    expect(resultOf(report)).toBe('OnError');
    expect(report.variables._ERR).toBe(reason);
    expect(report.variables.SecurityUser).toBeUndefined();
  });

  it('takes OnError for a TimeZone that is not an IANA zone', async () => {
    const report = await runActions(chain(securityUser({ Agent: 'ana', TimeZone: 'Mars/Olympus' })));
    expect(resultOf(report)).toBe('OnError');
    expect(report.variables._ERR).toBe(
      "TimeZone 'Mars/Olympus' is not an IANA time zone (e.g. Europe/Berlin)",
    );
  });

  it('takes Default when OnError is not wired; the API action that follows then fails on the missing user', async () => {
    const report = await runActions(
      chain(securityUser({ Agent: 'zed' }, { Default: 'kill' }), {
        ...kill(),
        branches: { OnInvalidSecurityUser: 'end', Default: 'end' },
      }),
    );
    expect(branches(report)).toEqual([
      'begin:Default',
      'su:Default (OnError)',
      'kill:OnInvalidSecurityUser',
      'end',
    ]);
  });
});

describe('SETSECURITYUSER within the deployer of the script (switchboard run --deployed-by)', () => {
  it('assumes an agent whose permissions the deployer holds, and one with exactly the same', async () => {
    // ana (Supervisor: contacts:end, callbacks:write, contacts:read) deployed it; ben holds contacts:read.
    const ben = await runActions(chain(securityUser({ Agent: 'ben' })), { deployedBy: 'ana' });
    expect(resultOf(ben)).toBe('Default');
    expect(String(ben.variables.SecurityUser)).toMatch(/^su2\./);
    const ana = await runActions(chain(securityUser({ Agent: 'ana' }, { Default: 'kill' }), kill()), {
      deployedBy: '1001',
    });
    expect(resultOf(ana, 'kill')).toBe('OnSuccess');
  });

  it('refuses an agent holding a permission the deployer lacks: OnError naming them, no handle', async () => {
    const report = await runActions(
      chain(securityUser({ Agent: 'ana' }, { Default: 'kill', OnError: 'end' }), kill()),
      {
        deployedBy: 'ben',
      },
    );
    expect(branches(report)).toEqual(['begin:Default', 'su:OnError', 'end']);
    expect(report.variables._ERR).toBe(
      "agent 1001 (ana) holds permissions the deployer of script 'test' (agent:1002 (ben)) lacks: contacts:end, callbacks:write",
    );
    expect(report.variables.SecurityUser).toBeUndefined();
    expect(report.world.contacts.find((c) => c.id === 5001)?.state).toBe('Queued');
    expect(report.world.audit.filter((a) => a.action === 'security-user.issued')).toEqual([]);
  });

  it('checks nothing without --deployed-by, as before (the simulator has no deployer)', async () => {
    const report = await runActions(chain(securityUser({ Agent: 'ana' })));
    expect(resultOf(report)).toBe('Default');
    expect(report.world.audit.find((a) => a.action === 'security-user.issued')?.details).toMatchObject({
      script: 'test',
      deployedBy: null,
    });
  });

  it('refuses a deployer the world does not have', async () => {
    const store = await openSqliteStore(':memory:');
    try {
      const script = compileScript({ name: 'test', mediaType: 'Generic', actions: chain() }, actions);
      const report = await simulate({ script, actions, store, world: baseWorld(), deployedBy: 'zed' });
      expect(report).toMatchObject({
        ok: false,
        code: 'InvalidDeployer',
        message: "--deployed-by: no agent with username 'zed' in the world",
      });
    } finally {
      await store.close();
    }
  });
});

/** baseWorld, plus an administrator, a script developer and someone who may only start contacts. */
function deployersWorld() {
  const world = baseWorld();
  return {
    ...world,
    securityProfiles: [
      ...world.securityProfiles,
      { name: 'Admin', permissions: ['admin'] },
      {
        name: 'Developer',
        permissions: ['scripts:write', 'contacts:write', 'contacts:read', 'contacts:end'],
      },
      { name: 'Starter', permissions: ['contacts:write'] },
    ],
    agents: [
      ...world.agents,
      { id: 1000, username: 'root', state: 'Unavailable', skills: [], securityProfile: 'Admin' },
      { id: 1004, username: 'dev', state: 'Unavailable', skills: [], securityProfile: 'Developer' },
      { id: 1005, username: 'eve', state: 'Unavailable', skills: [], securityProfile: 'Starter' },
    ],
  };
}

/** The attack of issue 8: assume `{Assume}`, then end contact `{Target}`. */
const ASSUME_AND_END = JSON.stringify({
  name: 'assume-and-end',
  mediaType: 'Generic',
  actions: [
    { id: '1', action: 'BEGIN', branches: { Default: 'su' } },
    {
      id: 'su',
      action: 'SETSECURITYUSER',
      properties: { Agent: '{Assume}' },
      branches: { Default: 'kill', OnError: 'end' },
    },
    {
      id: 'kill',
      action: 'KILLCONTACT',
      properties: { ContactID: '{Target}' },
      branches: { Default: 'end' },
    },
    { id: 'end', action: 'END' },
  ],
});

/**
 * The server's way: a script deployed through the platform by someone, a contact started in it
 * by someone else (a script_runs row), run by the same tick and run worker the server runs, with
 * scripts acting within their deployer's permissions.
 */
async function onServer(kind: StoreKind) {
  const store: Store = await kind.open();
  const clock = createSimulatedClock(Date.parse(NOW));
  const simulation = createSimulation({ store, clock, actions, actWithinDeployer: true });
  const { platform } = simulation;
  const loaded = await platform.loadWorld(deployersWorld());
  if (!loaded.ok) throw new Error(loaded.message);
  simulation.trace();
  const CLI: OperationContext = { channel: 'cli' };
  /** An agent as its bearer token makes it an actor over the API. */
  const actor = async (agentId: number): Promise<Actor> => {
    const token = await platform.createToken(agentId, 'test', CLI);
    if (!token.ok) throw new Error(token.message);
    const found = await platform.authenticate(token.value.token);
    if (!found.ok) throw new Error(found.message);
    return found.value;
  };
  return {
    store,
    platform,
    actor,
    async deploy(by: OperationContext) {
      const deployed = await platform.deployScript(ASSUME_AND_END, actions, by);
      if (!deployed.ok) throw new Error(deployed.message);
    },
    /** Starts a contact in the script as `by`, runs it; its steps and its run's ID. */
    async start(by: OperationContext, variables: Record<string, string>, startedBy?: unknown) {
      const started = await platform.createContact(
        { mediaType: 'Generic', script: 'assume-and-end', variables },
        by,
      );
      if (!started.ok) throw new Error(started.message);
      const contactId = started.value.id;
      const run = await store.db
        .selectFrom('script_runs')
        .select('run_id')
        .where('contact_id', '=', contactId)
        .executeTakeFirstOrThrow();
      // Filled at contact start by the code that starts runs; written here as it would be.
      if (startedBy !== undefined) {
        await store.db
          .updateTable('script_runs')
          .set({ started_by: JSON.stringify(startedBy) })
          .where('contact_id', '=', contactId)
          .execute();
      }
      await simulation.advanceTo(clock.now());
      const steps = simulation.steps
        .map((s) => s.step())
        .filter((t: TraceStep) => t.contactId === contactId && t.id !== undefined);
      return { contactId, runId: run.run_id, steps, su: steps.find((t) => t.id === 'su') };
    },
    contact5001: async () => {
      const row = await store.db
        .selectFrom('contacts')
        .select('state')
        .where('id', '=', 5001)
        .executeTakeFirst();
      return row?.state;
    },
    audit: async () => (await platform.snapshot()).audit,
    close: () => store.close(),
  };
}

describeEachStore('SETSECURITYUSER on the server: within the deployer of the running script', (kind) => {
  let server: Awaited<ReturnType<typeof onServer>> | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('refuses the attack: a scripts:write deployer assuming an admin, started by a contacts:write token', async () => {
    server = await onServer(kind);
    await server.deploy({ channel: 'api', actor: await server.actor(1004) });
    const run = await server.start(
      { channel: 'api', actor: await server.actor(1005) },
      {
        Assume: 'root',
        Target: '5001',
      },
    );
    expect(run.su).toMatchObject({
      branch: 'OnError',
      set: {
        _ERR: "agent 1000 (root) holds permissions the deployer of script 'assume-and-end' (agent:1004 (dev)) lacks: admin",
      },
    });
    expect(run.steps.map((t) => t.id)).toEqual(['1', 'su', 'end']);
    expect(await server.contact5001()).toBe('Queued');
    expect((await server.audit()).filter((a) => a.action === 'security-user.issued')).toEqual([]);
  });

  it('lets a deployer without admin assume an agent within its permissions, and no other', async () => {
    server = await onServer(kind);
    await server.deploy({ channel: 'api', actor: await server.actor(1004) });
    const starter = { channel: 'api', actor: await server.actor(1005) } as const;
    // ana holds callbacks:write, which dev lacks; ben holds only contacts:read.
    const ana = await server.start(starter, { Assume: 'ana', Target: '5001' });
    expect(ana.su?.set?._ERR).toBe(
      "agent 1001 (ana) holds permissions the deployer of script 'assume-and-end' (agent:1004 (dev)) lacks: callbacks:write",
    );
    const ben = await server.start(starter, { Assume: 'ben', Target: '5001' });
    expect(ben.su?.branch).toBe('Default');
    // ben may not end contacts: the script acts as ben, not as its deployer.
    expect(ben.steps.find((t) => t.id === 'kill')?.outcome).toBe('OnUnauthorized');
    expect(await server.contact5001()).toBe('Queued');
  });

  it('lets a script deployed from the CLI assume an admin (the operator counts as admin)', async () => {
    server = await onServer(kind);
    await server.deploy({ channel: 'cli' });
    const run = await server.start({ channel: 'cli' }, { Assume: 'root', Target: '5001' });
    expect(run.su?.branch).toBe('Default');
    expect(await server.contact5001()).toBe('Ended');
  });

  it('lets a script deployed by an admin agent assume an admin', async () => {
    server = await onServer(kind);
    await server.deploy({ channel: 'api', actor: await server.actor(1000) });
    const run = await server.start({ channel: 'cli' }, { Assume: '1000', Target: '5001' });
    expect(run.su?.branch).toBe('Default');
    expect(await server.contact5001()).toBe('Ended');
  });

  it('audits the issue with the script, contact, run and who deployed and who started it', async () => {
    server = await onServer(kind);
    await server.deploy({ channel: 'api', actor: await server.actor(1000) });
    const startedBy = { actor: 'agent:1005 (eve)', channel: 'api' };
    const run = await server.start(
      { channel: 'api', actor: await server.actor(1005) },
      {
        Assume: 'ben',
        Target: '5999',
      },
      startedBy,
    );
    const issued = (await server.audit()).filter((a) => a.action === 'security-user.issued');
    expect(issued).toEqual([
      expect.objectContaining({
        actor: 'script via assume-and-end',
        channel: 'script',
        targetType: 'agent',
        targetId: '1002',
        details: {
          script: 'assume-and-end',
          contactId: run.contactId,
          runId: run.runId,
          timeZone: 'Europe/Berlin',
          keyId: '1',
          deployedBy: 'agent:1000 (root)',
          startedBy,
        },
      }),
    ]);
  });

  it("tolerates a run whose starter is not recorded ('{}')", async () => {
    server = await onServer(kind);
    await server.deploy({ channel: 'cli' });
    await server.start({ channel: 'cli' }, { Assume: 'ben', Target: '5999' });
    const issued = (await server.audit()).find((a) => a.action === 'security-user.issued');
    expect(issued?.details).toMatchObject({ deployedBy: 'cli', startedBy: {} });
  });
});
