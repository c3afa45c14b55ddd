import { actions } from '../actions/registry.js';
import { compileScript } from '../runtime/compile.js';
import { type Signal, type SimulationReport, simulate } from '../runtime/simulate.js';
import { hasErrors, validateScriptText } from '../script/validate.js';
import { openSqliteStore } from '../storage/sqlite/open-sqlite.js';
import { type Output, readJson, readText } from './io.js';
import { formatFinding } from './validate-command.js';

export interface RunOptions {
  world?: string;
  var: string[];
  now?: string;
  until?: string;
  signal: string[];
  maxSteps?: string;
  json?: boolean;
}

/** A usage problem: printed as one line, exit 2. */
class UsageError extends Error {}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function parseVars(pairs: string[]): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    if (eq < 0 || !IDENTIFIER.test(name)) {
      throw new UsageError(
        `--var '${pair}' must be NAME=VALUE with NAME a variable name, e.g. --var StuckContactId=5001`,
      );
    }
    vars[name] = pair.slice(eq + 1);
  }
  return vars;
}

function parseInstant(option: string, text: string): number {
  const ms =
    /^\d{4}-\d{2}-\d{2}T/.test(text) && /(Z|[+-]\d{2}:?\d{2})$/i.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new UsageError(
      `${option} '${text}' must be an ISO 8601 instant with Z or an offset, e.g. 2026-11-23T08:00:00Z`,
    );
  }
  return ms;
}

function parseSignals(values: string[]): Signal[] {
  return values.map((value) => {
    const eq = value.indexOf('=');
    const at = eq < 0 ? value : value.slice(0, eq);
    const params = eq < 0 ? [] : value.slice(eq + 1).split(',');
    return at === '' ? { params } : { at: parseInstant('--signal', at), params };
  });
}

/** `switchboard run`: exit 0 whenever the script ran, 2 for an invalid script, world or argument. */
export async function runCommand(file: string, options: RunOptions, io: Output): Promise<number> {
  try {
    const vars = parseVars(options.var);
    const now = options.now === undefined ? undefined : parseInstant('--now', options.now);
    const until = options.until === undefined ? undefined : parseInstant('--until', options.until);
    const signals = parseSignals(options.signal);
    let maxSteps: number | undefined;
    if (options.maxSteps !== undefined) {
      maxSteps = Number(options.maxSteps);
      if (!Number.isSafeInteger(maxSteps) || maxSteps < 1) {
        throw new UsageError(`--max-steps '${options.maxSteps}' must be a positive whole number`);
      }
    }

    const text = readText(file);
    if (!text.ok) throw new UsageError(text.message);
    const { script, findings } = validateScriptText(text.value, actions);
    for (const f of findings) if (f.severity === 'warning' || !script) io.err(`${formatFinding(file, f)}\n`);
    if (!script || hasErrors(findings))
      throw new UsageError(`${file} is not a valid script; see the errors above`);

    let world: unknown;
    if (options.world !== undefined) {
      const read = readJson(options.world);
      if (!read.ok) throw new UsageError(read.message);
      world = read.value;
    }

    const store = await openSqliteStore(':memory:');
    try {
      const report = await simulate({
        script: compileScript(script, actions),
        store,
        world,
        variables: vars,
        signals,
        ...(now === undefined ? {} : { now }),
        ...(until === undefined ? {} : { until }),
        ...(maxSteps === undefined ? {} : { maxSteps }),
      });
      if (!report.ok) {
        throw new UsageError(
          report.code === 'InvalidWorld' ? `${options.world}: ${report.message}` : report.message,
        );
      }
      io.out(options.json ? `${JSON.stringify(report.value, null, 2)}\n` : formatReport(report.value));
      return 0;
    } finally {
      await store.close();
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`switchboard run: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

function shorten(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** The trace for a person: one line an action, then what the world looks like. */
export function formatReport(report: SimulationReport): string {
  const lines: string[] = [];
  for (const t of report.trace) {
    const set = t.set
      ? `  ${Object.entries(t.set)
          .map(([k, v]) => `${k}=${shorten(v)}`)
          .join(' ')}`
      : '';
    lines.push(`${t.at}  [${t.id}] ${t.action} -> ${t.branch}${set}`);
    for (const note of t.notes ?? []) lines.push(`    note: ${note}`);
  }
  const contact = report.world.contacts.find((c) => c.id === report.contactId);
  lines.push(
    '',
    `outcome: ${report.outcome}; contact ${report.contactId} is ${contact?.state ?? '?'}${contact?.disconnectReason ? ` (${contact.disconnectReason})` : ''}`,
  );
  const others = report.world.contacts.filter((c) => c.id !== report.contactId);
  for (const c of others) {
    lines.push(
      `contact ${c.id}: ${c.state} ${c.direction} ${c.mediaType}${c.skillId ? ` skill ${c.skillId}` : ''}${c.agentId ? ` agent ${c.agentId}` : ''}${c.disconnectReason ? ` (${c.disconnectReason})` : ''}`,
    );
  }
  for (const cb of report.world.callbacks) {
    lines.push(
      `callback ${cb.id}: ${cb.state} ${cb.phoneNumber} skill ${cb.skillId}${cb.targetAgentId ? ` agent ${cb.targetAgentId}` : ''} due ${cb.scheduledFor} (${cb.timeZone})`,
    );
  }
  for (const a of report.world.agents) lines.push(`agent ${a.id} (${a.username}): ${a.state}`);
  return `${lines.join('\n')}\n`;
}
