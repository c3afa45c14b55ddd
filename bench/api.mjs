#!/usr/bin/env node
// HTTP API under load. Run after `npm run build`: `npm run bench:api` (QUICK=1 for a short run,
// under half a minute). Each database gets a fresh store, a seeded world (one outbound Phone skill
// for callbacks, one inbound Chat skill, a supervisor agent, 1001, with callbacks:write and
// contacts:end, Unavailable so that routing stays out of the measurement), CONTACTS open contacts
// (half Queued with their queue entries, half Active without an agent) inserted with SQL, a bearer
// token from `switchboard token create`, and one `switchboard serve` child process. Against that
// one server, in the same run, autocannon (programmatic, in this process) drives for DURATION_S
// each, after WARMUP_S of the same requests:
//   GET  /health                           the peer: the cheapest request that touches the database
//   POST /api/v1/scheduled-callbacks        every body distinct (phone numbers, names, due times
//                                          tomorrow as an instant, as wall-clock in the actor's zone
//                                          and as wall-clock in America/New_York)
//   POST /api/v1/contacts/{id}/end          every request a different open contact: every 200 is a
//                                          real end; a 409 means the CONTACTS pool ran out
// and prints requests/s, p50/p99 latency, 2xx / non-2xx / errors, and the ratios to /health.
// Target: callback creation >= 50% of /health's requests/s on SQLite. Afterwards the database is
// checked: callbacks created and contacts ended against the 2xx autocannon counted.
//
// SQLite always (a temp file; SQLITE=0 skips it); PostgreSQL too when DB=postgres://user@host:port
// (the server; it creates and drops its own bench_api_* database). Sizes: DURATION_S, WARMUP_S,
// CONNECTIONS, CONTACTS; ROUNDS=n repeats the endpoints in turn and prints medians (a shared machine
// is noisy: the load average is printed); ENDPOINTS=health,callbacks,end picks endpoints (health is
// always run: the ratios need it). CPU_PROF=dir runs `serve` under `node --cpu-prof --cpu-prof-dir=dir`.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { CLI, cli, createResources, fmt, log, ROOT } from './support.mjs';

const env = process.env;
const QUICK = env.QUICK === '1';
const num = (name, fallback) => {
  const v = env[name] === undefined || env[name] === '' ? fallback : Number(env[name]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} must be a non-negative number`);
  return v;
};
const DURATION_S = num('DURATION_S', QUICK ? 2 : 10);
const WARMUP_S = num('WARMUP_S', QUICK ? 1 : 2);
const CONNECTIONS = num('CONNECTIONS', 20);
const CONTACTS = num('CONTACTS', QUICK ? 20_000 : 100_000);
const ROUNDS = Math.max(1, Math.round(num('ROUNDS', 1)));
const PG_URL = env.DB?.startsWith('postgres') ? env.DB.replace(/\/+$/, '') : undefined;
if (env.DB && !PG_URL) throw new Error(`DB must be a postgres:// server URL (SQLite always runs): ${env.DB}`);
const WITH_SQLITE = env.SQLITE !== '0';
const ALL = ['health', 'callbacks', 'end'];
const ENDPOINTS = new Set(['health', ...(env.ENDPOINTS ?? ALL.join(',')).split(',').filter(Boolean)]);
for (const e of ENDPOINTS) if (!ALL.includes(e)) throw new Error(`unknown endpoint ${e} (${ALL})`);
const CPU_PROF = env.CPU_PROF ? resolve(env.CPU_PROF) : undefined;
const TARGET = 0.5;

const CALLBACK_SKILL = 2001;
const CHAT_SKILL = 2002;
const SUPERVISOR = 1001;
const WORLD = {
  businessUnit: { name: 'Bench', timeZone: 'UTC', defaultCountry: 'US' },
  securityProfiles: [{ name: 'Supervisor', permissions: ['callbacks:write', 'contacts:end'] }],
  skills: [
    { id: CALLBACK_SKILL, name: 'Callbacks', mediaType: 'Phone', direction: 'Outbound' },
    { id: CHAT_SKILL, name: 'Chat', mediaType: 'Chat', direction: 'Inbound' },
  ],
  agents: [
    { id: SUPERVISOR, username: 'sofia', state: 'Unavailable', skills: [], securityProfile: 'Supervisor' },
  ],
};

const { tmp, databases, adminClient, cleanup, track, stop } = createResources('bench/api', PG_URL);

/** `switchboard serve` on a free port; resolves with its URL once it says it is running. */
async function serve(db) {
  const nodeArgs = CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`] : [];
  if (CPU_PROF) mkdirSync(CPU_PROF, { recursive: true });
  const child = spawn(
    process.execPath,
    [...nodeArgs, CLI, 'serve', '--db', db, '--port', '0', '--host', '127.0.0.1', '--log-level', 'warn'],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  track(child);
  let banner = '';
  const url = await new Promise((ready, failed) => {
    const timer = setTimeout(() => failed(new Error(`serve did not start in 20 s: ${child.output}`)), 20_000);
    child.stdout.on('data', (d) => {
      banner += d;
      const m = /running at (http:\/\/\S+)/.exec(banner);
      if (m) {
        clearTimeout(timer);
        ready(m[1]);
      }
    });
    child.exited.then(({ code, signal }) => {
      clearTimeout(timer);
      failed(new Error(`serve exited early (${code ?? signal}): ${child.output}`));
    });
  });
  child.stdout.resume();
  return { child, url };
}

// --- databases ------------------------------------------------------------------------------------

/** Seeds the world with the CLI, inserts the open contacts, and creates the supervisor's token. */
async function prepare(db, insertContacts) {
  const world = join(tmp, 'world.json');
  writeFileSync(world, JSON.stringify(WORLD));
  cli(['seed', '--world', world, '--db', db]);
  const t = performance.now();
  const ids = await insertContacts(CONTACTS, Date.now());
  log(`  ${fmt(ids.length)} open contacts inserted in ${fmt((performance.now() - t) / 1000, 1)} s`);
  const token = cli([
    'token',
    'create',
    '--agent',
    String(SUPERVISOR),
    '--label',
    'bench',
    '--db',
    db,
  ]).trim();
  if (!/^sb_\S+$/.test(token)) throw new Error(`token create printed ${token}`);
  return { ids, token };
}

function sqliteContacts(path) {
  return async (count, now) => {
    const db = new SqliteDatabase(path);
    try {
      const contact = db.prepare(
        `insert into contacts (master_id, media_type, direction, state, skill_id, agent_id, target_agent_id,
           phone_number, ani, dnis, disconnect_reason, callback_id, created_at, updated_at, ended_at)
         values (null, 'Chat', 'Inbound', ?, ?, null, null, null, null, null, null, null, ?, ?, null)`,
      );
      const entry = db.prepare(
        `insert into queue_entries (contact_id, skill_id, target_agent_id, target_until, priority, queued_at)
         values (?, ?, null, null, 0, ?)`,
      );
      db.transaction(() => {
        for (let i = 0; i < count; i++) {
          const queued = i % 2 === 0;
          const { lastInsertRowid } = contact.run(queued ? 'Queued' : 'Active', CHAT_SKILL, now, now);
          if (queued) entry.run(lastInsertRowid, CHAT_SKILL, now);
        }
      })();
      db.pragma('wal_checkpoint(TRUNCATE)');
      return db
        .prepare(`select id from contacts where state <> 'Ended' order by id`)
        .all()
        .map((r) => Number(r.id));
    } finally {
      db.close();
    }
  };
}

function pgContacts(url) {
  return async (count, now) => {
    const c = new pg.Client({ connectionString: url });
    c.on('error', () => {}); // the database dropped under it (cleanup after a failure)
    await c.connect();
    try {
      await c.query('begin');
      await c.query(
        `insert into contacts (master_id, media_type, direction, state, skill_id, agent_id, target_agent_id,
           phone_number, ani, dnis, disconnect_reason, callback_id, created_at, updated_at, ended_at)
         select null, 'Chat', 'Inbound', case when g % 2 = 0 then 'Queued' else 'Active' end, $2, null, null,
                null, null, null, null, null, $3, $3, null
           from generate_series(0, $1::int - 1) g order by g`,
        [count, CHAT_SKILL, now],
      );
      await c.query(
        `insert into queue_entries (contact_id, skill_id, target_agent_id, target_until, priority, queued_at)
         select id, skill_id, null, null, 0, $1 from contacts where state = 'Queued'`,
        [now],
      );
      await c.query('commit');
      await c.query('vacuum analyze');
      const { rows } = await c.query(`select id from contacts where state <> 'Ended' order by id`);
      return rows.map((r) => Number(r.id));
    } finally {
      await c.end();
    }
  };
}

// --- requests -------------------------------------------------------------------------------------

const TOMORROW = Date.now() + 86_400_000;
let callbackSeq = 0;

/** A valid, distinct Schedule Callback body: due tomorrow, in one of three date forms. */
function callbackBody() {
  const i = callbackSeq++;
  const line = 2_000_000 + ((i * 7_919) % 8_000_000); // +1 202 NXX-XXXX, N = 2..9
  const digits = String(line);
  const due = new Date(TOMORROW + (i % 86_400) * 1000).toISOString();
  const form = i % 3;
  return JSON.stringify({
    firstName: 'Bench',
    lastName: `Caller ${i}`,
    phoneNumber: i % 2 === 0 ? `+1202${digits}` : `(202) ${digits.slice(0, 3)}-${digits.slice(3)}`,
    skillId: CALLBACK_SKILL,
    // An instant; wall-clock in the actor's zone (the BU's, UTC); wall-clock in a named zone.
    scheduleDate: form === 0 ? due : due.slice(0, 16),
    ...(form === 2 ? { timeZone: 'America/New_York' } : {}),
    notes: `bench ${i}`,
  });
}

function endpointRequests(name, token, contactIds) {
  const auth = { authorization: `Bearer ${token}` };
  const json = { ...auth, 'content-type': 'application/json' };
  if (name === 'health')
    return { label: 'GET /health (peer)', requests: [{ method: 'GET', path: '/health' }] };
  if (name === 'callbacks') {
    return {
      label: 'POST /api/v1/scheduled-callbacks',
      requests: [
        {
          method: 'POST',
          path: '/api/v1/scheduled-callbacks',
          headers: json,
          setupRequest: (req) => ({ ...req, body: callbackBody() }),
        },
      ],
    };
  }
  const body = JSON.stringify({ reason: 'BenchEnded' });
  return {
    label: 'POST /api/v1/contacts/{id}/end',
    requests: [
      {
        method: 'POST',
        headers: json,
        body,
        setupRequest: (req) => {
          // Past the pool's end the last id again: a 409, counted, and a warning below.
          const id = contactIds.ids[Math.min(contactIds.next++, contactIds.ids.length - 1)];
          return { ...req, path: `/api/v1/contacts/${id}/end` };
        },
      },
    ],
  };
}

async function cannon(url, requests, duration) {
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    pipelining: 1,
    duration,
    timeout: 10,
    requests,
  });
  if (result.errors > 0 && result.requests.total === 0) throw new Error(`every request failed: ${url}`);
  return result;
}

// --- one database ---------------------------------------------------------------------------------

async function runOne(dialect, db, insertContacts, countRows) {
  log(`${dialect}: seeding`);
  const { ids, token } = await prepare(db, insertContacts);
  const contactIds = { ids, next: 0 };
  const { child, url } = await serve(db);
  const names = ALL.filter((e) => ENDPOINTS.has(e));
  const runs = new Map(names.map((name) => [name, []]));
  let stopped;
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const name of names) {
        const { label, requests } = endpointRequests(name, token, contactIds);
        const warm = round === 1 ? WARMUP_S : 0;
        log(`${dialect}: round ${round}/${ROUNDS}: ${label}: ${warm} s warm-up, ${DURATION_S} s measured`);
        if (warm > 0) await cannon(url, requests, warm);
        runs.get(name).push({ label, r: await cannon(url, requests, DURATION_S) });
      }
    }
  } finally {
    stopped = await stop(child);
  }
  if (stopped.code !== 0 || stopped.output !== '')
    log(`${dialect}: serve exited ${stopped.code ?? stopped.signal}: ${stopped.output}`);
  const counted = await countRows();
  const load = loadavg()[0];
  return {
    load,
    rows: names.map((name) => summarize(name, runs.get(name))),
    counted,
    contactIds,
  };
}

const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** One endpoint over its rounds: medians of req/s and latencies, sums of the counts. */
function summarize(name, runs) {
  const statuses = new Map();
  for (const { r } of runs)
    for (const [status, { count }] of Object.entries(r.statusCodeStats ?? {}))
      statuses.set(status, (statuses.get(status) ?? 0) + count);
  const sum = (f) => runs.reduce((total, { r }) => total + f(r), 0);
  return {
    name,
    label: runs[0].label,
    rps: median(runs.map(({ r }) => r.requests.average)),
    p50: median(runs.map(({ r }) => r.latency.p50)),
    p99: median(runs.map(({ r }) => r.latency.p99)),
    ok: sum((r) => r['2xx']),
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors + r.timeouts),
    statuses,
  };
}

function report(title, { rows, counted, contactIds, load }, { target }) {
  console.log(`\n${title}; load average ${load.toFixed(1)} at the end`);
  const head = [
    'endpoint'.padEnd(34),
    'req/s'.padStart(8),
    'p50 ms'.padStart(7),
    'p99 ms'.padStart(7),
    '2xx'.padStart(8),
    'non-2xx'.padStart(8),
    'errors'.padStart(7),
    '  req/s ÷ health',
    'p99 ÷ health'.padStart(13),
  ];
  console.log(head.join(' '));
  const health = rows.find((x) => x.name === 'health');
  for (const x of rows) {
    console.log(
      [
        x.label.padEnd(34),
        fmt(x.rps).padStart(8),
        fmt(x.p50).padStart(7),
        fmt(x.p99).padStart(7),
        fmt(x.ok).padStart(8),
        fmt(x.non2xx).padStart(8),
        fmt(x.errors).padStart(7),
        fmt(x.rps / health.rps, 3).padStart(16),
        fmt(x.p99 / Math.max(1, health.p99), 1).padStart(13),
      ].join(' '),
    );
    const odd = [...x.statuses].filter(([s]) => !s.startsWith('2'));
    if (odd.length > 0)
      console.log(`${''.padEnd(34)} non-2xx by status: ${odd.map(([s, n]) => `${s} ×${fmt(n)}`).join(', ')}`);
  }
  const cb = rows.find((x) => x.name === 'callbacks');
  const end = rows.find((x) => x.name === 'end');
  console.log(
    `check: ${fmt(counted.callbacks)} callbacks in the database, ${fmt(counted.ended)} contacts ended (autocannon's 2xx plus warm-ups)`,
  );
  if (end && contactIds.next > contactIds.ids.length)
    console.log(
      `warning: the ${fmt(contactIds.ids.length)} open contacts ran out (409s above); raise CONTACTS`,
    );
  if (cb && target) {
    const ratio = cb.rps / health.rps;
    console.log(
      `target: callback creation >= ${TARGET * 100}% of /health req/s on SQLite: ${ratio >= TARGET ? 'target met' : 'NOT met'} (${fmt(ratio * 100, 1)}%)`,
    );
  }
}

console.log(
  `bench/api: autocannon ${CONNECTIONS} connections, ${DURATION_S} s per endpoint after ${WARMUP_S} s warm-up, ${ROUNDS} round(s) (medians), ${fmt(CONTACTS)} open contacts; node ${process.version}; latencies in whole ms`,
);
console.log(
  `load average ${loadavg()[0].toFixed(1)} on ${availableParallelism()} CPUs (autocannon shares them with serve: a busy machine makes the figures noisy)`,
);
if (WITH_SQLITE) {
  const path = join(tmp, 'bench.sqlite');
  const result = await runOne('sqlite', path, sqliteContacts(path), async () => {
    const db = new SqliteDatabase(path, { readonly: true });
    try {
      return {
        callbacks: db.prepare('select count(*) as n from scheduled_callbacks').get().n,
        ended: db.prepare(`select count(*) as n from contacts where state = 'Ended'`).get().n,
      };
    } finally {
      db.close();
    }
  });
  report('SQLite (temp file, WAL, synchronous=FULL)', result, { target: true });
}
if (PG_URL) {
  const name = `bench_api_${process.pid}`;
  const a = await adminClient();
  databases.add(name);
  await a.query(`create database "${name}"`);
  const url = `${PG_URL}/${name}`;
  const result = await runOne('postgres', url, pgContacts(url), async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const cb = await c.query('select count(*)::int as n from scheduled_callbacks');
      const ended = await c.query(`select count(*)::int as n from contacts where state = 'Ended'`);
      return { callbacks: cb.rows[0].n, ended: ended.rows[0].n };
    } finally {
      await c.end();
    }
  });
  report(`PostgreSQL (${PG_URL.replace(/:[^:@/]*@/, ':***@')}, database ${name})`, result, { target: false });
}
await cleanup();
