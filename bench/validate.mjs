#!/usr/bin/env node
// Validator cost per KB on hostile scripts. Run after `npm run build`: `npm run bench:validate`.
// Builds scripts of growing size from several hostile shapes (dangling branch targets that look
// like action ids, long ids, orphaned layout entries, unknown names, duplicate keys, long literals,
// many actions) and times what `POST /scripts/{name}/validate` does with a body: re-serialise it
// (as the route does) and validate the text. For each size: CPU ms (median of REPEAT), ms per KB
// of the compact body, PASS/FAIL against BOUND_MS_PER_KB, the fastest wall time, and the peer from
// the same run: only reading the body (JSON.parse, pretty-print, JSON.parse again). CPU time, not
// wall time, decides: on a shared machine the wall clock measures the neighbours. Sizes past the
// script size limit (or the action limit) show what refusing costs.
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { actions } from '../dist/actions/registry.js';
import { MAX_SCRIPT_BYTES, validateScriptText } from '../dist/script/validate.js';
import { fmt, log } from './support.mjs';

/** The bound each size must meet, in milliseconds per KB of compact JSON. */
const BOUND_MS_PER_KB = Number(process.env.BOUND_MS_PER_KB ?? 2);
/** Sizes in KB: the API's body limit is 64; files may be larger. */
const SIZES_KB = (process.env.SIZES_KB ?? '8,16,32,64,128,256,512,1100').split(',').map(Number);
const SHAPES = process.env.SHAPES?.split(',');
/** Timed repetitions per size (the median counts), after two warm-up runs. */
const REPEAT = Number(process.env.REPEAT ?? 7);

// A fixed pseudo-random sequence: every run builds the same scripts.
let seed = 42;
const random = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
  return seed / 2_147_483_648;
};
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const word = (length) => Array.from({ length }, () => ALPHABET[Math.floor(random() * 36)]).join('');
/** `text` with a few characters changed: close enough to `text` that a hint is worth looking for. */
const typo = (text) => {
  const chars = [...text];
  for (let k = 0; k < 3; k++) chars[Math.floor(random() * chars.length)] = 'Z';
  return chars.join('');
};

/** Adds actions from `make(i)` until the compact JSON reaches `kb` KB. */
function grow(kb, make, extra = () => ({})) {
  const script = { name: 'hostile', mediaType: 'Generic', actions: [], ...extra() };
  let size = JSON.stringify(script).length;
  for (let i = 0; size < kb * 1024; i++) {
    const action = make(i, script);
    script.actions.push(action);
    size += JSON.stringify(action).length + 1;
  }
  return script;
}

const begin = { id: 'begin', action: 'BEGIN', branches: { Default: 'a0' } };

const SHAPE_BUILDERS = {
  // The reported attack: every action branches to ids no action has, each as long as and close
  // to the real ids, so every finding's hint compares against every id.
  'dangling-targets': (kb) => {
    const ids = [];
    return grow(kb, (i) => {
      if (i === 0) return begin;
      const id = word(64);
      ids.push(id);
      const near = ids[Math.floor(random() * ids.length)];
      return {
        id,
        action: 'IF',
        properties: { Expression: 'true' },
        branches: { True: typo(near), False: `${typo(near)}${word(20)}` },
      };
    });
  },
  // Short numeric ids, every branch dangling: many findings, many candidates.
  'dangling-short': (kb) =>
    grow(kb, (i) =>
      i === 0 ? begin : { id: String(i), action: 'END', branches: { Default: String(i + 100_000) } },
    ),
  // Ids over the length limit (each an error) that branches point at.
  'long-ids': (kb) =>
    grow(kb, (i) => (i === 0 ? begin : { id: word(200), action: 'WAIT', branches: { Default: word(190) } })),
  // Layout entries for no action, each close to a real id.
  'layout-orphans': (kb) => {
    const script = grow(
      kb / 4,
      (i) => (i === 0 ? begin : { id: word(60), action: 'END' }),
      () => ({ layout: {} }),
    );
    const ids = script.actions.map((a) => a.id);
    let size = JSON.stringify(script).length;
    while (size < kb * 1024) {
      const key = typo(ids[Math.floor(random() * ids.length)]);
      script.layout[key] = { x: 1, y: 2 };
      size += key.length + 20;
    }
    return script;
  },
  // Unknown fields, properties, branch names and actions, with names close to real ones.
  'unknown-names': (kb) =>
    grow(kb, (i) => ({
      id: String(i),
      action: i % 2 ? 'KILLCONTCAT' : `KILLCONTACT${word(40)}`,
      captoin: 'x',
      properties: { ContactId: '1', [`SecurityUsr${word(30)}`]: 'x', Foo: 'y' },
      branches: { OnSucess: '1', [`OnInvalidContact${word(30)}`]: '1', Defualt: '1' },
    })),
  // Every action writes each key twice: a finding per duplicate, located in the file.
  'duplicate-keys': (kb) => grow(kb, (i) => (i === 0 ? begin : { id: String(i), action: 'END' })),
  // Long literal values the actions check: phone numbers, dates, expressions, skill ids.
  'long-literals': (kb) =>
    grow(kb, (i) =>
      i === 0
        ? begin
        : {
            id: String(i),
            action: 'PRMS_CREATE',
            properties: {
              PhoneNumber: `+${'4'.repeat(300)}`,
              SkillId: 'x'.repeat(200),
              ScheduleDate: `2026-${'1'.repeat(200)}`,
              TargetAgentId: 'ben'.repeat(50),
            },
            branches: { Default: String(i + 1) },
          },
    ),
  // A well-formed script: a long chain of ASSIGNs (what a big real script costs).
  'many-actions': (kb) =>
    grow(kb, (i) =>
      i === 0
        ? begin
        : {
            id: `a${i - 1}`,
            action: 'ASSIGN',
            caption: `step ${i}`,
            properties: { Variable: `v${i}`, Value: `{v${i - 1}} and more`, Type: 'String' },
            branches: { Default: `a${i}` },
          },
    ),
};

/** The compact body: JSON.stringify, except `duplicate-keys`, whose keys JSON cannot hold twice. */
function compact(shape, script) {
  const text = JSON.stringify(script);
  if (shape !== 'duplicate-keys') return text;
  return text.replace(/"action":"END"/g, '"action":"END","action":"END","caption":"a","caption":"b"');
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** What the validate route does with a parsed body: pretty-print it, then validate the text. */
function validateBody(body) {
  return validateScriptText(JSON.stringify(JSON.parse(body), null, 2), actions).findings;
}

/** The peer: reading the body and its pretty-printed text, and nothing else. */
function readBody(body) {
  return JSON.parse(JSON.stringify(JSON.parse(body), null, 2));
}

/** Median CPU ms and fastest wall ms of REPEAT runs of `work` (after two warm-up runs), and its last result. */
function measure(work) {
  work();
  let result = work();
  const walls = [];
  const cpus = [];
  for (let r = 0; r < REPEAT; r++) {
    const cpu = process.cpuUsage();
    const start = performance.now();
    result = work();
    walls.push(performance.now() - start);
    const used = process.cpuUsage(cpu);
    cpus.push((used.user + used.system) / 1000);
  }
  return { ms: median(cpus), wall: Math.min(...walls), result };
}

log(
  `validator cost per KB of compact body; bound ${BOUND_MS_PER_KB} ms/KB; script size limit ${fmt(MAX_SCRIPT_BYTES / 1024)} KiB of text; load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
// Warm-up: every shape validated a few times, so that compiling the validator is not timed.
for (const [shape, build] of Object.entries(SHAPE_BUILDERS)) {
  const body = compact(shape, build(8));
  for (let i = 0; i < 10; i++) validateBody(body);
}
const rows = [];
let failed = 0;
for (const [shape, build] of Object.entries(SHAPE_BUILDERS)) {
  if (SHAPES && !SHAPES.includes(shape)) continue;
  for (const kb of SIZES_KB) {
    const body = compact(shape, build(kb));
    const { ms, wall, result: findings } = measure(() => validateBody(body));
    const peer = measure(() => readBody(body));
    const perKb = ms / (body.length / 1024);
    const pass = perKb <= BOUND_MS_PER_KB;
    if (!pass) failed++;
    const row = {
      shape,
      kb: body.length / 1024,
      ms,
      wall,
      perKb,
      peer: peer.ms,
      findings: findings.length,
      pass,
    };
    rows.push(row);
    log(
      `${shape.padEnd(17)} ${fmt(row.kb, 0).padStart(5)} KB  ${fmt(ms, 1).padStart(6)} ms CPU  ${fmt(perKb, 3).padStart(6)} ms/KB  ${pass ? 'PASS' : 'FAIL'}  ${fmt(wall, 1).padStart(6)} ms wall  peer ${fmt(peer.ms, 1).padStart(5)} ms (x${fmt(ms / peer.ms, 1)})  ${String(row.findings).padStart(3)} findings: ${(findings.at(-1)?.message ?? '').slice(0, 50)}`,
    );
  }
}
log(
  `${failed === 0 ? 'PASS' : 'FAIL'}: ${rows.length - failed}/${rows.length} sizes within ${BOUND_MS_PER_KB} ms/KB; worst ${fmt(Math.max(...rows.map((r) => r.perKb)), 3)} ms/KB; load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
process.exitCode = failed === 0 ? 0 : 1;
