import { afterEach, describe, expect, it } from 'vitest';
import { baseWorld, NOW } from '../../test/support/simulate.js';
import { describeEachStore } from '../../test/support/stores.js';
import { actions } from '../actions/registry.js';
import { createSimulatedClock, type SimulatedClock } from '../clock.js';
import type { Store } from '../storage/store.js';
import { saveBusinessUnit } from './business-unit.js';
import type { OperationContext } from './model.js';
import { createPlatform, type Platform, type PlatformOptions } from './platform.js';
import { queueRun } from './script-runs.js';
import { externalKeyId } from './security.js';

const CLI: OperationContext = { channel: 'cli' };
const KEY = 'k'.repeat(40);
const SCRIPT = JSON.stringify({
  name: 'assume',
  mediaType: 'Generic',
  actions: [
    { id: '1', action: 'BEGIN', branches: { Default: '2' } },
    { id: '2', action: 'END' },
  ],
});

/** A world on `store`, with a deployed script (by the CLI: admin) to start runs of. */
async function worldOn(store: Store, clock: SimulatedClock, options: Partial<PlatformOptions> = {}) {
  const platform = createPlatform({ store, clock, ...options });
  if ((await store.db.selectFrom('agents').select('id').executeTakeFirst()) === undefined) {
    const loaded = await platform.loadWorld(baseWorld());
    if (!loaded.ok) throw new Error(loaded.message);
    const deployed = await platform.deployScript(SCRIPT, actions, CLI);
    if (!deployed.ok) throw new Error(deployed.message);
  }
  return platform;
}

/** A contact in the deployed script, with its script_runs row, as the server starts one. */
async function runningContact(platform: Platform, store: Store): Promise<number> {
  const { id } = await platform.startContact(
    { mediaType: 'Generic', direction: 'Inbound', state: 'Active' },
    CLI,
  );
  await queueRun(store.db, platform.clock.now(), id, 'assume', {}, CLI);
  return id;
}

async function issue(platform: Platform, contactId: number, agent = 'ana'): Promise<string> {
  const issued = await platform.issueSecurityUser(agent, '', { contactId, scriptName: 'assume' });
  if (!issued.ok) throw new Error(issued.message);
  return issued.value.handle;
}

const claims = (handle: string) =>
  JSON.parse(Buffer.from(String(handle.split('.')[1]), 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;

describeEachStore('security-user handles', (kind) => {
  let store: Store | undefined;
  let clock: SimulatedClock;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });
  const open = async (options: Partial<PlatformOptions> = {}) => {
    store = await kind.open();
    clock = createSimulatedClock(Date.parse(NOW));
    const platform = await worldOn(store, clock, options);
    return { platform, store, contactId: await runningContact(platform, store) };
  };

  it('carry issue time, installation, agent, zone, run and key; resolve for their run', async () => {
    const { platform, store, contactId } = await open();
    const handle = await issue(platform, contactId);
    const run = await store.db.selectFrom('script_runs').select('run_id').executeTakeFirstOrThrow();
    const installation = await store.db
      .selectFrom('installation')
      .select('installation_id')
      .executeTakeFirstOrThrow();
    expect(handle).toMatch(/^su2\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(claims(handle)).toEqual({
      a: 1001,
      u: 'ana',
      z: 'Europe/Madrid',
      i: Date.parse(NOW),
      n: installation.installation_id,
      r: run.run_id,
      k: '1',
      p: ['callbacks:write', 'contacts:end', 'contacts:read'],
    });
    const actor = await platform.resolveSecurityUser(handle, { contactId });
    expect(actor).toMatchObject({
      ok: true,
      value: { agentId: 1001, username: 'ana', timeZone: 'Europe/Madrid' },
    });
  });

  it("expire after the business unit's handle lifetime", async () => {
    const { platform, store, contactId } = await open();
    await saveBusinessUnit(store.db, { handleLifetimeSeconds: 600 });
    const handle = await issue(platform, contactId);
    clock.advance(600_000);
    expect((await platform.resolveSecurityUser(handle, { contactId })).ok).toBe(true);
    clock.advance(1);
    expect(await platform.resolveSecurityUser(handle, { contactId })).toMatchObject({
      ok: false,
      code: 'InvalidSecurityUser',
      message:
        'the security user expired: issued 2026-11-23T08:00:00.000Z, valid for 600 s; run SETSECURITYUSER again',
    });
  });

  it('are refused by a run other than the one they were issued to', async () => {
    const { platform, store, contactId } = await open();
    const handle = await issue(platform, contactId);
    const other = await runningContact(platform, store);
    expect(await platform.resolveSecurityUser(handle, { contactId: other })).toMatchObject({
      ok: false,
      message: 'the security user was issued to another script run',
    });
    // The same contact in a new run (the first one finished): another run too.
    await store.db.deleteFrom('script_runs').where('contact_id', '=', contactId).execute();
    expect((await platform.resolveSecurityUser(handle, { contactId })).ok).toBe(false);
    await queueRun(store.db, clock.now(), contactId, 'assume', {}, CLI);
    expect(await platform.resolveSecurityUser(handle, { contactId })).toMatchObject({
      ok: false,
      message: 'the security user was issued to another script run',
    });
  });

  it('are issued to a script run only: a contact without one gets none (on the server, no run means no)', async () => {
    const { platform } = await open();
    const { id } = await platform.startContact(
      { mediaType: 'Generic', direction: 'Inbound', state: 'Active' },
      CLI,
    );
    const issued = await platform.issueSecurityUser('ben', '', { contactId: id, scriptName: 'assume' });
    expect(issued).toMatchObject({
      ok: false,
      code: 'Unauthorized',
      message: `contact ${id} has no script run on record; a security user is issued to a running script only`,
    });
  });

  it('are refused once their agent was renamed (an ID never passes to someone else), or deactivated', async () => {
    const { platform, store, contactId } = await open();
    const handle = await issue(platform, contactId);
    await store.db.updateTable('agents').set({ username: 'ana.old' }).where('id', '=', 1001).execute();
    expect(await platform.resolveSecurityUser(handle, { contactId })).toMatchObject({
      ok: false,
      message:
        "agent 1001 behind the security user was 'ana' when it was issued and is 'ana.old' now; run SETSECURITYUSER again",
    });
    await store.db.updateTable('agents').set({ username: 'ana', active: 0 }).where('id', '=', 1001).execute();
    expect(await platform.resolveSecurityUser(handle, { contactId })).toMatchObject({
      ok: false,
      message: 'agent 1001 behind the security user is no longer active',
    });
  });

  it('grant no more than the agent held when issued, though its profile was raised since', async () => {
    const { platform, store, contactId } = await open();
    const handle = await issue(platform, contactId, 'ben');
    await store.db
      .updateTable('agents')
      .set({ security_profile: 'Supervisor' })
      .where('id', '=', 1002)
      .execute();
    const actor = await platform.resolveSecurityUser(handle, { contactId });
    if (!actor.ok) throw new Error(actor.message);
    expect([...actor.value.permissions]).toEqual(['contacts:read']);
  });

  it('grant no more than whoever deployed the script since: a redeploy under a parked run cannot use its handle', async () => {
    const { platform, contactId } = await open();
    // Issued to ana (Supervisor) under the CLI's deploy (admin); then ben (Agent: contacts:read)
    // redeploys the script the run will resume with.
    const handle = await issue(platform, contactId, 'ana');
    const ben = {
      agentId: 1002,
      username: 'ben',
      permissions: new Set(['scripts:write', 'contacts:read']),
      timeZone: 'UTC',
    };
    const redeployed = await platform.deployScript(SCRIPT, actions, {
      channel: 'api',
      actor: ben,
    } as OperationContext);
    expect(redeployed.ok).toBe(true);
    const actor = await platform.resolveSecurityUser(handle, { contactId });
    if (!actor.ok) throw new Error(actor.message);
    expect([...actor.value.permissions]).toEqual(['contacts:read']);
  });

  it('of the old kind (su1: unbound, never expiring) are refused', async () => {
    const { platform, contactId } = await open();
    const old = `su1.${Buffer.from(JSON.stringify({ a: 1001, z: 'UTC', i: 0 })).toString('base64url')}.sig`;
    expect(await platform.resolveSecurityUser(old, { contactId })).toMatchObject({
      ok: false,
      message: 'the security user is of an older kind (su1), no longer accepted; run SETSECURITYUSER again',
    });
  });

  it('keep resolving after a rotation until retired; --retire-old retires the old keys at once', async () => {
    const { platform, store, contactId } = await open();
    const before = await issue(platform, contactId);
    const rotation = await platform.rotateSigningKeys({ retireOld: false }, CLI);
    expect(rotation).toEqual({
      added: 2,
      retired: [],
      kept: [{ id: 1, verifiesUntil: clock.now() + 86_400_000 }],
    });
    const after = await issue(platform, contactId);
    expect(claims(after).k).toBe('2');
    expect((await platform.resolveSecurityUser(before, { contactId })).ok).toBe(true);

    const retiring = await platform.rotateSigningKeys({ retireOld: true }, CLI);
    expect(retiring).toEqual({ added: 3, retired: [1, 2], kept: [] });
    for (const handle of [before, after]) {
      expect(await platform.resolveSecurityUser(handle, { contactId })).toMatchObject({
        ok: false,
        message: 'the security user was signed with a retired or unknown key; run SETSECURITYUSER again',
      });
    }
    expect((await platform.resolveSecurityUser(await issue(platform, contactId), { contactId })).ok).toBe(
      true,
    );
    const audit = (await platform.snapshot()).audit.filter((a) => a.action === 'security-key.rotated');
    expect(audit.map((a) => [a.actor, a.channel, a.targetType, a.targetId])).toEqual([
      ['cli', 'cli', 'security-key', '2'],
      ['cli', 'cli', 'security-key', '3'],
    ]);
    const keys = await store.db
      .selectFrom('security_keys')
      .select(['id', 'retired_at'])
      .orderBy('id')
      .execute();
    expect(keys.map((k) => [Number(k.id), k.retired_at === null ? null : Number(k.retired_at)])).toEqual([
      [1, clock.now()],
      [2, clock.now()],
      [3, null],
    ]);
  });

  it('retires by itself, at the next rotation, a key whose handles have all expired', async () => {
    const { platform, contactId } = await open();
    await issue(platform, contactId);
    await platform.rotateSigningKeys({ retireOld: false }, CLI);
    clock.advance(86_400_000);
    expect(await platform.rotateSigningKeys({ retireOld: false }, CLI)).toEqual({
      added: 3,
      retired: [1],
      kept: [{ id: 2, verifiesUntil: clock.now() + 86_400_000 }],
    });
  });

  it('from another installation are refused, though signed with the same key', async () => {
    const { platform, contactId } = await open({ handleKey: KEY });
    const handle = await issue(platform, contactId);
    const first = store;
    store = await kind.open();
    try {
      const staging = await worldOn(store, clock, { handleKey: KEY });
      const stagingContact = await runningContact(staging, store);
      expect(await staging.resolveSecurityUser(handle, { contactId: stagingContact })).toMatchObject({
        ok: false,
        message: 'the security user was issued by another installation',
      });
    } finally {
      await first?.close();
    }
  });

  it("signed with a key from the environment: the database's keys neither sign nor verify", async () => {
    const { platform, store, contactId } = await open({ handleKey: KEY });
    const handle = await issue(platform, contactId);
    expect(claims(handle).k).toBe(externalKeyId(KEY));
    expect(externalKeyId(KEY)).not.toContain(KEY.slice(0, 8));
    expect((await platform.resolveSecurityUser(handle, { contactId })).ok).toBe(true);
    // No key was made in the database: a copy of it holds nothing to sign with.
    expect(await store.db.selectFrom('security_keys').selectAll().execute()).toEqual([]);

    // A platform on the database's keys (the backup's view) refuses it, and its own handle is
    // refused by the platform with the key.
    const fromBackup = createPlatform({ store, clock });
    expect((await fromBackup.resolveSecurityUser(handle, { contactId })).ok).toBe(false);
    const minted = await issue(fromBackup, contactId);
    expect((await fromBackup.resolveSecurityUser(minted, { contactId })).ok).toBe(true);
    expect(await platform.resolveSecurityUser(minted, { contactId })).toMatchObject({
      ok: false,
      message: 'the security user was signed with a retired or unknown key; run SETSECURITYUSER again',
    });
    // Another key in the environment: the old handles no longer resolve.
    const rotated = createPlatform({ store, clock, handleKey: 'z'.repeat(40) });
    expect((await rotated.resolveSecurityUser(handle, { contactId })).ok).toBe(false);
  });
});

describeEachStore('the first signing key of a fresh database', (kind) => {
  it('is made once, though two processes issue at the same moment', async () => {
    const [first, second] = await kind.openPair();
    try {
      const clock = createSimulatedClock(Date.parse(NOW));
      const a = await worldOn(first, clock);
      const b = createPlatform({ store: second, clock });
      const contacts = [await runningContact(a, first), await runningContact(a, first)];
      expect(await first.db.selectFrom('security_keys').selectAll().execute()).toEqual([]);
      const [one, two] = await Promise.all([
        issue(a, contacts[0] as number),
        issue(b, contacts[1] as number),
      ]);
      expect(claims(one).k).toBe('1');
      expect(claims(two).k).toBe('1');
      expect(await first.db.selectFrom('security_keys').select('id').execute()).toHaveLength(1);
    } finally {
      await first.close();
    }
  });
});

describe('externalKeyId', () => {
  it('names a key by a fingerprint', () => {
    expect(externalKeyId(KEY)).toMatch(/^ext:[0-9a-f]{12}$/);
    expect(externalKeyId(KEY)).not.toBe(externalKeyId(`${KEY}x`));
  });
});
