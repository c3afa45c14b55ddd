// What every benchmark needs besides its measurement: formatting, the CLI, and the processes,
// databases and temp files it makes — released even when the run fails or is interrupted.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = join(ROOT, 'bin', 'switchboard.js');

export const fmt = (n, digits = 0) =>
  n === null || n === undefined || Number.isNaN(n)
    ? '-'
    : Number(n).toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });
export const log = (line) => process.stderr.write(`${line}\n`);

/** Runs `switchboard ARGS…` to completion; throws with its output when it fails. */
export function cli(args) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`switchboard ${args[0]} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/**
 * The benchmark's resources: a temp folder, child processes (`track` them), PostgreSQL databases
 * (`databases.add(name)`, dropped by `dropDatabase`). `cleanup` releases them all; it runs on
 * SIGINT/SIGTERM and on an uncaught failure, which it reports under `name`.
 */
export function createResources(name, pgUrl) {
  const tmp = mkdtempSync(join(tmpdir(), `${name.replace(/\W/g, '-')}-`));
  const children = new Set();
  const databases = new Set();
  let admin;
  let cleaning;

  async function adminClient() {
    if (!admin) {
      admin = new pg.Client({ connectionString: `${pgUrl}/postgres` });
      admin.on('error', (e) => log(`admin connection: ${e.message}`));
      await admin.connect();
    }
    return admin;
  }

  async function dropDatabase(db) {
    const a = await adminClient();
    await a.query(`drop database if exists "${db}" with (force)`);
    databases.delete(db);
  }

  function cleanup() {
    cleaning ??= (async () => {
      for (const child of children) child.kill('SIGKILL');
      for (const db of [...databases]) {
        try {
          await dropDatabase(db);
        } catch (e) {
          log(`could not drop database ${db}: ${e.message}`);
        }
      }
      await admin?.end().catch(() => {});
      rmSync(tmp, { recursive: true, force: true });
    })();
    return cleaning;
  }

  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      log(`${signal}: cleaning up`);
      cleanup().finally(() => process.exit(130));
    });
  }
  for (const event of ['uncaughtException', 'unhandledRejection']) {
    process.once(event, (error) => {
      if (cleaning) return; // a signal's cleanup is under way: a child killed by it, not a failure
      log(`${name} failed: ${error?.stack ?? error}`);
      cleanup().finally(() => process.exit(1));
    });
  }

  /** Keeps a spawned child's stderr in `child.output` and its end in `child.exited`, and kills it at cleanup. */
  function track(child) {
    child.output = ''; // stderr: at --log-level warn, only trouble
    child.stderr.on('data', (d) => {
      child.output += d;
    });
    child.exited = new Promise((done) => child.once('exit', (code, signal) => done({ code, signal })));
    children.add(child);
    child.exited.then(() => children.delete(child));
    return child;
  }

  /** SIGTERM, then SIGKILL after 20 s; resolves with how it ended and what it said on stderr. */
  async function stop(child) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const { code, signal } = await child.exited;
    clearTimeout(timer);
    return { code, signal, output: child.output.trim() };
  }

  return { tmp, databases, adminClient, dropDatabase, cleanup, track, stop };
}
