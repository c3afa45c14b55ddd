import type { Selectable } from 'kysely';
import type { BusinessUnitTable } from '../storage/schema.js';
import type { Executor } from '../storage/store.js';

export interface BusinessUnitSettings {
  name: string;
  /** IANA zone for wall-clock times when neither the security user nor the agent has one. */
  timeZone: string;
  /** ISO 3166 alpha-2 country used to read national phone numbers. */
  defaultCountry: string;
  /** How far ahead a callback may be scheduled. Default 365. */
  callbackHorizonDays: number;
  /** How long an agent-targeted callback waits for its agent before any agent with the skill may take it. Default 300. */
  agentWaitSeconds: number;
  /** Require *valid* (not merely *possible*) phone numbers. Default false. */
  strictPhoneNumbers: boolean;
  /** CPU milliseconds a script run may spend on one event (a start, a resume, a signal). Default 1,000. */
  runCpuMsPerEvent: number;
  /** CPU milliseconds a script run may spend over its life. Default 30,000. */
  runCpuMsTotal: number;
  /** Actions a script run may run over its life. Default 1,000,000. */
  runMaxSteps: number;
  /** Times a script run may be resumed (after a WAIT, by a signal). Default 10,000. */
  runMaxResumes: number;
  /** Lease expiries (its process died or stalled running it) before a run is quarantined. Default 3. */
  runMaxLeaseExpiries: number;
  /** Signals that may wait for one run. Default 100. */
  maxPendingSignals: number;
  /** How long a security-user handle stays valid. Default 86,400 (a day). */
  handleLifetimeSeconds: number;
}

export const DEFAULT_BUSINESS_UNIT: BusinessUnitSettings = {
  name: 'Switchboard',
  timeZone: 'UTC',
  defaultCountry: 'US',
  callbackHorizonDays: 365,
  agentWaitSeconds: 300,
  strictPhoneNumbers: false,
  runCpuMsPerEvent: 1_000,
  runCpuMsTotal: 30_000,
  runMaxSteps: 1_000_000,
  runMaxResumes: 10_000,
  runMaxLeaseExpiries: 3,
  maxPendingSignals: 100,
  handleLifetimeSeconds: 86_400,
};

export type BusinessUnit = BusinessUnitSettings;

/** The column that held the signing secret before migration 0004; security_keys sign now. */
const UNUSED_SECRET = '';

function fromRow(row: Selectable<BusinessUnitTable>): BusinessUnit {
  return {
    name: row.name,
    timeZone: row.time_zone,
    defaultCountry: row.default_country,
    callbackHorizonDays: row.callback_horizon_days,
    agentWaitSeconds: row.agent_wait_seconds,
    strictPhoneNumbers: row.strict_phone_numbers === 1,
    runCpuMsPerEvent: row.run_cpu_ms_per_event,
    runCpuMsTotal: row.run_cpu_ms_total,
    runMaxSteps: row.run_max_steps,
    runMaxResumes: row.run_max_resumes,
    runMaxLeaseExpiries: row.run_max_lease_expiries,
    maxPendingSignals: row.max_pending_signals,
    handleLifetimeSeconds: row.handle_lifetime_seconds,
  };
}

/** The business unit, created with defaults (and a fresh signing secret) on first use. */
export async function getBusinessUnit(db: Executor): Promise<BusinessUnit> {
  const row = await db.selectFrom('business_unit').selectAll().where('id', '=', 1).executeTakeFirst();
  if (row) return fromRow(row);
  await createBusinessUnit(db, DEFAULT_BUSINESS_UNIT);
  return getBusinessUnit(db);
}

const toColumns = (settings: BusinessUnitSettings) => ({
  name: settings.name,
  time_zone: settings.timeZone,
  default_country: settings.defaultCountry.toUpperCase(),
  callback_horizon_days: settings.callbackHorizonDays,
  agent_wait_seconds: settings.agentWaitSeconds,
  strict_phone_numbers: settings.strictPhoneNumbers ? 1 : 0,
  run_cpu_ms_per_event: settings.runCpuMsPerEvent,
  run_cpu_ms_total: settings.runCpuMsTotal,
  run_max_steps: settings.runMaxSteps,
  run_max_resumes: settings.runMaxResumes,
  run_max_lease_expiries: settings.runMaxLeaseExpiries,
  max_pending_signals: settings.maxPendingSignals,
  handle_lifetime_seconds: settings.handleLifetimeSeconds,
});

/** Creates the business unit unless it exists; the primary key settles two processes doing it at once. */
async function createBusinessUnit(db: Executor, settings: BusinessUnitSettings): Promise<boolean> {
  const created = await db
    .insertInto('business_unit')
    .values({ id: 1, ...toColumns(settings), secret: UNUSED_SECRET })
    .onConflict((oc) => oc.column('id').doNothing())
    .returning('id')
    .executeTakeFirst();
  return created !== undefined;
}

/** Changes the settings given, keeping the others (defaults for a business unit not yet created). */
export async function saveBusinessUnit(db: Executor, settings: Partial<BusinessUnitSettings>): Promise<void> {
  if (await createBusinessUnit(db, { ...DEFAULT_BUSINESS_UNIT, ...settings })) return;
  const current = await getBusinessUnit(db);
  await db
    .updateTable('business_unit')
    .set(toColumns({ ...current, ...settings }))
    .where('id', '=', 1)
    .execute();
}
