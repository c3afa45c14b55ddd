import { actions } from '../../src/actions/registry.js';
import { compileScript } from '../../src/runtime/compile.js';
import type { ScriptAction, ScriptType } from '../../src/script/types.js';
import { type SimulateOptions, type SimulationReport, simulate } from '../../src/simulator/simulate.js';
import { openSqliteStore } from '../../src/storage/sqlite/open-sqlite.js';

export const NOW = '2026-11-23T08:00:00Z';

/**
 * A small contact center: a supervisor who may end contacts and schedule callbacks, an agent
 * who may do neither, an inactive agent, outbound/inbound/inactive skills, a stuck chat.
 */
export function baseWorld() {
  return {
    now: NOW,
    businessUnit: { timeZone: 'Europe/Berlin', defaultCountry: 'DE', agentWaitSeconds: 120 },
    securityProfiles: [
      { name: 'Supervisor', permissions: ['contacts:end', 'callbacks:write', 'contacts:read'] },
      { name: 'Agent', permissions: ['contacts:read'] },
    ],
    skills: [
      { id: 2001, name: 'Callbacks', mediaType: 'Phone', direction: 'Outbound' },
      { id: 2002, name: 'Chat support', mediaType: 'Chat', direction: 'Inbound' },
      { id: 2003, name: 'Hotline', mediaType: 'Phone', direction: 'Inbound' },
      { id: 2004, name: 'Old callbacks', mediaType: 'Phone', direction: 'Outbound', active: false },
    ],
    agents: [
      {
        id: 1001,
        username: 'ana',
        state: 'Unavailable',
        skills: [2001],
        securityProfile: 'Supervisor',
        timeZone: 'Europe/Madrid',
      },
      { id: 1002, username: 'ben', state: 'Unavailable', skills: [2001, 2003], securityProfile: 'Agent' },
      { id: 1003, username: 'cid', active: false, skills: [2001], securityProfile: 'Supervisor' },
    ],
    contacts: [
      { id: 5001, mediaType: 'Chat', state: 'Queued', skillId: 2002 },
      { id: 5002, mediaType: 'Phone', state: 'Active', skillId: 2003 },
    ],
  } satisfies Record<string, unknown>;
}

export type TestWorld = ReturnType<typeof baseWorld> & Record<string, unknown>;

export interface RunActionsOptions extends Partial<Omit<SimulateOptions, 'script' | 'store'>> {
  mediaType?: ScriptType;
}

/** Compiles `actions` as a script (no validation: tests may build odd scripts on purpose) and simulates it. */
export async function runActions(
  scriptActions: ScriptAction[],
  options: RunActionsOptions = {},
): Promise<SimulationReport> {
  const { mediaType = 'Generic', ...rest } = options;
  const script = compileScript({ name: 'test', mediaType, actions: scriptActions }, actions);
  const store = await openSqliteStore(':memory:');
  try {
    const report = await simulate({ world: baseWorld(), ...rest, script, actions, store });
    if (!report.ok) throw new Error(report.message);
    return report.value;
  } finally {
    await store.close();
  }
}

/** BEGIN → … → END, wiring each action's listed branches. */
export function chain(...middle: ScriptAction[]): ScriptAction[] {
  return [
    { id: 'begin', action: 'BEGIN', branches: { Default: middle[0]?.id ?? 'end' } },
    ...middle,
    { id: 'end', action: 'END' },
  ];
}

/** The simulated script's own steps, without the events and skill scripts around them. */
export const steps = (report: SimulationReport) =>
  report.trace.filter((t) => t.event === undefined && t.script === undefined);

/**
 * Each action in order, with the connector it followed (none for END and STOP) and, when that was
 * a fallback to Default, the action's own result: `kill:Default (OnSuccess)`. Events are left out.
 */
export const branches = (report: SimulationReport) =>
  steps(report).map(
    (t) =>
      `${t.id}${t.branch === undefined ? '' : `:${t.branch}`}${t.outcome === undefined ? '' : ` (${t.outcome})`}`,
  );
