import { actions } from '../actions/registry.js';
import type { Finding } from '../script/finding.js';
import { hasErrors, validateScriptText } from '../script/validate.js';
import { type Output, readText } from './io.js';

export interface ValidateOptions {
  json?: boolean;
  strict?: boolean;
}

interface FileReport {
  file: string;
  valid: boolean;
  findings: Finding[];
  /** Why the file could not be read; it has no findings of its own then. */
  unreadable?: string;
}

export function formatFinding(file: string, f: Finding): string {
  const where = f.line === undefined ? file : `${file}:${f.line}:${f.column}`;
  const action = f.actionId === null ? '' : ` [action ${f.actionId}]`;
  const hint = f.hint ? ` (${f.hint})` : '';
  return `${where}: ${f.severity}${action}: ${f.message}${hint}  ${f.path}`;
}

function check(file: string, strict: boolean): FileReport {
  const text = readText(file);
  if (!text.ok) {
    const finding: Finding = {
      severity: 'error',
      actionId: null,
      path: '$',
      message: text.message,
      hint: null,
    };
    return { file, valid: false, findings: [finding], unreadable: text.message };
  }
  const { findings } = validateScriptText(text.value, actions);
  return { file, valid: !hasErrors(findings, strict), findings };
}

/**
 * `switchboard validate`: exit 0 when every file is valid, 1 when any has an error (with
 * --strict, a warning), 2 when one cannot be read. With --json, one object per file (an array
 * for several), an unreadable file included as an error finding.
 */
export function validateCommand(files: string[], options: ValidateOptions, io: Output): number {
  const reports = files.map((file) => check(file, options.strict ?? false));
  const exit = reports.some((r) => r.unreadable) ? 2 : reports.some((r) => !r.valid) ? 1 : 0;
  if (options.json) {
    const body = reports.map(({ file, valid, findings }) => ({ file, valid, findings }));
    io.out(`${JSON.stringify(files.length === 1 ? body[0] : body, null, 2)}\n`);
    return exit;
  }
  for (const { file, valid, findings, unreadable } of reports) {
    if (unreadable) {
      io.err(`switchboard: ${unreadable}\n`);
      continue;
    }
    for (const f of findings) io.out(`${formatFinding(file, f)}\n`);
    const errors = findings.filter((f) => f.severity === 'error').length;
    const warnings = findings.length - errors;
    const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
    io.out(
      `${file}: ${valid ? 'valid' : 'invalid'} (${plural(errors, 'error')}, ${plural(warnings, 'warning')})\n`,
    );
  }
  return exit;
}
