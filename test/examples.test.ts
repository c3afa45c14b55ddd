/**
 * Every example under examples/ is checked through the real CLI, as a user would run it:
 * `switchboard validate --strict --json` must find nothing, and every run in its run.json must
 * exit 0 with the outcome, branch path and world facts it promises. A new example folder is
 * picked up automatically. (`npm test` builds dist/ before vitest runs.)
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'switchboard.js');
const EXAMPLES = join(ROOT, 'examples');

type Fields = Record<string, unknown>;

/** One entry of an example's run.json: CLI arguments and what the report must show. */
interface RunSpec {
  name: string;
  /** Appended to `switchboard run examples/<name>/script.json --world examples/<name>/world.json --json`. */
  args: string[];
  expect: {
    outcome: 'ended' | 'stopped' | 'deadEnd' | 'error';
    /**
     * The script's own steps in order, each as `id:branch` — the connector followed, as wired —
     * with the action's result when that was a fallback to Default (`3:Default (OnSuccess)`),
     * and the bare `id` for END and STOP.
     */
    branches: string[];
    /** The events on the simulated clock after the script (`--until`), by type, in order. */
    events?: string[];
    /** Variables that must hold these values (others may exist). */
    variables?: Fields;
    /** Contact ID (or `self`, the run's own contact) → fields it must have. */
    contacts?: Record<string, Fields>;
    /** Every callback in the world, in ID order, each with at least these fields. */
    callbacks?: Fields[];
    /** Agent ID → fields it must have. */
    agents?: Record<string, Fields>;
  };
}

interface Report {
  outcome: string;
  contactId: number;
  trace: Array<{ id?: string; branch?: string; outcome?: string; event?: string; script?: string }>;
  variables: Record<string, unknown>;
  world: {
    contacts: Array<{ id: number } & Fields>;
    callbacks: Fields[];
    agents: Array<{ id: number } & Fields>;
    audit: Fields[];
  };
}

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

const examples = readdirSync(EXAMPLES, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

function readRuns(name: string): RunSpec[] {
  const file = join(EXAMPLES, name, 'run.json');
  if (!existsSync(file)) return [];
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { runs?: RunSpec[] };
  return parsed.runs ?? [];
}

describe('examples/', () => {
  it('has examples', () => {
    expect(examples.length).toBeGreaterThanOrEqual(7);
  });

  it('README.md names every example folder, and only existing ones', () => {
    const readme = readFileSync(join(EXAMPLES, 'README.md'), 'utf8');
    for (const name of examples)
      expect(readme, `examples/README.md should mention ${name}/`).toContain(`examples/${name}/`);
    const mentioned = new Set([...readme.matchAll(/examples\/([A-Za-z0-9._-]+)\//g)].map((m) => m[1]));
    for (const name of mentioned) expect(examples, `examples/README.md mentions ${name}/`).toContain(name);
  });
});

describe.each(examples)('examples/%s', (name) => {
  const dir = `examples/${name}`;
  const script = `${dir}/script.json`;
  const world = `${dir}/world.json`;

  it('has script.json, world.json and run.json with at least one well-formed run', () => {
    for (const file of ['script.json', 'world.json', 'run.json']) {
      expect(existsSync(join(EXAMPLES, name, file)), `${dir}/${file}`).toBe(true);
    }
    const runs = readRuns(name);
    expect(runs.length).toBeGreaterThan(0);
    for (const run of runs) {
      expect(typeof run.name).toBe('string');
      expect(Array.isArray(run.args)).toBe(true);
      expect(['ended', 'stopped', 'deadEnd', 'error']).toContain(run.expect?.outcome);
      expect(Array.isArray(run.expect.branches)).toBe(true);
    }
  });

  it('validates with --strict: valid, no findings', async () => {
    const result = await cli(['validate', script, '--strict', '--json']);
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toMatchObject({ valid: true, findings: [] });
    expect(result.code).toBe(0);
  });

  it.concurrent.each(readRuns(name).map((run) => [run.name, run] as const))(
    'run: %s',
    async (_title, run) => {
      const result = await cli(['run', script, '--world', world, '--json', ...run.args]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const report = JSON.parse(result.stdout) as Report;
      const want = run.expect;

      expect(report.outcome).toBe(want.outcome);
      const own = report.trace.filter((t) => t.event === undefined && t.script === undefined);
      expect(
        own.map(
          (t) =>
            `${t.id}${t.branch === undefined ? '' : `:${t.branch}`}${t.outcome ? ` (${t.outcome})` : ''}`,
        ),
      ).toEqual(want.branches);
      const events = report.trace.flatMap((t) => (t.event === undefined ? [] : [t.event]));
      expect(events).toEqual(want.events ?? []);
      expect(report.world.contacts.map((c) => c.id)).toContain(report.contactId);

      if (want.variables) expect(report.variables).toMatchObject(want.variables);
      for (const [key, fields] of Object.entries(want.contacts ?? {})) {
        const id = key === 'self' ? report.contactId : Number(key);
        const contact = report.world.contacts.find((c) => c.id === id);
        expect(contact, `contact ${key}`).toBeDefined();
        expect(contact).toMatchObject(fields);
      }
      // toMatchObject on arrays also requires the same length: no callback more, none fewer.
      if (want.callbacks) expect(report.world.callbacks).toMatchObject(want.callbacks);
      for (const [key, fields] of Object.entries(want.agents ?? {})) {
        const agent = report.world.agents.find((a) => a.id === Number(key));
        expect(agent, `agent ${key}`).toBeDefined();
        expect(agent).toMatchObject(fields);
      }
    },
  );
});
