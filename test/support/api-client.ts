import { Agent, request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import type { InjectOptions } from 'fastify';
import type { App } from '../../src/http/app.js';

export interface ApiRequest {
  method?: string;
  /** Path and query, sent as given (not normalised) over a socket; inject parses it as a URL. */
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

/** One way to reach the API; the tests' requests and assertions do not depend on which. */
export interface ApiClient {
  request(request: ApiRequest): Promise<ApiResponse>;
  close(): void;
}

/** The method, headers and bytes of `req`, the same for every transport. */
function encode(req: ApiRequest) {
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
  return { method: req.method ?? (payload === undefined ? 'GET' : 'POST'), headers, payload };
}

function decode(status: number, headers: IncomingHttpHeaders, body: Buffer): ApiResponse {
  const text = body.toString('utf8');
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status, headers, text, json };
}

/**
 * The app in this process, through Fastify's `inject`: the same routing, hooks, parsers and error
 * handler as over a socket, without Node's HTTP parser. So it cannot send what that parser refuses
 * (an unknown method, raw non-ASCII in the path, oversized headers), and it normalises the path as
 * a URL (`/a/../b` arrives as `/b`): requests that need those go through `socketClient`.
 */
export function injectClient(app: App): ApiClient {
  return {
    async request(req) {
      const { method, headers, payload } = encode(req);
      const injected = app.inject({
        method: method as InjectOptions['method'],
        url: req.path,
        headers,
        ...(payload === undefined ? {} : { payload }),
      });
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer to ${req.path}`)), req.timeoutMs ?? 10_000);
      });
      try {
        const res = await Promise.race([injected, timeout]);
        const received: IncomingHttpHeaders = {};
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) received[name] = typeof value === 'number' ? String(value) : value;
        }
        return decode(res.statusCode, received, res.rawPayload);
      } finally {
        clearTimeout(timer);
      }
    },
    close: () => {},
  };
}

/** A server listening at `base` (`http://host:port`), over kept-alive sockets. */
export function socketClient(base: string): ApiClient {
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const target = new URL(base);
  return {
    request(req) {
      const { method, headers, payload } = encode(req);
      return send(req, method, headers, payload, 3);
    },
    close: () => agent.destroy(),
  };

  function send(
    req: ApiRequest,
    method: string,
    headers: OutgoingHttpHeaders,
    payload: Buffer | undefined,
    retries: number,
  ): Promise<ApiResponse> {
    return new Promise((resolve, reject) => {
      const r = httpRequest(
        { agent, host: target.hostname, port: target.port, method, path: req.path, headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => resolve(decode(res.statusCode ?? 0, res.headers, Buffer.concat(chunks))));
        },
      );
      r.setTimeout(req.timeoutMs ?? 10_000, () => r.destroy(new Error(`no answer to ${req.path}`)));
      r.on('error', (e: NodeJS.ErrnoException) => {
        // A kept-alive socket the server closed meanwhile (it closes after a parse error): once
        // more, as Node's documentation advises. A fresh socket failing is the server's failure.
        if (retries > 0 && r.reusedSocket && (e.code === 'ECONNRESET' || e.message === 'socket hang up')) {
          send(req, method, headers, payload, retries - 1).then(resolve, reject);
        } else reject(e);
      });
      r.end(payload);
    });
  }
}
