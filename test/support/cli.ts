import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BIN = new URL('../../bin/switchboard.js', import.meta.url).pathname;

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `switchboard` command as a process (from the build in dist/). */
export function switchboard(...args: string[]): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Writes files into a fresh temporary folder; returns their paths by name. */
export function tempFiles(files: Record<string, string | object>): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-'));
  const paths: Record<string, string> = {};
  for (const [name, content] of Object.entries(files)) {
    const path = join(dir, name);
    writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
    paths[name] = path;
  }
  return paths;
}

/** A message a person can read: no stack frames. */
export function noStackTrace(text: string): boolean {
  return !/\n\s+at .+\(.*:\d+:\d+\)/.test(text) && !text.includes('internal error');
}
