import { actions } from '../actions/registry.js';
import { parseInstant } from '../platform/instant.js';
import { compileScript } from '../runtime/compile.js';
import { hasErrors, validateScriptText } from '../script/validate.js';
import { formatReport } from '../simulator/report.js';
import { type Signal, simulate } from '../simulator/simulate.js';
import { openSqliteStore } from '../storage/sqlite/open-sqlite.js';
import { type Output, readText, readWorldFile, type WorldFile } from './io.js';
import { formatFinding } from './validate-command.js';

export interface RunOptions {
  world?: string;
  var: string[];
  now?: string;
  until?: string;
  signal: string[];
  maxSteps?: string;
  deployedBy?: string;
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

function instant(option: string, text: string): number {
  const parsed = parseInstant(text, option);
  if (!parsed.ok) throw new UsageError(parsed.message);
  return parsed.value;
}

function parseSignals(values: string[]): Signal[] {
  return values.map((value) => {
    const eq = value.indexOf('=');
    const at = eq < 0 ? value : value.slice(0, eq);
    const params = eq < 0 ? [] : value.slice(eq + 1).split(',');
    return at === '' ? { params } : { at: instant('--signal', at), params };
  });
}

/** `switchboard run`: exit 0 whenever the script ran, 2 for an invalid script, world or argument. */
export async function runCommand(file: string, options: RunOptions, io: Output): Promise<number> {
  try {
    const vars = parseVars(options.var);
    const now = options.now === undefined ? undefined : instant('--now', options.now);
    const until = options.until === undefined ? undefined : instant('--until', options.until);
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
    // Any script it can execute runs: a literal value its action would refuse is a warning, and the
    // action takes its branch. Only what cannot run (no BEGIN, a branch to nowhere) is refused.
    const { script, findings } = validateScriptText(text.value, actions, { literalsAsWarnings: true });
    for (const f of findings) if (f.severity === 'warning' || !script) io.err(`${formatFinding(file, f)}\n`);
    if (!script || hasErrors(findings))
      throw new UsageError(`${file} is not a valid script; see the errors above`);

    let world: WorldFile | undefined;
    if (options.world !== undefined) {
      const read = readWorldFile(options.world);
      if (!read.ok) throw new UsageError(read.message);
      world = read.value;
    }

    const store = await openSqliteStore(':memory:');
    try {
      const report = await simulate({
        script: compileScript(script, actions),
        actions,
        store,
        world: world?.world,
        scripts: world?.scripts ?? [],
        variables: vars,
        signals,
        ...(now === undefined ? {} : { now }),
        ...(until === undefined ? {} : { until }),
        ...(maxSteps === undefined ? {} : { maxSteps }),
        ...(options.deployedBy === undefined ? {} : { deployedBy: options.deployedBy }),
      });
      if (!report.ok) {
        // The world and the scripts it lists are named by the world file.
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
