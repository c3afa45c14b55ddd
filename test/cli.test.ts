import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../src/storage/sqlite/open-sqlite.js';
import { noStackTrace, switchboard, tempFiles } from './support/cli.js';
import { killLeftovers, spawnServe } from './support/server-process.js';
import { baseWorld } from './support/simulate.js';

const validScript = {
  name: 'hello',
  actions: [
    { id: '1', action: 'BEGIN', branches: { Default: '2' } },
    {
      id: '2',
      action: 'ASSIGN',
      properties: { Variable: 'greeting', Value: 'hi {name}' },
      branches: { Default: '3' },
    },
    { id: '3', action: 'END' },
  ],
};

describe('switchboard (no command)', () => {
  it('prints help and exits 0', () => {
    const r = switchboard();
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/validate/);
    expect(r.stdout).toMatch(/run/);
  });

  it('rejects an unknown command with a one-line message and exit 2', () => {
    const r = switchboard('fly');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command 'fly'/);
    expect(noStackTrace(r.stderr)).toBe(true);
  });
});

describe('switchboard validate', () => {
  it('exits 0 for a valid script', () => {
    const { script } = tempFiles({ script: validScript });
    const r = switchboard('validate', script as string);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/valid \(0 errors, 0 warnings\)/);
  });

  it('reports malformed JSON as an error finding with line and column, exit 1', () => {
    const { bad } = tempFiles({ bad: '{\n  "name": "x",\n  "actions": [\n    { "id": "1", }\n  ]\n}\n' });
    const r = switchboard('validate', bad as string, '--json');
    expect(r.status).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.valid).toBe(false);
    expect(report.findings).toHaveLength(1);
    expect(report.findings[0]).toMatchObject({ severity: 'error', line: 4 });
    expect(noStackTrace(r.stderr)).toBe(true);
  });

  it('prints one object for one file and an array for several, in the documented shape', () => {
    const { a, b } = tempFiles({
      a: validScript,
      b: { ...validScript, actions: [{ id: '1', action: 'BEGN' }] },
    });
    const one = JSON.parse(switchboard('validate', a as string, '--json').stdout);
    expect(one).toEqual({ file: a, valid: true, findings: [] });
    const r = switchboard('validate', a as string, b as string, '--json');
    expect(r.status).toBe(1);
    const many = JSON.parse(r.stdout);
    expect(many).toHaveLength(2);
    expect(many[1].valid).toBe(false);
    const finding = many[1].findings.find((f: { message: string }) => /BEGN/.test(f.message));
    expect(finding).toMatchObject({ severity: 'error', actionId: '1', path: '$.actions[0].action' });
    expect(finding.hint).toMatch(/BEGIN/);
    for (const f of many[1].findings)
      expect(Object.keys(f)).toEqual(
        expect.arrayContaining(['severity', 'actionId', 'path', 'message', 'hint']),
      );
  });

  it('fails on warnings only with --strict', () => {
    const stopScript = {
      name: 'parks',
      actions: [
        { id: '1', action: 'BEGIN', branches: { Default: '2' } },
        { id: '2', action: 'STOP' },
      ],
    };
    const { s } = tempFiles({ s: stopScript });
    const lenient = switchboard('validate', s as string);
    expect(lenient.status).toBe(0);
    expect(lenient.stdout).toMatch(/warning .*STOP/s);
    expect(switchboard('validate', s as string, '--strict').status).toBe(1);
  });

  it('says a missing file cannot be read, exit 2, no stack trace', () => {
    const r = switchboard('validate', '/nonexistent/script.json');
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('switchboard: cannot read /nonexistent/script.json: no such file\n');
  });

  it('keeps an unreadable file in the --json report, as an error naming the file', () => {
    const { a } = tempFiles({ a: validScript });
    const r = switchboard('validate', '/nonexistent.json', a as string, '--json');
    expect(r.status).toBe(2);
    const [missing, ok] = JSON.parse(r.stdout);
    expect(missing).toMatchObject({ file: '/nonexistent.json', valid: false });
    expect(missing.findings[0].message).toBe('cannot read /nonexistent.json: no such file');
    expect(ok).toMatchObject({ file: a, valid: true });
  });
});

describe('switchboard run: the trace explains the path (DESIGN §4)', () => {
  const su = { id: '2', action: 'SETSECURITYUSER', properties: { Agent: 'ana' }, branches: { Default: '3' } };
  const killUnknown = {
    name: 'kill-unknown',
    actions: [
      { id: '1', action: 'BEGIN', branches: { Default: '2' } },
      su,
      // Only Default is wired: the trace says which result fell back to it.
      { id: '3', action: 'KILLCONTACT', properties: { ContactID: '5999' }, branches: { Default: '4' } },
      { id: '4', action: 'STOP' },
      { id: '5', action: 'ONSIGNAL', branches: { Default: '6' } },
      { id: '6', action: 'END' },
    ],
  };

  /** BEGIN → SETSECURITYUSER(ana) → PRMS_CREATE with `properties` → END. */
  const books = (
    name: string,
    properties: Record<string, string>,
    branches: Record<string, string> = {},
  ) => ({
    name,
    actions: [
      { id: '1', action: 'BEGIN', branches: { Default: '2' } },
      su,
      {
        id: '3',
        action: 'PRMS_CREATE',
        properties: { PhoneNumber: '+4930123456', SkillId: '2001', ...properties },
        branches: { Success: '4', Default: '4', ...branches },
      },
      { id: '4', action: 'END' },
    ],
  });

  it('says which connector it followed, and the result that fell back to Default; STOP and END show none', () => {
    const f = tempFiles({ 'script.json': killUnknown, 'world.json': baseWorld() });
    const text = switchboard(
      'run',
      f['script.json'] as string,
      '--world',
      f['world.json'] as string,
      '--signal',
      '=go',
    );
    expect(text.status).toBe(0);
    expect(text.stdout).toContain('[3] KILLCONTACT -> Default (OnInvalidContactID not wired)');
    expect(text.stdout).toMatch(/\[4\] STOP\n/);
    expect(text.stdout).toMatch(/\[6\] END\n/);
    const json = JSON.parse(
      switchboard(
        'run',
        f['script.json'] as string,
        '--world',
        f['world.json'] as string,
        '--signal',
        '=go',
        '--json',
      ).stdout,
    );
    const own = json.trace.filter((t: { event?: string }) => t.event === undefined);
    expect(own[2]).toMatchObject({ id: '3', branch: 'Default', outcome: 'OnInvalidContactID' });
    expect(own[3]).toEqual({ at: '2026-11-23T08:00:00.000Z', id: '4', action: 'STOP' });
    expect(own.at(-1)).toEqual({ at: '2026-11-23T08:00:00.000Z', id: '6', action: 'END' });
    // The contact END ended is in the trace too, after it.
    expect(json.trace.at(-1)).toMatchObject({ event: 'contact.ended', reason: 'ScriptEnded' });
  });

  it('spells the connector as the script wires it', () => {
    const script = {
      name: 'spelled',
      actions: [
        { id: '1', action: 'BEGIN', branches: { Default: '2' } },
        su,
        {
          id: '3',
          action: 'KILLCONTACT',
          properties: { ContactID: '5001' },
          branches: { Success: '4', Default: '4' },
        },
        { id: '4', action: 'END' },
      ],
    };
    const f = tempFiles({ 'script.json': script, 'world.json': baseWorld() });
    const r = switchboard('run', f['script.json'] as string, '--world', f['world.json'] as string, '--json');
    expect(JSON.parse(r.stdout).trace[2]).toMatchObject({ id: '3', branch: 'Success' });
  });

  it('wraps long values in the text form instead of cutting them; --json keeps them whole', () => {
    const long = 'x'.repeat(300);
    const script = {
      name: 'long',
      actions: [
        { id: '1', action: 'BEGIN', branches: { Default: '2' } },
        {
          id: '2',
          action: 'ASSIGN',
          properties: { Variable: 'long', Value: long },
          branches: { Default: '3' },
        },
        { id: '3', action: 'END' },
      ],
    };
    const f = tempFiles({ 'script.json': script });
    const text = switchboard('run', f['script.json'] as string).stdout;
    expect(text.replace(/\n\s*/g, '')).toContain(`long=${long}`);
    expect(text.split('\n').every((line) => line.length <= 110)).toBe(true);
    const json = JSON.parse(switchboard('run', f['script.json'] as string, '--json').stdout);
    expect(json.trace[1].set.long).toBe(long);
  });

  it('shows how a wall-clock ScheduleDate was read', () => {
    const script = books('wall-clock', { ScheduleDate: '2026-11-23T14:30' });
    const f = tempFiles({ 'script.json': script, 'world.json': baseWorld() });
    const r = switchboard('run', f['script.json'] as string, '--world', f['world.json'] as string);
    // ana's zone is Europe/Madrid: 14:30 there is 13:30 UTC.
    expect(r.stdout).toContain('note: ScheduleDate 2026-11-23T14:30 in Europe/Madrid = 13:30Z');
  });

  it('puts what the clock brings after the script (--until) in the trace, in time order, skill scripts included', () => {
    const greeting = {
      name: 'greeting',
      mediaType: 'Phone',
      actions: [
        { id: 'g1', action: 'BEGIN', branches: { Default: 'g2' } },
        {
          id: 'g2',
          action: 'ASSIGN',
          properties: { Variable: 'Hello', Value: 'hi {FirstName}' },
          branches: { Default: 'g3' },
        },
        { id: 'g3', action: 'WAIT', properties: { Seconds: '30' }, branches: { Default: 'g4' } },
        { id: 'g4', action: 'END' },
      ],
    };
    const base = baseWorld();
    const world = {
      ...base,
      scripts: ['greeting.json'],
      skills: base.skills.map((s) => (s.id === 2001 ? { ...s, script: 'greeting' } : s)),
      agents: base.agents.map((a) => (a.id === 1002 ? { ...a, state: 'Available' } : a)),
    };
    const script = books('books', { FirstName: 'Eva', ScheduleDate: '2026-11-23T09:00:00Z' });
    const f = tempFiles({ 'script.json': script, 'world.json': world, 'greeting.json': greeting });
    const args = [
      f['script.json'] as string,
      '--world',
      f['world.json'] as string,
      '--until',
      '2026-11-23T10:00:00Z',
    ];
    const report = JSON.parse(switchboard('run', ...args, '--json').stdout);
    // The script's own steps and what they did (the callback scheduled, its contact ended) come first.
    expect(report.trace.slice(0, 6).map((t: { event?: string; id?: string }) => t.event ?? t.id)).toEqual([
      '1',
      '2',
      '3',
      'callback.scheduled',
      '4',
      'contact.ended',
    ]);
    const after = report.trace.slice(6);
    expect(
      after.map((t: { event?: string; script?: string; id?: string }) => t.event ?? `${t.script}:${t.id}`),
    ).toEqual([
      'callback.dispatched',
      'contact.queued',
      'contact.routed',
      'agent.state_changed',
      'callback.delivered',
      'greeting:g1',
      'greeting:g2',
      'greeting:g3',
      'greeting:g4',
      'contact.ended',
      'agent.state_changed',
      'callback.completed',
    ]);
    expect(after[6]).toMatchObject({ script: 'greeting', contactId: 5004, set: { Hello: 'hi Eva' } });
    // The skill's WAIT took 30 s of simulated time, as on the server.
    expect(after[8].at).toBe('2026-11-23T09:00:30.000Z');
    expect(after.at(-1)).toMatchObject({ event: 'callback.completed', callbackId: 1 });
    const text = switchboard('run', ...args).stdout;
    expect(text).toContain('(callback.dispatched) callback 1 dispatched as contact 5004');
    expect(text).toContain('greeting (contact 5004) [g2] ASSIGN -> Default  Hello=hi Eva');
    expect(text).toContain('(agent.state_changed) agent 1002 Available -> Outbound');
  });

  it('runs a script whose literal values its actions would refuse, warning about them, taking the branch', () => {
    const script = books(
      'literal',
      { SkillId: 'sales', ScheduleDate: '2026-11-24T09:00:00Z' },
      { InvalidSkillId: '4' },
    );
    const f = tempFiles({ 'script.json': script, 'world.json': baseWorld() });
    expect(switchboard('validate', f['script.json'] as string).status).toBe(1);
    const r = switchboard('run', f['script.json'] as string, '--world', f['world.json'] as string, '--json');
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/warning \[action 3\]: SkillId 'sales' is not a numeric ID/);
    expect(JSON.parse(r.stdout).trace[2]).toMatchObject({ id: '3', branch: 'InvalidSkillId' });
  });

  it('takes a world holding history: an Ended contact, Completed and Canceled callbacks (their skill or agent since made inactive)', () => {
    const world = {
      ...baseWorld(),
      contacts: [
        { id: 5001, mediaType: 'Chat', state: 'Ended', skillId: 2002, disconnectReason: 'TerminateScript' },
        { id: 5002, mediaType: 'Phone', state: 'Ended', direction: 'Outbound', skillId: 2001, callbackId: 7 },
      ],
      callbacks: [
        {
          id: 7,
          state: 'Completed',
          contactId: 5002,
          phoneNumber: '+4930123456',
          skillId: 2001,
          scheduleDate: '2026-11-20T09:00:00Z',
        },
        {
          id: 8,
          state: 'Canceled',
          phoneNumber: '+4930123456',
          skillId: 2004,
          targetAgentId: 1003,
          scheduleDate: '2026-11-21T09:00:00Z',
        },
      ],
    };
    const f = tempFiles({ 'script.json': validScript, 'world.json': world });
    const r = switchboard('run', f['script.json'] as string, '--world', f['world.json'] as string, '--json');
    expect(r.stderr).toBe('');
    const report = JSON.parse(r.stdout);
    expect(report.world.contacts.slice(0, 2)).toMatchObject([
      { id: 5001, state: 'Ended', disconnectReason: 'TerminateScript' },
      { id: 5002, state: 'Ended', callbackId: 7 },
    ]);
    expect(report.world.callbacks).toMatchObject([
      { id: 7, state: 'Completed', contactId: 5002, scheduledFor: '2026-11-20T09:00:00.000Z' },
      { id: 8, state: 'Canceled', skillId: 2004, targetAgentId: 1003 },
    ]);
  });

  it.each([
    [
      { contacts: [{ id: 1, mediaType: 'Chat', state: 'Gone' }] },
      '/contacts/0/state: must be one of Queued, Active, Ended (got "Gone")',
    ],
    [
      { callbacks: [{ state: 'Lost', phoneNumber: '1', skillId: 1, scheduleDate: 'x' }] },
      '/callbacks/0/state: must be one of Scheduled, Queued, Delivered, Completed, Canceled (got "Lost")',
    ],
    [{ agents: [{ id: 0, username: 'a' }] }, '/agents/0/id: must be at least 1 (got 0)'],
    [
      { now: '2026-11-23T08:00:00' },
      "now '2026-11-23T08:00:00' must be an ISO 8601 instant with Z or an offset",
    ],
  ])('names the field and the allowed values in words (%j)', (world, message) => {
    const f = tempFiles({ 'script.json': validScript, 'world.json': world });
    const r = switchboard('run', f['script.json'] as string, '--world', f['world.json'] as string);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(message);
    expect(r.stderr).not.toMatch(/Expected|union/);
  });
});

describe('switchboard deploy', () => {
  it('prints the warnings the API answers a deploy with, and deploys the script', () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-deploy-'));
    try {
      const f = tempFiles({
        'script.json': {
          name: 'parks',
          actions: [
            { id: '1', action: 'BEGIN', branches: { Default: '2' } },
            { id: '2', action: 'STOP' },
          ],
        },
      });
      const r = switchboard('deploy', f['script.json'] as string, '--db', join(dir, 'db.sqlite'));
      expect(r.status).toBe(0);
      expect(r.stdout).toContain("deployed script 'parks'");
      expect(r.stderr).toMatch(/warning \[action 2\]: STOP parks the script/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('switchboard keys rotate', () => {
  it('adds a signing key each time, keeps the old ones verifying until --retire-old; audited', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-keys-'));
    const db = join(dir, 'db.sqlite');
    try {
      const first = switchboard('keys', 'rotate', '--db', db);
      expect(first.stderr).toBe('');
      expect(first.status).toBe(0);
      expect(first.stdout).toBe(
        `${db}: added signing key 1; security users are signed with it from now on\n`,
      );
      const second = switchboard('keys', 'rotate', '--db', db);
      expect(second.status).toBe(0);
      expect(second.stdout).toMatch(
        new RegExp(
          `^${db}: added signing key 2; security users are signed with it from now on\n` +
            'key 1 verifies the security users it signed until \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z \\(--retire-old retires it now\\)\n$',
        ),
      );
      const third = switchboard('keys', 'rotate', '--retire-old', '--db', db);
      expect(third.status).toBe(0);
      expect(third.stdout).toBe(
        `${db}: added signing key 3; security users are signed with it from now on\n` +
          'retired keys 1, 2: the security users they signed no longer resolve\n',
      );
      const store = await openSqliteStore(db);
      try {
        const keys = await store.db
          .selectFrom('security_keys')
          .select(['id', 'retired_at'])
          .orderBy('id')
          .execute();
        expect(keys.map((k) => [k.id, k.retired_at !== null])).toEqual([
          [1, true],
          [2, true],
          [3, false],
        ]);
        const audit = await store.db
          .selectFrom('audit_log')
          .select(['actor', 'channel', 'action', 'target_type', 'target_id'])
          .orderBy('id')
          .execute();
        expect(audit).toEqual(
          ['1', '2', '3'].map((id) => ({
            actor: 'cli',
            channel: 'cli',
            action: 'security-key.rotated',
            target_type: 'security-key',
            target_id: id,
          })),
        );
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('switchboard serve', () => {
  it.each([
    ['the database', {}, 'database'],
    ['a file', { args: ['--handle-key-file', 'FILE'] }, 'external'],
    ['the environment', { env: { SWITCHBOARD_HANDLE_KEY: 'e'.repeat(40) } }, 'external'],
  ])(
    'takes the key that signs security users from %s (said at start)',
    async (_from, options, handleKeys) => {
      const dir = mkdtempSync(join(tmpdir(), 'switchboard-key-'));
      const key = tempFiles({ 'handle.key': `${'f'.repeat(40)}\n` })['handle.key'] as string;
      const serve = spawnServe(join(dir, 'sb.db'), {
        ...options,
        ...('args' in options ? { args: options.args.map((a) => (a === 'FILE' ? key : a)) } : {}),
      });
      try {
        const started = await serve.waitForLog('server started');
        expect(started.handleKeys).toBe(handleKeys);
      } finally {
        await killLeftovers();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it.each([
    [
      'a handle key file it cannot read',
      () => '/nonexistent/handle.key',
      'cannot read the handle key file /nonexistent/handle.key (ENOENT)',
    ],
    [
      'a handle key too short to be a secret',
      () => tempFiles({ 'handle.key': 'secret\n' })['handle.key'] as string,
      'has 6 characters; give at least 32',
    ],
  ])('refuses %s: one line, exit 2', (_what, file, message) => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-key-'));
    try {
      const r = switchboard(
        'serve',
        '--db',
        join(dir, 'sb.db'),
        '--handle-key-file',
        file(),
        '--log-level',
        'silent',
      );
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 1 with one line when its port is taken, claiming no work', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-port-'));
    try {
      const r = switchboard(
        'serve',
        '--db',
        join(dir, 'sb.db'),
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
        '--log-level',
        'silent',
      );
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`switchboard serve: port ${port} is in use (choose another with --port)\n`);
    } finally {
      blocker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('switchboard run', () => {
  const files = () => tempFiles({ 'script.json': validScript, 'world.json': baseWorld() });

  describe('--deployed-by: SETSECURITYUSER within the permissions of that agent, as on the server', () => {
    const assumesAna = {
      name: 'assumes-ana',
      actions: [
        { id: '1', action: 'BEGIN', branches: { Default: '2' } },
        {
          id: '2',
          action: 'SETSECURITYUSER',
          properties: { Agent: 'ana' },
          branches: { Default: '3', OnError: '4' },
        },
        { id: '3', action: 'KILLCONTACT', properties: { ContactID: '5001' }, branches: { Default: '4' } },
        { id: '4', action: 'END' },
      ],
    };
    const run = (...args: string[]) => {
      const f = tempFiles({ 'script.json': assumesAna, 'world.json': baseWorld() });
      return switchboard(
        'run',
        f['script.json'] as string,
        '--world',
        f['world.json'] as string,
        '--json',
        ...args,
      );
    };
    const stepsOf = (stdout: string) =>
      (JSON.parse(stdout).trace as Array<{ id?: string; branch?: string; event?: string }>)
        .filter((t) => t.id !== undefined)
        .map((t) => `${t.id}:${t.branch ?? ''}`);

    it('refuses an agent holding permissions the deployer lacks', () => {
      const r = run('--deployed-by', 'ben');
      expect(r.status).toBe(0);
      expect(stepsOf(r.stdout)).toEqual(['1:Default', '2:OnError', '4:']);
      expect(JSON.parse(r.stdout).variables._ERR).toBe(
        "agent 1001 (ana) holds permissions the deployer of script 'assumes-ana' (agent:1002 (ben)) lacks: contacts:end, callbacks:write",
      );
    });

    it('lets a deployer holding them (by ID) assume the agent; without --deployed-by nothing is checked', () => {
      for (const r of [run('--deployed-by', '1001'), run()]) {
        expect(r.status).toBe(0);
        expect(stepsOf(r.stdout)).toEqual(['1:Default', '2:Default', '3:Default', '4:']);
      }
    });

    it('refuses a deployer the world does not have: one line, exit 2', () => {
      const r = run('--deployed-by', 'zed');
      expect(r.status).toBe(2);
      expect(r.stderr).toBe("switchboard run: --deployed-by: no agent with username 'zed' in the world\n");
    });
  });

  it('runs a script and prints the DESIGN §4 report with --json', () => {
    const f = files();
    const r = switchboard(
      'run',
      f['script.json'] as string,
      '--world',
      f['world.json'] as string,
      '--var',
      'name=Ana',
      '--json',
    );
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(Object.keys(report)).toEqual(['outcome', 'contactId', 'trace', 'variables', 'world']);
    expect(report.outcome).toBe('ended');
    expect(report.variables.greeting).toBe('hi Ana');
    expect(report.trace[1]).toEqual({
      at: '2026-11-23T08:00:00.000Z',
      id: '2',
      action: 'ASSIGN',
      branch: 'Default',
      set: { greeting: 'hi Ana' },
    });
    expect(Object.keys(report.world)).toEqual(['contacts', 'callbacks', 'agents', 'audit']);
    const own = report.world.contacts.find((c: { id: number }) => c.id === report.contactId);
    for (const field of [
      'id',
      'state',
      'mediaType',
      'direction',
      'skillId',
      'agentId',
      'disconnectReason',
      'callbackId',
    ]) {
      expect(own).toHaveProperty(field);
    }
  });

  it('starts the clock at --now', () => {
    const f = files();
    const r = switchboard('run', f['script.json'] as string, '--now', '2027-01-01T00:00:00Z', '--json');
    expect(JSON.parse(r.stdout).trace[0].at).toBe('2027-01-01T00:00:00.000Z');
  });

  it.each([
    [['--var', 'noequals'], /--var 'noequals' must be NAME=VALUE/],
    [['--var', '1x=2'], /--var '1x=2' must be NAME=VALUE/],
    [['--now', 'tomorrow'], /--now 'tomorrow' must be an ISO 8601 instant/],
    [
      ['--now', '2026-11-23T08:00:00Z', '--until', '2026-11-22T08:00:00Z'],
      /--until .* is before the start of the run/,
    ],
    [
      ['--world', 'WORLD', '--until', '2026-11-22T08:00:00Z'],
      /--until .* is before the start of the run, 2026-11-23T08:00:00.000Z/,
    ],
    [['--max-steps', '0'], /--max-steps '0' must be a positive whole number/],
    [['--world', '/nonexistent.json'], /cannot read \/nonexistent.json: no such file/],
  ])('rejects %j with one line and exit 2', (args, message) => {
    const f = files();
    const withWorld = (args as string[]).map((a) => (a === 'WORLD' ? (f['world.json'] as string) : a));
    const r = switchboard('run', f['script.json'] as string, ...withWorld);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(noStackTrace(r.stderr)).toBe(true);
  });

  it('rejects a malformed world file with its line and column', () => {
    const f = tempFiles({ 'script.json': validScript, 'world.json': '{ "skills": [ }' });
    const r = switchboard('run', f['script.json'] as string, '--world', f['world.json'] as string);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/world\.json:1:\d+: /);
  });

  it.each([
    [{ agents: [{ id: 1, username: 'a', state: 'Sleeping' }] }, /\/agents\/0\/state/],
    [{ skills: [{ id: 1, name: 's', mediaType: 'Fax', direction: 'Inbound' }] }, /\/skills\/0\/mediaType/],
    [{ agents: [{ id: 1, username: 'a', skills: [9] }] }, /agent 1 has unknown skill 9/],
    [{ unknownField: true }, /unknownField/],
    [{ businessUnit: { timeZone: 'Mars/Base' } }, /Mars\/Base/],
    [{ scripts: 'greeting.json' }, /world\.json: \/scripts: /],
    [{ scripts: ['missing.json'] }, /world\.json: scripts: cannot read .*missing\.json: no such file/],
  ])('rejects an invalid world (%j) naming what is wrong, exit 2', (world, message) => {
    const f = tempFiles({ 'script.json': validScript, 'world.json': world });
    const r = switchboard('run', f['script.json'] as string, '--world', f['world.json'] as string);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(noStackTrace(r.stderr)).toBe(true);
  });

  it('refuses an invalid script, printing its errors, exit 2', () => {
    const f = tempFiles({ 'script.json': { name: 'x', actions: [{ id: '1', action: 'KILLCONTACT' }] } });
    const r = switchboard('run', f['script.json'] as string);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/BEGIN/);
    expect(r.stderr).toMatch(/is not a valid script/);
    expect(noStackTrace(r.stderr)).toBe(true);
  });

  it('exits 0 when the script ran, whatever branch it took (a dead end too)', () => {
    const f = tempFiles({
      'script.json': {
        name: 'dead',
        actions: [
          { id: '1', action: 'BEGIN', branches: { Default: '2' } },
          { id: '2', action: 'IF', properties: { Expression: '1 = 2' }, branches: { True: '3' } },
          { id: '3', action: 'END' },
        ],
      },
    });
    const r = switchboard('run', f['script.json'] as string, '--json');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).outcome).toBe('deadEnd');
  });
});
