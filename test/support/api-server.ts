import { pino } from 'pino';
import { actions } from '../../src/actions/registry.js';
import { systemClock } from '../../src/clock.js';
import { createPlatform, type Platform } from '../../src/platform/platform.js';
import { startServer } from '../../src/serve.js';
import {
  type ApiClient,
  type ApiRequest,
  type ApiResponse,
  injectClient,
  socketClient,
} from './api-client.js';
import { AGENT, ALL_TOKEN_KEYS, agentOf, apiWorld, relayScript, type TokenKey } from './api-world.js';
import type { StoreKind } from './stores.js';

export interface ApiServer {
  /** Bearer tokens by agent key (only those asked for). */
  tokens: Partial<Record<TokenKey, string>>;
  /** A token of the admin agent that was revoked before the server started ('' when not asked for). */
  revokedToken: string;
  /** The first (seeded) callback's ID. */
  seededCallbackId: number;
  /** Sends `request` to the app in this process (`app.inject`). */
  request(request: ApiRequest): Promise<ApiResponse>;
  /**
   * Sends `request` over a real socket, through Node's HTTP parser: for what inject cannot send
   * (see injectClient). The app listens on a free port of 127.0.0.1 from the first such request.
   */
  overSocket(request: ApiRequest): Promise<ApiResponse>;
  /** What the server logged at warn and above (as `serve --log-level warn` writes it; bounded). */
  output(): string;
  /** A token by key; throws when it was not created. */
  token(key: TokenKey): string;
  /** Stops the server (HTTP, scheduler), then closes and drops the store. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Agents to create tokens for. Default: every one. */
  tokens?: TokenKey[];
  /** Also create a token for the admin agent and revoke it (`revokedToken`). Default true. */
  revoked?: boolean;
  /** Deploy the relay script. Default true. */
  deploy?: boolean;
}

/** The operator's work before `serve`, done as the CLI does it (`seed`, `deploy`, `token create`). */
const CLI = { channel: 'cli' } as const;

/**
 * The server `switchboard serve` runs (platform, script-run worker, scheduler, HTTP API), in this
 * process from src/, over a fresh store of `kind` seeded with `apiWorld()`, the `relay` script
 * deployed, and tokens created through the platform. Requests go through `app.inject`, or over a
 * socket when they must; test/api-process.test.ts covers the compiled CLI serving the same API.
 */
export async function startApiServer(kind: StoreKind, options: StartOptions = {}): Promise<ApiServer> {
  const store = await kind.open();
  try {
    const prepared = await prepare(createPlatform({ store, clock: systemClock }), options);
    const log = capturedLog();
    const server = await startServer({ store, log: log.logger, unbound: true });
    const app = server.app;
    if (!app) throw new Error('startServer built no HTTP API');
    const injected = injectClient(app);
    let socket: Promise<ApiClient> | undefined;
    const listen = async () => {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const address = app.server.address();
      if (typeof address !== 'object' || !address) throw new Error('the app listens on no port');
      return socketClient(`http://127.0.0.1:${address.port}`);
    };
    return {
      ...prepared,
      request: (r) => injected.request(r),
      async overSocket(r) {
        socket ??= listen();
        return (await socket).request(r);
      },
      output: log.output,
      token(key) {
        const t = prepared.tokens[key];
        if (!t) throw new Error(`no token was created for ${key}`);
        return t;
      },
      async stop() {
        try {
          (await socket?.catch(() => undefined))?.close();
          await server.stop();
        } finally {
          await store.close();
        }
      },
    };
  } catch (e) {
    await store.close().catch(() => {});
    throw e;
  }
}

/** Seeds the world, deploys the relay script, creates (and revokes) the tokens asked for. */
async function prepare(platform: Platform, options: StartOptions) {
  const loaded = await platform.loadWorld(apiWorld());
  if (!loaded.ok) throw new Error(`the API world does not load: ${loaded.message}`);
  if (options.deploy !== false) {
    const deployed = await platform.deployScript(JSON.stringify(relayScript(), null, 2), actions, CLI);
    if (!deployed.ok) throw new Error(`the relay script does not deploy: ${deployed.message}`);
  }
  const create = async (agentId: number, label: string) => {
    const created = await platform.createToken(agentId, label, CLI);
    if (!created.ok) throw new Error(`no token for agent ${agentId}: ${created.message}`);
    return created.value.token;
  };
  const tokens: Partial<Record<TokenKey, string>> = {};
  for (const key of options.tokens ?? ALL_TOKEN_KEYS) tokens[key] = await create(agentOf(key), key);
  let revokedToken = '';
  if (options.revoked ?? true) {
    revokedToken = await create(AGENT.admin, 'revoked');
    const revoked = await platform.revokeToken(revokedToken, CLI);
    if (!revoked.ok) throw new Error(`the token was not revoked: ${revoked.message}`);
  }
  const read = await platform.read.callbacks({ limit: 1 }, CLI);
  const [seeded] = read.ok ? read.value : [];
  return { tokens, revokedToken, seededCallbackId: seeded?.id ?? 1 };
}

/** A pino logger like serve's at `--log-level warn`, writing into memory for `output()`. */
function capturedLog() {
  let output = '';
  const logger = pino(
    { level: 'warn', base: { pid: process.pid } },
    {
      write(line: string) {
        output += line;
        if (output.length > 2_000_000) output = output.slice(-1_000_000);
      },
    },
  );
  return { logger, output: () => output };
}
