import { type ChildProcess, spawn } from 'node:child_process';

const BIN = new URL('../../bin/switchboard.js', import.meta.url).pathname;

/** One JSON log line of `switchboard serve` (pino). */
export interface LogLine {
  level: number;
  time: number;
  pid: number;
  msg: string;
  [field: string]: unknown;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServeProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Parsed JSON log lines from stdout, in order. */
  readonly logs: LogLine[];
  /** Everything written to stderr. */
  stderr(): string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<Exit>;
  /** Waits for a log line that matches (by `msg` substring or predicate). */
  waitForLog(match: string | ((line: LogLine) => boolean), timeoutMs?: number): Promise<LogLine>;
  kill(signal: NodeJS.Signals): void;
}

const running = new Set<ChildProcess>();

function track(child: ChildProcess): Promise<Exit> {
  running.add(child);
  return new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
}

/** Kills (SIGKILL) every process these helpers started that is still running; for afterEach. */
export async function killLeftovers(): Promise<void> {
  const left = [...running];
  await Promise.all(
    left.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

/** Starts `switchboard serve --db DB` (from the build in dist/) with JSON logs at `logLevel`. */
export function spawnServe(
  db: string,
  options: { logLevel?: string; args?: string[]; env?: Record<string, string> } = {},
): ServeProcess {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: options.logLevel ?? 'info', ...options.env };
  delete env.SWITCHBOARD_DB;
  delete env.SWITCHBOARD_DEBUG;
  // Port 0: the HTTP API on any free port, so that several processes (and test files) can run at once.
  const args = [BIN, 'serve', '--db', db, '--port', '0', '--host', '127.0.0.1', ...(options.args ?? [])];
  const child = spawn(process.execPath, args, {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = track(child);
  const logs: LogLine[] = [];
  const waiters = new Set<() => void>();
  let partial = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        logs.push({ level: 0, time: Date.now(), pid: child.pid ?? 0, msg: `(not JSON) ${line}` });
      }
    }
    for (const w of waiters) w();
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });

  return {
    child,
    pid: child.pid ?? 0,
    logs,
    stderr: () => stderr,
    exited,
    kill: (signal) => {
      child.kill(signal);
    },
    waitForLog(match, timeoutMs = 10_000) {
      const test = typeof match === 'string' ? (l: LogLine) => l.msg.includes(match) : match;
      return new Promise<LogLine>((resolve, reject) => {
        const check = () => {
          const found = logs.find(test);
          if (found) {
            done();
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new Error(
              `no log line ${typeof match === 'string' ? `'${match}'` : 'matching'} within ${timeoutMs} ms; ` +
                `logs: ${logs.map((l) => l.msg).join(' | ')}; stderr: ${stderr}`,
            ),
          );
        }, timeoutMs);
        const onExit = () => {
          check();
          if (!waiters.has(check)) return;
          done();
          reject(new Error(`serve exited before logging it; stderr: ${stderr}`));
        };
        function done() {
          clearTimeout(timer);
          waiters.delete(check);
          child.off('exit', onExit);
        }
        waiters.add(check);
        child.once('exit', onExit);
        check();
      });
    },
  };
}

/** The line `serve` logs once its scheduler runs (and its API listens). */
export const STARTED = (l: LogLine) => l.msg === 'server started' || l.msg === 'scheduler started';
/** The line `serve` logs when it stopped after SIGTERM. */
export const STOPPED = (l: LogLine) => l.msg === 'server stopped' || l.msg === 'scheduler stopped';

/** Starts serve and waits until its scheduler runs. */
export async function startServe(db: string, options: { logLevel?: string } = {}): Promise<ServeProcess> {
  const serve = spawnServe(db, options);
  await serve.waitForLog(STARTED, 15_000);
  return serve;
}

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs one `switchboard` command as a process, without blocking the event loop (running `serve`
 * processes keep their output drained meanwhile).
 */
export function cli(args: string[], timeoutMs = 30_000): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.SWITCHBOARD_DB;
  delete env.SWITCHBOARD_DEBUG;
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = track(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
  });
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return exited.then(({ code }) => {
    clearTimeout(timer);
    return { status: code, stdout, stderr };
  });
}

/**
 * Polls `probe` until it returns something other than undefined/false; a probe that throws
 * (a connection being replaced) counts as "not yet". Fails after `timeoutMs` with `what`.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      const why = lastError ? ` (last error: ${(lastError as Error).message})` : '';
      throw new Error(`timed out waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 25));
  }
}
