import { type Static, type TLiteral, type TUnion, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { fail, ok, type Result } from '../result.js';
import type { Executor } from '../storage/store.js';
import { saveBusinessUnit } from './business-unit.js';
import { scheduleCallback } from './callbacks.js';
import { startContact } from './contacts.js';
import { AGENT_STATES, DIRECTIONS, MEDIA_TYPES, PERMISSIONS } from './model.js';
import { isValidTimeZone } from './schedule-date.js';

/** A union of string literals that keeps the literal types in `Static<>`. */
export function literals<const T extends readonly string[]>(values: T) {
  return Type.Union(values.map((v) => Type.Literal(v))) as unknown as TUnion<{
    -readonly [K in keyof T]: TLiteral<T[K]>;
  }>;
}
const Id = Type.Integer({ minimum: 1 });
const strict = { additionalProperties: false } as const;

/** The fields of a callback as the API's create body takes them. */
export const CallbackInputSchema = Type.Object(
  {
    firstName: Type.Optional(Type.String({ maxLength: 200 })),
    lastName: Type.Optional(Type.String({ maxLength: 200 })),
    phoneNumber: Type.String({ maxLength: 64 }),
    skillId: Type.Union([Id, Type.String({ maxLength: 32 })]),
    targetAgentId: Type.Optional(Type.Union([Id, Type.String({ maxLength: 32 }), Type.Null()])),
    scheduleDate: Type.String({ maxLength: 100 }),
    timeZone: Type.Optional(Type.String({ maxLength: 64 })),
    notes: Type.Optional(Type.String({ maxLength: 4000 })),
  },
  strict,
);

/** A world fixture: the platform's state before a simulation (or a `seed`). */
export const WorldSchema = Type.Object(
  {
    now: Type.Optional(Type.String()),
    businessUnit: Type.Optional(
      Type.Object(
        {
          name: Type.Optional(Type.String({ minLength: 1 })),
          timeZone: Type.Optional(Type.String()),
          defaultCountry: Type.Optional(Type.String({ pattern: '^[A-Za-z]{2}$' })),
          callbackHorizonDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
          agentWaitSeconds: Type.Optional(Type.Integer({ minimum: 0 })),
          strictPhoneNumbers: Type.Optional(Type.Boolean()),
        },
        strict,
      ),
    ),
    securityProfiles: Type.Optional(
      Type.Array(
        Type.Object(
          { name: Type.String({ minLength: 1 }), permissions: Type.Array(literals(PERMISSIONS)) },
          strict,
        ),
      ),
    ),
    skills: Type.Optional(
      Type.Array(
        Type.Object(
          {
            id: Id,
            name: Type.String({ minLength: 1 }),
            mediaType: literals(MEDIA_TYPES),
            direction: literals(DIRECTIONS),
            active: Type.Optional(Type.Boolean()),
            script: Type.Optional(Type.String()),
          },
          strict,
        ),
      ),
    ),
    agents: Type.Optional(
      Type.Array(
        Type.Object(
          {
            id: Id,
            username: Type.String({ minLength: 1 }),
            firstName: Type.Optional(Type.String()),
            lastName: Type.Optional(Type.String()),
            active: Type.Optional(Type.Boolean()),
            state: Type.Optional(literals(AGENT_STATES)),
            skills: Type.Optional(Type.Array(Id)),
            securityProfile: Type.Optional(Type.String()),
            timeZone: Type.Optional(Type.String()),
          },
          strict,
        ),
      ),
    ),
    contacts: Type.Optional(
      Type.Array(
        Type.Object(
          {
            id: Id,
            mediaType: literals(MEDIA_TYPES),
            state: Type.Optional(literals(['Queued', 'Active'] as const)),
            direction: Type.Optional(literals(DIRECTIONS)),
            skillId: Type.Optional(Id),
            agentId: Type.Optional(Id),
            targetAgentId: Type.Optional(Id),
            priority: Type.Optional(Type.Integer()),
            phoneNumber: Type.Optional(Type.String()),
            ani: Type.Optional(Type.String()),
            dnis: Type.Optional(Type.String()),
          },
          strict,
        ),
      ),
    ),
    callbacks: Type.Optional(Type.Array(CallbackInputSchema)),
  },
  strict,
);
export type World = Static<typeof WorldSchema>;

/** Checks a parsed world against the schema and its cross-references; the message names the path. */
export function checkWorld(value: unknown): Result<World, 'InvalidWorld'> {
  const first = Value.Errors(WorldSchema, value).First();
  if (first) {
    const where = first.path === '' ? 'world' : first.path;
    const got = first.value === undefined ? 'nothing' : JSON.stringify(first.value)?.slice(0, 60);
    return fail('InvalidWorld', `${where}: ${first.message} (got ${got})`);
  }
  const world = value as World;
  const problems: string[] = [];
  const ids = (list: Array<{ id: number }> | undefined, what: string) => {
    const seen = new Set<number>();
    for (const item of list ?? []) {
      if (seen.has(item.id)) problems.push(`${what} ${item.id} is listed twice`);
      seen.add(item.id);
    }
    return seen;
  };
  const skills = ids(world.skills, 'skill');
  const agents = ids(world.agents, 'agent');
  ids(world.contacts, 'contact');
  const profiles = new Set((world.securityProfiles ?? []).map((p) => p.name));
  if (world.businessUnit?.timeZone !== undefined && !isValidTimeZone(world.businessUnit.timeZone)) {
    problems.push(`businessUnit.timeZone '${world.businessUnit.timeZone}' is not an IANA time zone`);
  }
  if (world.now !== undefined && Number.isNaN(Date.parse(world.now))) {
    problems.push(`now '${world.now}' is not an ISO 8601 instant`);
  }
  for (const a of world.agents ?? []) {
    for (const s of a.skills ?? []) if (!skills.has(s)) problems.push(`agent ${a.id} has unknown skill ${s}`);
    if (a.securityProfile !== undefined && !profiles.has(a.securityProfile)) {
      problems.push(`agent ${a.id} has unknown security profile '${a.securityProfile}'`);
    }
    if (a.timeZone !== undefined && !isValidTimeZone(a.timeZone)) {
      problems.push(`agent ${a.id} time zone '${a.timeZone}' is not an IANA time zone`);
    }
  }
  for (const c of world.contacts ?? []) {
    if (c.skillId !== undefined && !skills.has(c.skillId))
      problems.push(`contact ${c.id} has unknown skill ${c.skillId}`);
    if (c.agentId !== undefined && !agents.has(c.agentId))
      problems.push(`contact ${c.id} has unknown agent ${c.agentId}`);
    if (c.state === 'Queued' && c.skillId === undefined && c.targetAgentId === undefined) {
      problems.push(`contact ${c.id} is Queued but has neither skillId nor targetAgentId`);
    }
  }
  const usernames = new Set<string>();
  for (const a of world.agents ?? []) {
    if (usernames.has(a.username)) problems.push(`username '${a.username}' is used twice`);
    usernames.add(a.username);
  }
  return problems.length > 0 ? fail('InvalidWorld', problems.join('; ')) : ok(world);
}

/** Writes a checked world into an empty store (one transaction, the caller's). */
export async function loadWorld(
  db: Executor,
  now: number,
  world: World,
): Promise<Result<void, 'InvalidWorld'>> {
  await saveBusinessUnit(db, world.businessUnit ?? {});
  for (const p of world.securityProfiles ?? []) {
    await db
      .insertInto('security_profiles')
      .values({ name: p.name, permissions: JSON.stringify(p.permissions) })
      .execute();
  }
  for (const s of world.skills ?? []) {
    await db
      .insertInto('skills')
      .values({
        id: s.id,
        name: s.name,
        media_type: s.mediaType,
        direction: s.direction,
        active: s.active === false ? 0 : 1,
        script: s.script ?? null,
      })
      .execute();
  }
  for (const a of world.agents ?? []) {
    await db
      .insertInto('agents')
      .values({
        id: a.id,
        username: a.username,
        first_name: a.firstName ?? '',
        last_name: a.lastName ?? '',
        active: a.active === false ? 0 : 1,
        state: a.state ?? 'Unavailable',
        state_since: now,
        security_profile: a.securityProfile ?? null,
        time_zone: a.timeZone ?? null,
      })
      .execute();
    for (const skill of a.skills ?? []) {
      await db.insertInto('agent_skills').values({ agent_id: a.id, skill_id: skill }).execute();
    }
  }
  const ctx = { channel: 'world' } as const;
  for (const c of world.contacts ?? []) {
    await startContact(db, now, { ...c, state: c.state ?? 'Active' }, ctx);
  }
  for (const [i, cb] of (world.callbacks ?? []).entries()) {
    const result = await scheduleCallback(db, now, cb, ctx);
    if (!result.ok) return fail('InvalidWorld', `callbacks[${i}]: ${result.code}: ${result.message}`);
  }
  return ok(undefined);
}
