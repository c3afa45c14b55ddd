import { afterEach, describe, expect, it } from 'vitest';
import { type OpenWorld, openWorld, withAgents } from '../../test/support/platform.js';
import { baseWorld, branches, chain, runActions } from '../../test/support/simulate.js';
import type { ScriptAction } from '../script/types.js';
import type { SimulationReport } from '../simulator/simulate.js';

const ALL_WIRED = {
  OnSuccess: 'end',
  OnInvalidContactID: 'end',
  OnUnauthorized: 'end',
  OnInvalidSecurityUser: 'end',
  Default: 'end',
};

const securityUser = (agent = 'ana', next = 'kill'): ScriptAction => ({
  id: 'su',
  action: 'SETSECURITYUSER',
  properties: { Agent: agent },
  branches: { Default: next },
});

const kill = (
  contactId: string,
  wired: Record<string, string> = ALL_WIRED,
  extra: Record<string, string> = {},
  id = 'kill',
): ScriptAction => ({
  id,
  action: 'KILLCONTACT',
  properties: { ContactID: contactId, ...extra },
  branches: wired,
});

const contact = (report: SimulationReport, id: number) => report.world.contacts.find((c) => c.id === id);
const agent = (report: SimulationReport, id: number) => report.world.agents.find((a) => a.id === id);
/** What the action itself decided: its own result, whether wired or followed through Default. */
const resultOf = (report: SimulationReport, id: string) => {
  const step = report.trace.find((t) => t.id === id);
  return step?.outcome ?? step?.branch;
};

/**
 * A security user issued by SETSECURITYUSER in a run with the ID RUN: another runScript with the
 * same ID is, for the handle, the same run (handles are bound to the run they were issued to).
 */
const RUN = 'run-1';
async function issuedIn(open: OpenWorld, agentRef: string): Promise<string> {
  const report = await open.runScript(chain(securityUser(agentRef, 'end')), { runId: RUN });
  const handle = String(report.variables.SecurityUser);
  expect(handle).toMatch(/^su2\./);
  return handle;
}

/** ana (1001, may end contacts) busy on an inbound call, contact 5010. */
function worldWithAnaOnACall(skills = [2001]) {
  const world = withAgents(baseWorld(), { 1001: { state: 'Inbound', skills } });
  world.contacts.push({
    id: 5010,
    mediaType: 'Phone',
    state: 'Active',
    skillId: 2003,
    agentId: 1001,
  } as never);
  return world;
}

describe('KILLCONTACT ends a contact', () => {
  it('ends a queued contact: OnSuccess, state Ended with TerminateScript, __DISCONNECTREASON in the calling script', async () => {
    const report = await runActions(chain(securityUser(), kill('5001')));
    expect(branches(report)).toEqual(['begin:Default', 'su:Default', 'kill:OnSuccess', 'end']);
    expect(report.trace[2]?.set).toEqual({ __DISCONNECTREASON: 'TerminateScript' });
    expect(report.variables.__DISCONNECTREASON).toBe('TerminateScript');
    expect(contact(report, 5001)).toMatchObject({
      state: 'Ended',
      disconnectReason: 'TerminateScript',
      agentId: null,
      endedAt: '2026-11-23T08:00:00.000Z',
    });
  });

  it('records who ended the contact and why in the audit log', async () => {
    const report = await runActions(chain(securityUser(), kill('5001')));
    const entries = report.world.audit.filter((a) => a.action === 'contact.ended' && a.targetId === '5001');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      at: '2026-11-23T08:00:00.000Z',
      actor: 'agent:1001 (ana) via test',
      channel: 'script',
      targetType: 'contact',
      details: { reason: 'TerminateScript', previousState: 'Queued', agentId: null },
    });
  });

  it('takes the contact out of its queue: an agent with its skill who frees up later does not get it', async () => {
    // Ending 5010 makes ana (who has chat skill 2002) Available; routing must not offer her the ended chat 5001.
    const report = await runActions(
      chain(securityUser(), kill('5001', { Default: 'kill2' }), kill('5010', ALL_WIRED, {}, 'kill2')),
      { world: worldWithAnaOnACall([2001, 2002]) },
    );
    expect(branches(report)).toContain('kill2:OnSuccess');
    expect(contact(report, 5001)).toMatchObject({ state: 'Ended', agentId: null });
    expect(agent(report, 1001)?.state).toBe('Available');
    expect(report.world.audit.filter((a) => a.action === 'contact.routed')).toEqual([]);
  });

  it('releases the agent of an active contact to Available', async () => {
    const report = await runActions(chain(securityUser(), kill('5010')), { world: worldWithAnaOnACall() });
    expect(resultOf(report, 'kill')).toBe('OnSuccess');
    expect(contact(report, 5010)).toMatchObject({
      state: 'Ended',
      agentId: 1001,
      disconnectReason: 'TerminateScript',
    });
    expect(agent(report, 1001)).toMatchObject({ state: 'Available', stateSince: '2026-11-23T08:00:00.000Z' });
    const ended = report.world.audit.find((a) => a.action === 'contact.ended' && a.targetId === '5010');
    expect(ended?.details).toEqual({ reason: 'TerminateScript', previousState: 'Active', agentId: 1001 });
  });

  it('offers the released agent the next queued contact for their skill at once', async () => {
    const report = await runActions(chain(securityUser(), kill('5010')), {
      world: worldWithAnaOnACall([2001, 2002]),
    });
    expect(contact(report, 5001)).toMatchObject({ state: 'Active', agentId: 1001 });
    expect(agent(report, 1001)?.state).toBe('Inbound');
  });

  it('completes the callback a delivered callback contact carried, and frees its agent', async () => {
    const world = withAgents(baseWorld(), { 1001: { state: 'Available' } });
    const withCallback = {
      ...world,
      callbacks: [{ phoneNumber: '+4930123456', skillId: 2001, scheduleDate: '2026-11-23T08:00:00Z' }],
    };
    // The callback is due at the world's now: dispatched as contact 5003 and delivered to ana before the script starts.
    const report = await runActions(chain(securityUser(), kill('{Target}')), {
      world: withCallback,
      variables: { Target: '5003' },
    });
    expect(resultOf(report, 'kill')).toBe('OnSuccess');
    expect(contact(report, 5003)).toMatchObject({ state: 'Ended', callbackId: 1, agentId: 1001 });
    expect(report.world.callbacks[0]).toMatchObject({ id: 1, state: 'Completed', contactId: 5003 });
    expect(agent(report, 1001)?.state).toBe('Available');
  });

  it('accepts the alias ENDCONTACT and the trace reports the name as written', async () => {
    const report = await runActions(
      chain(securityUser(), {
        id: 'kill',
        action: 'ENDCONTACT',
        properties: { ContactID: '5001' },
        branches: ALL_WIRED,
      }),
    );
    expect(report.trace[2]).toMatchObject({ id: 'kill', action: 'ENDCONTACT', branch: 'OnSuccess' });
    expect(contact(report, 5001)?.state).toBe('Ended');
  });

  it('accepts the security user written as {SecurityUser}', async () => {
    const report = await runActions(
      chain(securityUser(), kill('5001', ALL_WIRED, { SecurityUser: '{SecurityUser}' })),
    );
    expect(resultOf(report, 'kill')).toBe('OnSuccess');
  });

  it('accepts the security user variable named in any case', async () => {
    const report = await runActions(
      chain(securityUser(), kill('5001', ALL_WIRED, { SecurityUser: 'securityuser' })),
    );
    expect(resultOf(report, 'kill')).toBe('OnSuccess');
  });

  it('goes on with the next action of the calling script after ending another contact', async () => {
    const report = await runActions(
      chain(securityUser(), kill('5001', { OnSuccess: 'after' }), {
        id: 'after',
        action: 'ASSIGN',
        properties: { Variable: 'next', Value: 'ran' },
        branches: { Default: 'end' },
      }),
    );
    expect(report.variables.next).toBe('ran');
    expect(report.outcome).toBe('ended');
    expect(contact(report, report.contactId)?.disconnectReason).toBe('ScriptEnded');
  });
});

describe('KILLCONTACT OnInvalidContactID', () => {
  it.each([
    ['abc', /'abc' is not a contact ID/],
    ['-1', /'-1' is not a contact ID/],
    ['1.5', /'1.5' is not a contact ID/],
    ['', /'' is not a contact ID/],
    ['0', /'0' is not a contact ID/],
    ['9999', /no contact with ID 9999/],
  ])('takes OnInvalidContactID for ContactID %j', async (id, reason) => {
    const report = await runActions(chain(securityUser(), kill(id)));
    expect(resultOf(report, 'kill')).toBe('OnInvalidContactID');
    expect(String(report.variables._ERR)).toMatch(reason);
    expect(report.variables.__DISCONNECTREASON).toBeUndefined();
  });

  it('takes OnInvalidContactID for a contact that has already ended, leaving its first end as it was', async () => {
    const report = await runActions(
      chain(securityUser(), kill('5001', { Default: 'again' }), kill('5001', ALL_WIRED, {}, 'again')),
    );
    expect(resultOf(report, 'kill')).toBe('OnSuccess');
    expect(resultOf(report, 'again')).toBe('OnInvalidContactID');
    expect(report.variables._ERR).toBe('contact 5001 has already ended (TerminateScript)');
    expect(
      report.world.audit.filter((a) => a.action === 'contact.ended' && a.targetId === '5001'),
    ).toHaveLength(1);
  });
});

describe('KILLCONTACT OnUnauthorized', () => {
  it("takes OnUnauthorized when the security user's profile lacks contacts:end, and the contact stays", async () => {
    const report = await runActions(chain(securityUser('ben'), kill('5001')));
    expect(resultOf(report, 'kill')).toBe('OnUnauthorized');
    expect(report.variables._ERR).toBe("agent 1002's security profile lacks contacts:end");
    expect(contact(report, 5001)).toMatchObject({ state: 'Queued', disconnectReason: null });
  });

  it('lets an admin profile end contacts', async () => {
    const world = withAgents(baseWorld(), { 1002: { securityProfile: 'Admin' } });
    world.securityProfiles.push({ name: 'Admin', permissions: ['admin'] });
    const report = await runActions(chain(securityUser('ben'), kill('5001')), { world });
    expect(resultOf(report, 'kill')).toBe('OnSuccess');
  });
});

describe('KILLCONTACT OnInvalidSecurityUser', () => {
  let open: OpenWorld | undefined;
  afterEach(async () => {
    await open?.close();
    open = undefined;
  });

  it('takes OnInvalidSecurityUser when SETSECURITYUSER never ran', async () => {
    const report = await runActions(chain(kill('5001')));
    expect(resultOf(report, 'kill')).toBe('OnInvalidSecurityUser');
    expect(report.variables._ERR).toBe(
      'variable SecurityUser holds no security user; run SETSECURITYUSER first',
    );
    expect(contact(report, 5001)?.state).toBe('Queued');
  });

  it('takes OnInvalidSecurityUser when the variable is empty', async () => {
    const report = await runActions(chain(kill('5001')), { variables: { SecurityUser: '' } });
    expect(resultOf(report, 'kill')).toBe('OnInvalidSecurityUser');
    expect(report.variables._ERR).toMatch(/holds no security user/);
  });

  it('takes OnInvalidSecurityUser for a value that is not a handle (a password, say)', async () => {
    const report = await runActions(chain(kill('5001')), { variables: { SecurityUser: 'hunter2' } });
    expect(resultOf(report, 'kill')).toBe('OnInvalidSecurityUser');
    expect(report.variables._ERR).toBe('the security user is not a value set by SETSECURITYUSER');
  });

  it('takes OnInvalidSecurityUser for a malformed handle', async () => {
    const report = await runActions(chain(kill('5001')), { variables: { SecurityUser: 'su2.nodots' } });
    expect(resultOf(report, 'kill')).toBe('OnInvalidSecurityUser');
    expect(report.variables._ERR).toBe('the security user is malformed');
  });

  it('takes OnInvalidSecurityUser for a handle issued by another store (signed with another secret)', async () => {
    const elsewhere = await runActions(chain(securityUser('ana', 'end')));
    const handle = String(elsewhere.variables.SecurityUser);
    expect(handle).toMatch(/^su2\./);
    // This store issues a handle of its own first: it has a key with the same ID, another secret.
    const report = await runActions(
      chain(securityUser('ben'), kill('5001', ALL_WIRED, { SecurityUser: '{Foreign}' })),
      { variables: { Foreign: handle } },
    );
    expect(resultOf(report, 'kill')).toBe('OnInvalidSecurityUser');
    expect(report.variables._ERR).toMatch(/signature check/);
    expect(contact(report, 5001)?.state).toBe('Queued');
  });

  it('takes OnInvalidSecurityUser for a handle with one character of its signature changed', async () => {
    open = await openWorld();
    const handle = await issuedIn(open, 'ana');
    const last = handle.at(-1) === 'A' ? 'B' : 'A';
    const report = await open.runScript(chain(kill('5001')), {
      runId: RUN,
      variables: { SecurityUser: `${handle.slice(0, -1)}${last}` },
    });
    expect(resultOf(report, 'kill')).toBe('OnInvalidSecurityUser');
    expect(report.variables._ERR).toMatch(/signature check/);
    // The genuine handle works in the same store, for the same run.
    const genuine = await open.runScript(chain(kill('5001')), {
      runId: RUN,
      variables: { SecurityUser: handle },
    });
    expect(resultOf(genuine, 'kill')).toBe('OnSuccess');
  });

  it('takes OnInvalidSecurityUser for a handle whose payload was rewritten to claim another agent', async () => {
    open = await openWorld();
    const [prefix, payload, signature] = (await issuedIn(open, 'ben')).split('.');
    const claims = JSON.parse(Buffer.from(String(payload), 'base64url').toString('utf8')) as { a: number };
    expect(claims.a).toBe(1002);
    const forgedPayload = Buffer.from(
      JSON.stringify({ ...claims, a: 1001, u: 'ana', p: ['callbacks:write', 'contacts:end'] }),
    ).toString('base64url');
    const report = await open.runScript(chain(kill('5001')), {
      runId: RUN,
      variables: { SecurityUser: `${prefix}.${forgedPayload}.${signature}` },
    });
    expect(resultOf(report, 'kill')).toBe('OnInvalidSecurityUser');
    expect(contact(report, 5001)?.state).toBe('Queued');
  });

  it('takes OnInvalidSecurityUser when the agent behind the handle is no longer active', async () => {
    open = await openWorld();
    const handle = await issuedIn(open, 'ana');
    // No platform operation deactivates an agent yet; an administrator would, between issue and use.
    await open.store.db.updateTable('agents').set({ active: 0 }).where('id', '=', 1001).execute();
    const report = await open.runScript(chain(kill('5001')), {
      runId: RUN,
      variables: { SecurityUser: handle },
    });
    expect(resultOf(report, 'kill')).toBe('OnInvalidSecurityUser');
    expect(report.variables._ERR).toBe('agent 1001 behind the security user is no longer active');
  });

  it('takes OnInvalidSecurityUser when {SecurityUser} substitutes something that is not a handle', async () => {
    const report = await runActions(chain(kill('5001', ALL_WIRED, { SecurityUser: '{SecurityUser}' })), {
      variables: { SecurityUser: 'hunter2' },
    });
    expect(resultOf(report, 'kill')).toBe('OnInvalidSecurityUser');
    expect(contact(report, 5001)?.state).toBe('Queued');
  });

  it('checks the security user before the contact ID', async () => {
    const report = await runActions(chain(kill('abc')));
    expect(resultOf(report, 'kill')).toBe('OnInvalidSecurityUser');
  });
});

describe('KILLCONTACT falls back to Default', () => {
  const fallback: ScriptAction = {
    id: 'fallback',
    action: 'ASSIGN',
    properties: { Variable: 'handled', Value: 'yes' },
    branches: { Default: 'end' },
  };

  it.each([
    ['OnInvalidContactID', chain(securityUser(), kill('abc', { Default: 'fallback' }), fallback), {}],
    ['OnUnauthorized', chain(securityUser('ben'), kill('5001', { Default: 'fallback' }), fallback), {}],
    [
      'OnInvalidSecurityUser',
      chain(kill('5001', { Default: 'fallback' }), fallback),
      { SecurityUser: 'forged' },
    ],
  ] as const)(
    'takes Default when %s is not wired, with a one-line _ERR',
    async (branch, script, variables) => {
      const report = await runActions(script, { variables });
      const at = report.trace.findIndex((t) => t.id === 'kill');
      // The connector followed is Default; the trace keeps what KILLCONTACT itself decided.
      expect(report.trace[at]).toMatchObject({ branch: 'Default', outcome: branch });
      expect(report.trace[at + 1]?.id).toBe('fallback');
      expect(report.variables.handled).toBe('yes');
      const reason = String(report.variables._ERR);
      expect(reason.length).toBeGreaterThan(0);
      expect(reason).not.toMatch(/\n/);
    },
  );
});
