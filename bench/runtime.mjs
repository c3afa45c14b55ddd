#!/usr/bin/env node
// Interpreter throughput. Run after `npm run build`: `npm run bench:runtime`.
// Prints actions/s for (1) a control-flow script (ASSIGN/IF/CASE) with and without the trace,
// next to the same logic hand-written in JavaScript (the ceiling, as a ratio), and (2) a script
// of API actions (SETSECURITYUSER, PRMS_CREATE, KILLCONTACT) on in-memory SQLite.
import { actions } from '../dist/actions/registry.js';
import { createSimulatedClock } from '../dist/clock.js';
import { createPlatform } from '../dist/platform/platform.js';
import { compileScript } from '../dist/runtime/compile.js';
import { ScriptRun } from '../dist/runtime/run.js';
import { openSqliteStore } from '../dist/storage/sqlite/open-sqlite.js';

const LOOPS = 1_000;
const RUNS = Number(process.env.RUNS ?? 300);

const controlFlow = compileScript(
  {
    name: 'bench-control-flow',
    actions: [
      { id: 'begin', action: 'BEGIN', branches: { Default: 'init' } },
      {
        id: 'init',
        action: 'ASSIGN',
        properties: { Variable: 'i', Value: '0', Type: 'Numeric' },
        branches: { Default: 'inc' },
      },
      {
        id: 'inc',
        action: 'ASSIGN',
        properties: { Variable: 'i', Value: 'i + 1', Type: 'Numeric' },
        branches: { Default: 'mod' },
      },
      {
        id: 'mod',
        action: 'ASSIGN',
        properties: { Variable: 'lane', Value: 'i % 3', Type: 'Numeric' },
        branches: { Default: 'case' },
      },
      {
        id: 'case',
        action: 'CASE',
        properties: { Variable: 'lane' },
        branches: { 0: 'tag', 1: 'more', Default: 'more' },
      },
      {
        id: 'tag',
        action: 'ASSIGN',
        properties: { Variable: 'label', Value: 'lane {lane} of {i}' },
        branches: { Default: 'more' },
      },
      {
        id: 'more',
        action: 'IF',
        properties: { Expression: `i < ${LOOPS}` },
        branches: { True: 'inc', False: 'stop' },
      },
      { id: 'stop', action: 'STOP' },
    ],
  },
  actions,
);

function nativePeer() {
  // The same work without an interpreter: the ceiling the interpreter is measured against.
  const vars = new Map();
  let steps = 2;
  vars.set('i', 0);
  for (;;) {
    vars.set('i', vars.get('i') + 1);
    vars.set('lane', vars.get('i') % 3);
    steps += 4;
    if (String(vars.get('lane')) === '0') {
      vars.set('label', `lane ${vars.get('lane')} of ${vars.get('i')}`);
      steps++;
    }
    if (!(vars.get('i') < LOOPS)) break;
  }
  return steps + 1;
}

async function measure(label, runOnce) {
  for (let i = 0; i < 20; i++) await runOnce(); // warm-up
  let actionsRun = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < RUNS; i++) actionsRun += await runOnce();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const rate = actionsRun / seconds;
  console.log(`${label.padEnd(44)} ${Math.round(rate).toLocaleString('en').padStart(12)} actions/s`);
  return rate;
}

const store = await openSqliteStore(':memory:');
const clock = createSimulatedClock(Date.parse('2026-11-23T08:00:00Z'));
// As the simulator runs a script: no script_runs row, so the run is "detached" and nobody deployed
// the script (SETSECURITYUSER checks nothing against a deployer).
const platform = createPlatform({
  store,
  clock,
  scriptsActWithinDeployer: false,
  detachedRun: () => ({ runId: 'bench', scriptName: 'bench-api' }),
});
const host = { platform, wait: async () => 'continue' };

const interpreted = (trace) => async () => {
  const run = new ScriptRun(controlFlow, { id: 1 }, host, { trace, maxSteps: 1e9 });
  await run.start();
  return LOOPS * 4 + Math.floor(LOOPS / 3) + 3;
};

console.log(
  `control flow: ${RUNS} runs of ${LOOPS} loop iterations (ASSIGN, ASSIGN, CASE, IF, every third an ASSIGN)`,
);
const noTrace = await measure('interpreter, trace off', interpreted(false));
const withTrace = await measure('interpreter, trace on', interpreted(true));
const peer = await measure('peer: same logic hand-written in JS', async () => nativePeer());
console.log(
  `ratio interpreter/peer: trace off ${(noTrace / peer).toFixed(3)}, trace on ${(withTrace / peer).toFixed(3)}`,
);
console.log(
  `target >= 1,000,000 control-flow actions/s: ${noTrace >= 1e6 ? 'met' : 'NOT met'} (trace off), ${withTrace >= 1e6 ? 'met' : 'NOT met'} (trace on)`,
);

// API actions: each run authenticates, schedules a callback and ends one queued chat.
const API_RUNS = Math.min(RUNS * 10, 5_000);
await platform.loadWorld({
  now: '2026-11-23T08:00:00Z',
  businessUnit: { timeZone: 'Europe/Berlin', defaultCountry: 'DE' },
  securityProfiles: [{ name: 'Supervisor', permissions: ['contacts:end', 'callbacks:write'] }],
  skills: [
    { id: 2001, name: 'Callbacks', mediaType: 'Phone', direction: 'Outbound' },
    { id: 2002, name: 'Chat', mediaType: 'Chat', direction: 'Inbound' },
  ],
  agents: [
    { id: 1001, username: 'ana', state: 'Unavailable', skills: [2001], securityProfile: 'Supervisor' },
  ],
});
const chats = [];
for (let i = 0; i < API_RUNS + 40; i++) {
  chats.push(
    (await platform.startContact({ mediaType: 'Chat', state: 'Queued', skillId: 2002 }, { channel: 'cli' }))
      .id,
  );
}
const apiScript = compileScript(
  {
    name: 'bench-api',
    actions: [
      { id: 'begin', action: 'BEGIN', branches: { Default: 'su' } },
      { id: 'su', action: 'SETSECURITYUSER', properties: { Agent: '1001' }, branches: { Default: 'cb' } },
      {
        id: 'cb',
        action: 'PRMS_CREATE',
        properties: {
          PhoneNumber: '+49 30 1234567',
          SkillId: '2001',
          ScheduleDate: '2026-11-24T10:00',
          FirstName: 'Ana',
        },
        branches: { Success: 'kill' },
      },
      {
        id: 'kill',
        action: 'KILLCONTACT',
        properties: { ContactID: '{Stuck}' },
        branches: { OnSuccess: 'stop' },
      },
      { id: 'stop', action: 'STOP' },
    ],
  },
  actions,
);
let next = 0;
await measure('API actions (SETSECURITYUSER, PRMS_CREATE, KILLCONTACT)', async () => {
  const run = new ScriptRun(apiScript, { id: 1 }, host, { variables: { Stuck: String(chats[next++]) } });
  await run.start();
  if (run.trace[3]?.branch !== 'OnSuccess') throw new Error(`unexpected trace ${JSON.stringify(run.trace)}`);
  return 5;
});
await store.close();
