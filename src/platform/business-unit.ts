import { randomBytes } from 'node:crypto';
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
}

export const DEFAULT_BUSINESS_UNIT: BusinessUnitSettings = {
  name: 'Switchboard',
  timeZone: 'UTC',
  defaultCountry: 'US',
  callbackHorizonDays: 365,
  agentWaitSeconds: 300,
  strictPhoneNumbers: false,
};

export interface BusinessUnit extends BusinessUnitSettings {
  secret: string;
}

function fromRow(row: BusinessUnitTable): BusinessUnit {
  return {
    name: row.name,
    timeZone: row.time_zone,
    defaultCountry: row.default_country,
    callbackHorizonDays: row.callback_horizon_days,
    agentWaitSeconds: row.agent_wait_seconds,
    strictPhoneNumbers: row.strict_phone_numbers === 1,
    secret: row.secret,
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
});

/** Creates the business unit unless it exists; the primary key settles two processes doing it at once. */
async function createBusinessUnit(db: Executor, settings: BusinessUnitSettings): Promise<boolean> {
  const created = await db
    .insertInto('business_unit')
    .values({ id: 1, ...toColumns(settings), secret: randomBytes(32).toString('base64url') })
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
