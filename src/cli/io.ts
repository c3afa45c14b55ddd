import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { checkWorld, type World } from '../platform/world.js';
import { fail, ok, type Result } from '../result.js';
import { parseScriptText } from '../script/load.js';

/** Reads a text file; the failure is one line naming the file and what is wrong. */
export function readText(path: string): Result<string, 'Unreadable'> {
  try {
    return ok(readFileSync(path, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : code === 'EACCES'
            ? 'permission denied'
            : (e as Error).message;
    return fail('Unreadable', `cannot read ${path}: ${why}`);
  }
}

/** Reads and parses a JSON file (a world fixture); malformed JSON is reported with line and column. */
export function readJson(path: string): Result<unknown, 'Unreadable' | 'MalformedJson'> {
  const text = readText(path);
  if (!text.ok) return text;
  const parsed = parseScriptText(text.value);
  const problem = parsed.findings[0];
  if (problem) {
    const where = problem.line === undefined ? '' : `:${problem.line}:${problem.column}`;
    return fail('MalformedJson', `${path}${where}: ${problem.message}`);
  }
  return ok(parsed.value);
}

export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export const processOutput: Output = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** A world file as read from disk: the world, and the scripts its `scripts` paths name (relative to it). */
export interface WorldFile {
  world: World;
  scripts: Array<{ file: string; text: string }>;
}

/** Reads a world file and the script files it lists; a failure names the file and what is wrong. */
export function readWorldFile(
  path: string,
): Result<WorldFile, 'Unreadable' | 'MalformedJson' | 'InvalidWorld'> {
  const read = readJson(path);
  if (!read.ok) return read;
  const world = checkWorld(read.value);
  if (!world.ok) return fail('InvalidWorld', `${path}: ${world.message}`);
  const scripts: WorldFile['scripts'] = [];
  for (const file of world.value.scripts ?? []) {
    const text = readText(resolve(dirname(path), file));
    if (!text.ok) return fail('Unreadable', `${path}: scripts: ${text.message}`);
    scripts.push({ file, text: text.value });
  }
  return ok({ world: world.value, scripts });
}
