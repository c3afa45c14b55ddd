import type { ApiResponse } from './api-client.js';

// What every answer must be, whichever transport carried it.

/** Text that betrays internals: stack frames, source paths. */
const LEAKS: Array<[RegExp, string]> = [
  [/\bat (?:async )?(?:[\w$.<>[\] ]+ )?\(?(?:file:\/\/|node:|\/)[^\s()]*:\d+:\d+\)?/, 'a stack frame'],
  [/\n\s+at \S/, 'a stack frame'],
  [/node_modules/, 'a node_modules path'],
  [/\/(?:src|dist)\/[\w./-]+\.[jt]s/, 'a source path'],
  [/file:\/\//, 'a file URL'],
  [/"stack"\s*:/, 'a stack property'],
];

export function leaks(text: string): string | undefined {
  for (const [pattern, what] of LEAKS) if (pattern.test(text)) return what;
  return undefined;
}

/**
 * The error body `{ error: { code, message, field? } }` and nothing else, or why not. `oneLine`:
 * the message is one line too (the schema's "One line a person can act on").
 */
export function errorShapeProblem(json: unknown, options: { oneLine?: boolean } = {}): string | undefined {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    return 'the body is not a JSON object';
  const keys = Object.keys(json);
  if (keys.length !== 1 || keys[0] !== 'error') return `the body has keys ${keys.join(',')}, not just error`;
  const error = (json as { error: unknown }).error;
  if (typeof error !== 'object' || error === null) return 'error is not an object';
  const e = error as Record<string, unknown>;
  if (typeof e.code !== 'string' || e.code === '') return 'error.code is not a string';
  if (typeof e.message !== 'string' || e.message === '') return 'error.message is not a string';
  if ((options.oneLine ?? true) && /[\r\n]/.test(e.message)) return 'error.message is more than one line';
  for (const k of Object.keys(e)) {
    if (!['code', 'message', 'field'].includes(k)) return `error has an extra key ${k}`;
  }
  if (e.field !== undefined && typeof e.field !== 'string') return 'error.field is not a string';
  return undefined;
}

/**
 * The rules every response obeys, whatever was sent: no 5xx, an error body with a code on every
 * 4xx (but /docs's HTML and /metrics's text), no stack trace or source path anywhere.
 */
export function responseProblems(
  method: string,
  path: string,
  res: ApiResponse,
  statusByCode: Readonly<Record<string, number>>,
  options: { oneLine?: boolean } = {},
): string[] {
  const problems: string[] = [];
  if (res.status >= 500) problems.push(`status ${res.status}`);
  const bare = path.split('?')[0] ?? '';
  // Swagger UI's pages and scripts, and the Prometheus text, are not JSON.
  const exempt = res.status < 400 && (bare === '/docs' || bare.startsWith('/docs/') || bare === '/metrics');
  if (res.status >= 400 && method !== 'HEAD') {
    const shape = errorShapeProblem(res.json, options);
    if (shape) problems.push(`${shape}: ${res.text.slice(0, 200)}`);
    else {
      const code = (res.json as { error: { code: string } }).error.code;
      if (statusByCode[code] !== res.status) problems.push(`code ${code} answered with status ${res.status}`);
    }
  }
  const leak = exempt ? undefined : leaks(res.text);
  if (leak) problems.push(`the body holds ${leak}: ${res.text.slice(0, 300)}`);
  return problems;
}
