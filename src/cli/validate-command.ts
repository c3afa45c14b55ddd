import { actions } from '../actions/registry.js';
import type { Finding } from '../script/finding.js';
import { hasErrors, validateScriptText } from '../script/validate.js';
import { type Output, readText } from './io.js';

export interface ValidateOptions {
  json?: boolean;
  strict?: boolean;
}

export function formatFinding(file: string, f: Finding): string {
  const where = f.line === undefined ? file : `${file}:${f.line}:${f.column}`;
  const action = f.actionId === null ? '' : ` [action ${f.actionId}]`;
  const hint = f.hint ? ` (${f.hint})` : '';
  return `${where}: ${f.severity}${action}: ${f.message}${hint}  ${f.path}`;
}

/** `switchboard validate`: exit 1 when any file has an error (with --strict, a warning), 2 when one cannot be read. */
export function validateCommand(files: string[], options: ValidateOptions, io: Output): number {
  let exit = 0;
  const reports: Array<{ file: string; valid: boolean; findings: Finding[] }> = [];
  for (const file of files) {
    const text = readText(file);
    if (!text.ok) {
      io.err(`switchboard: ${text.message}\n`);
      exit = 2;
      continue;
    }
    const { findings } = validateScriptText(text.value, actions);
    const valid = !hasErrors(findings, options.strict ?? false);
    if (!valid && exit === 0) exit = 1;
    reports.push({ file, valid, findings });
  }
  if (options.json) {
    const body = reports.map(({ valid, findings }) => ({ valid, findings }));
    io.out(`${JSON.stringify(files.length === 1 ? (body[0] ?? null) : body, null, 2)}\n`);
    return exit;
  }
  for (const { file, valid, findings } of reports) {
    for (const f of findings) io.out(`${formatFinding(file, f)}\n`);
    const errors = findings.filter((f) => f.severity === 'error').length;
    const warnings = findings.length - errors;
    io.out(
      `${file}: ${valid ? 'valid' : 'invalid'} (${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'})\n`,
    );
  }
  return exit;
}
