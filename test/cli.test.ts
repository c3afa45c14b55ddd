import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { noStackTrace, switchboard, tempFiles } from './support/cli.js';
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

describe('switchboard serve', () => {
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
