import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PERMISSIONS, type Permission } from '../../src/platform/model.js';
import { freshDatabase, type TestDatabase } from './server-db.js';
import { cli } from './server-process.js';

const BIN = new URL('../../bin/switchboard.js', import.meta.url).pathname;

export type DatabaseKind = 'sqlite' | 'postgres';

/** Skills of the API world, by what the tests use them for. */
export const SKILL = {
  /** Outbound Phone: the end-to-end callback; only `caller` has it. */
  callbacks: 2001,
  /** Inbound Chat: a queued chat routed when `chatter` becomes Available. */
  chat: 2002,
  /** Inbound Phone: not a callback skill (InvalidSkillId). */
  hotline: 2003,
  /** Outbound Phone, inactive (InvalidSkillId). */
  retired: 2004,
  /** Outbound Phone nobody has: far-future callbacks that never reach an agent. */
  later: 2005,
} as const;

/** Agents of the API world: one per permission case. */
export const AGENT = {
  /** Profile Admin: `admin` (everything). */
  admin: 1001,
  /** Profile Supervisor: every permission but `admin`. */
  supervisor: 1002,
  /** Profile Reader: every `*:read` and nothing else. */
  reader: 1003,
  /** No security profile: no permission at all (but may set its own state). */
  none: 1004,
  /** Profiles Mixed 1–3: see MIXED. */
  mixed1: 1005,
  mixed2: 1006,
  mixed3: 1007,
  /** Skill `callbacks`, starts Unavailable; profile Agent. */
  caller: 1010,
  /** Skill `chat`, starts Unavailable; profile Agent. */
  chatter: 1011,
  /** No skills, no profile, Unavailable; the agent whose state the matrix sets. */
  spare: 1020,
  /** Inactive (AgentNotActive, InvalidTargetAgentId); no token can be made for it. */
  retired: 1030,
} as const;
export type TokenKey = Exclude<keyof typeof AGENT, 'retired'>;

const READS: Permission[] = ['contacts:read', 'callbacks:read', 'agents:read', 'skills:read', 'scripts:read'];
const AGENT_PROFILE: Permission[] = ['contacts:read', 'callbacks:read', 'agents:read'];

/**
 * Reader and Mixed 1–3 give every permission but admin a distinct, non-empty, non-full pattern of
 * holders (a 4-bit code: Reader, Mixed 1, Mixed 2, Mixed 3). So for any route, some token holds
 * its permission and some token lacks it, and a route that checked a different permission than
 * its file names would answer at least one of these four tokens differently. Four tokens (four
 * `token create` processes) do the work of eleven single-permission agents.
 */
export const MIXED: Record<'mixed1' | 'mixed2' | 'mixed3', Permission[]> = {
  mixed1: ['callbacks:read', 'scripts:read', 'contacts:write', 'agents:write', 'skills:write'],
  mixed2: ['agents:read', 'scripts:read', 'contacts:end', 'agents:write', 'scripts:write'],
  mixed3: ['skills:read', 'callbacks:write', 'skills:write', 'scripts:write'],
};

export const ALL_TOKEN_KEYS: TokenKey[] = [
  'admin',
  'supervisor',
  'reader',
  'none',
  'mixed1',
  'mixed2',
  'mixed3',
  'caller',
  'chatter',
  'spare',
];

export const agentOf = (key: TokenKey): number => AGENT[key];

/** Permissions each token's agent holds (admin: all). */
export function permissionsOf(key: TokenKey): ReadonlySet<Permission> {
  switch (key) {
    case 'admin':
      return new Set(PERMISSIONS);
    case 'supervisor':
      return new Set(PERMISSIONS.filter((p) => p !== 'admin'));
    case 'reader':
      return new Set(READS);
    case 'mixed1':
    case 'mixed2':
    case 'mixed3':
      return new Set(MIXED[key]);
    case 'caller':
    case 'chatter':
      return new Set(AGENT_PROFILE);
    case 'none':
    case 'spare':
      return new Set();
  }
}

/** BEGIN → STOP; ONSIGNAL → IF p1 = Secret → END (ScriptEnded), else STOP again. */
export function relayScript(name = 'relay') {
  return {
    name,
    mediaType: 'WorkItem',
    description: 'Parks until a signal whose p1 is the start variable Secret arrives, then ends.',
    actions: [
      { id: '1', action: 'BEGIN', branches: { Default: '2' } },
      { id: '2', action: 'STOP' },
      { id: '10', action: 'ONSIGNAL', branches: { Default: '11' } },
      {
        id: '11',
        action: 'IF',
        properties: { Expression: 'p1 = Secret' },
        branches: { True: '12', False: '13' },
      },
      { id: '12', action: 'END' },
      { id: '13', action: 'STOP' },
    ],
  };
}

/**
 * The API world: profiles for every permission case, the agents above, the skills above, an
 * Active contact 5001 and one far-future callback (its ID is the first callback ID).
 */
export function apiWorld() {
  const dayAfterTomorrow = new Date(Date.now() + 2 * 86_400_000).toISOString();
  return {
    businessUnit: {
      name: 'API tests',
      timeZone: 'Europe/Berlin',
      defaultCountry: 'DE',
      agentWaitSeconds: 120,
      callbackHorizonDays: 3650,
    },
    securityProfiles: [
      { name: 'Admin', permissions: ['admin'] },
      { name: 'Supervisor', permissions: PERMISSIONS.filter((p) => p !== 'admin') },
      { name: 'Reader', permissions: READS },
      { name: 'Mixed 1', permissions: MIXED.mixed1 },
      { name: 'Mixed 2', permissions: MIXED.mixed2 },
      { name: 'Mixed 3', permissions: MIXED.mixed3 },
      { name: 'Agent', permissions: AGENT_PROFILE },
    ],
    skills: [
      { id: SKILL.callbacks, name: 'Callbacks', mediaType: 'Phone', direction: 'Outbound' },
      { id: SKILL.chat, name: 'Chat support', mediaType: 'Chat', direction: 'Inbound' },
      { id: SKILL.hotline, name: 'Hotline', mediaType: 'Phone', direction: 'Inbound' },
      { id: SKILL.retired, name: 'Old callbacks', mediaType: 'Phone', direction: 'Outbound', active: false },
      { id: SKILL.later, name: 'Later callbacks', mediaType: 'Phone', direction: 'Outbound' },
    ],
    agents: [
      { id: AGENT.admin, username: 'ana', securityProfile: 'Admin', timeZone: 'Europe/Madrid' },
      { id: AGENT.supervisor, username: 'sam', securityProfile: 'Supervisor' },
      { id: AGENT.reader, username: 'rita', securityProfile: 'Reader' },
      { id: AGENT.none, username: 'nico' },
      { id: AGENT.mixed1, username: 'mia', securityProfile: 'Mixed 1' },
      { id: AGENT.mixed2, username: 'max', securityProfile: 'Mixed 2' },
      { id: AGENT.mixed3, username: 'mo', securityProfile: 'Mixed 3' },
      {
        id: AGENT.caller,
        username: 'cora',
        state: 'Unavailable',
        skills: [SKILL.callbacks],
        securityProfile: 'Agent',
      },
      {
        id: AGENT.chatter,
        username: 'dan',
        state: 'Unavailable',
        skills: [SKILL.chat],
        securityProfile: 'Agent',
      },
      { id: AGENT.spare, username: 'spare', state: 'Unavailable' },
      { id: AGENT.retired, username: 'old', active: false, skills: [SKILL.callbacks] },
    ],
    contacts: [{ id: 5001, mediaType: 'Generic', state: 'Active' }],
    callbacks: [
      {
        firstName: 'Seeded',
        lastName: 'Callback',
        phoneNumber: '+4930901820',
        skillId: SKILL.later,
        scheduleDate: dayAfterTomorrow,
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------
// Processes

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['SWITCHBOARD_DB', 'SWITCHBOARD_DEBUG', 'LOG_LEVEL', 'PORT']) delete env[name];
  return env;
}

async function cliOk(args: string[]): Promise<string> {
  const r = await cli(args);
  if (r.status !== 0) {
    throw new Error(`switchboard ${args.join(' ')} exited ${r.status}: ${r.stderr}${r.stdout}`);
  }
  return r.stdout;
}

/**
 * Runs `work` over `items`, at most `limit` at once. After a failure it starts nothing new, and it
 * rejects only once every started job has finished (so that nothing still writes to what the
 * caller then removes).
 */
async function pool<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failed = false;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (!failed) {
      const i = next++;
      if (i >= items.length) return;
      try {
        results[i] = await work(items[i] as T);
      } catch (e) {
        failed = true;
        throw e;
      }
    }
  });
  const settled = await Promise.allSettled(lanes);
  const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (rejected) throw rejected.reason;
  return results;
}

// ---------------------------------------------------------------------------------------------
// The server

export interface ApiServer {
  kind: DatabaseKind;
  /** `http://127.0.0.1:PORT`, as `serve` printed it. */
  url: string;
  /** Bearer tokens by agent key (only those asked for). */
  tokens: Partial<Record<TokenKey, string>>;
  /** A token of the admin agent that was revoked before the server started ('' when not asked for). */
  revokedToken: string;
  /** The first (seeded) callback's ID. */
  seededCallbackId: number;
  /** The serve process has not exited. */
  alive(): boolean;
  /** What the serve process wrote (stdout and stderr; bounded). */
  output(): string;
  /** Sends `request` to this server. */
  request(request: ApiRequest): Promise<ApiResponse>;
  /** A token by key; throws when it was not created. */
  token(key: TokenKey): string;
  /** SIGTERM, waits for the exit, drops the database. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartOptions {
  /** Agents to create tokens for (each a `token create` process, ~0.5 s of CPU). Default: every one. */
  tokens?: TokenKey[];
  /** Also create a token for the admin agent and revoke it (`revokedToken`). Default true. */
  revoked?: boolean;
  /** Deploy the relay script with `switchboard deploy`. Default true. */
  deploy?: boolean;
}

/**
 * A real `switchboard serve` process over a fresh database (SQLite file or PostgreSQL database)
 * seeded with `apiWorld()`, the `relay` script deployed, and tokens created with the CLI.
 */
export async function startApiServer(kind: DatabaseKind, options: StartOptions = {}): Promise<ApiServer> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-api-'));
  const db = await freshDatabase(kind);
  try {
    const world = join(dir, 'world.json');
    writeFileSync(world, JSON.stringify(apiWorld(), null, 2));
    const script = join(dir, 'relay.json');
    writeFileSync(script, JSON.stringify(relayScript(), null, 2));
    await cliOk(['seed', '--world', world, '--db', db.url]);

    const keys = options.tokens ?? ALL_TOKEN_KEYS;
    const revoke = options.revoked ?? true;
    const tokens: Partial<Record<TokenKey, string>> = {};
    const jobs: Array<TokenKey | 'revoked' | 'deploy'> = [
      ...(options.deploy === false ? [] : ['deploy' as const]),
      ...keys,
      ...(revoke ? ['revoked' as const] : []),
    ];
    // PostgreSQL takes the CLI processes at once. SQLite one at a time: two CLI processes on one
    // file can fail with "database is locked" (a deferred transaction upgraded to a write under
    // WAL does not wait for the busy timeout; a bug reported with these tests).
    const created = await pool(jobs, kind === 'postgres' ? 3 : 1, async (key) => {
      if (key === 'deploy') return cliOk(['deploy', script, '--db', db.url]);
      const agent = key === 'revoked' ? AGENT.admin : agentOf(key);
      const out = await cliOk(['token', 'create', '--agent', String(agent), '--label', key, '--db', db.url]);
      return out.trim();
    });
    let revokedToken = '';
    jobs.forEach((key, i) => {
      if (key === 'revoked') revokedToken = created[i] as string;
      else if (key !== 'deploy') tokens[key] = created[i] as string;
    });
    if (revoke) await cliOk(['token', 'revoke', revokedToken, '--db', db.url]);

    const server = await spawnServe(kind, db, tokens, revokedToken);
    return {
      ...server,
      async stop() {
        try {
          return await server.stop();
        } finally {
          await db.drop();
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (e) {
    await db.drop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

async function spawnServe(
  kind: DatabaseKind,
  db: TestDatabase,
  tokens: Partial<Record<TokenKey, string>>,
  revokedToken: string,
): Promise<ApiServer> {
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--db', db.url, '--port', '0', '--host', '127.0.0.1', '--log-level', 'warn'],
    { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.add(child);
  let output = '';
  const keep = (chunk: string) => {
    output += chunk;
    if (output.length > 2_000_000) output = output.slice(-1_000_000);
  };
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  let running = true;
  void exited.then(() => {
    running = false;
  });
  child.stderr?.setEncoding('utf8').on('data', keep);
  child.stdout?.setEncoding('utf8');
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      void exited.then(() => reject(new Error(`serve printed no URL within 20 s: ${output}`)));
    }, 20_000);
    const onData = (chunk: string) => {
      keep(chunk);
      const m = /Switchboard is running at (http:\/\/\S+)/.exec(output);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code ?? signal}) before it listened: ${output}`));
    });
  }).catch(async (e: unknown) => {
    await exited;
    throw e;
  });

  const client = createClient(url);
  let firstId = 1;
  try {
    const seeded = await client.request({
      path: '/api/v1/scheduled-callbacks?limit=1',
      token: tokens.admin ?? '',
    });
    firstId = (seeded.json as { items?: Array<{ id: number }> } | undefined)?.items?.[0]?.id ?? 1;
  } catch (e) {
    client.close();
    child.kill('SIGKILL');
    await exited;
    throw e;
  }
  return {
    kind,
    url,
    tokens,
    revokedToken,
    seededCallbackId: firstId,
    alive: () => running,
    output: () => output,
    request: (r) => client.request(r),
    token(key) {
      const t = tokens[key];
      if (!t) throw new Error(`no token was created for ${key}`);
      return t;
    },
    async stop() {
      client.close();
      if (running) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const exit = await exited;
      clearTimeout(timer);
      return exit;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// HTTP over a socket

export interface ApiRequest {
  method?: string;
  /** Path and query, sent as given (not normalised). */
  path: string;
  /** A bearer token (sent as `Authorization: Bearer …`); null or absent: none. */
  token?: string | null;
  /** Serialised as JSON (with content-type application/json unless `headers` has one). */
  body?: unknown;
  /** Sent as the exact bytes; no content-type is added. */
  raw?: string | Buffer;
  headers?: OutgoingHttpHeaders;
  timeoutMs?: number;
}

export interface ApiResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  json: unknown;
}

export function createClient(base: string) {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const target = new URL(base);
  return {
    request(req: ApiRequest): Promise<ApiResponse> {
      const headers: OutgoingHttpHeaders = { ...req.headers };
      let payload: Buffer | undefined;
      if (req.raw !== undefined) {
        payload = Buffer.isBuffer(req.raw) ? req.raw : Buffer.from(req.raw, 'utf8');
      } else if (req.body !== undefined) {
        payload = Buffer.from(JSON.stringify(req.body), 'utf8');
        const hasType = Object.keys(headers).some((h) => h.toLowerCase() === 'content-type');
        if (!hasType) headers['content-type'] = 'application/json';
      }
      if (payload !== undefined) headers['content-length'] = payload.length;
      if (req.token) headers.authorization = `Bearer ${req.token}`;
      return send(req, headers, payload, 3);
    },
    close: () => agent.destroy(),
  };

  function send(
    req: ApiRequest,
    headers: OutgoingHttpHeaders,
    payload: Buffer | undefined,
    retries: number,
  ): Promise<ApiResponse> {
    return new Promise((resolve, reject) => {
      const r = httpRequest(
        {
          agent,
          host: target.hostname,
          port: target.port,
          method: req.method ?? (payload === undefined ? 'GET' : 'POST'),
          path: req.path,
          headers,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = text === '' ? undefined : JSON.parse(text);
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
          });
        },
      );
      r.setTimeout(req.timeoutMs ?? 10_000, () => r.destroy(new Error(`no answer to ${req.path}`)));
      r.on('error', (e: NodeJS.ErrnoException) => {
        // A kept-alive socket the server closed meanwhile (it closes after a parse error): once
        // more, as Node's documentation advises. A fresh socket failing is the server's failure.
        if (retries > 0 && r.reusedSocket && (e.code === 'ECONNRESET' || e.message === 'socket hang up')) {
          send(req, headers, payload, retries - 1).then(resolve, reject);
        } else reject(e);
      });
      r.end(payload);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// What every answer must be

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
