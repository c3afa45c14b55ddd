import { readFileSync } from 'node:fs';
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
