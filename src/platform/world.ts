import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { fail, ok, type Result } from '../result.js';
import type { Executor } from '../storage/store.js';
import { explainValueError, literals, Nullable } from '../typebox.js';
import { saveBusinessUnit } from './business-unit.js';
import { CALLBACK_STATE_OF_CONTACT } from './callback-states.js';
import { recordCallbackHistory, scheduleCallback } from './callbacks.js';
import { startContact } from './contacts.js';
import { parseInstant } from './instant.js';
import { type ContactState, PERMISSIONS } from './model.js';
import {
  AgentSchema,
  CallbackInputSchema,
  CallbackSchema,
  ContactSchema,
  IdSchema,
  SkillSchema,
} from './resources.js';
import { isValidTimeZone } from './schedule-date.js';

const strict = { additionalProperties: false } as const;
const { Optional } = Type;
const contact = ContactSchema.properties;
const agent = AgentSchema.properties;
const skill = SkillSchema.properties;
/** A world contact without a state is one being worked. */
const DEFAULT_WORLD_CONTACT_STATE: ContactState = 'Active';

/**
 * A world fixture: the platform's state before a simulation (or a `seed`). Its resources take the
 * fields and every state the API returns them with, so a fixture can hold history (an Ended
 * contact, a Completed callback); callbacks take the API's create body, plus `id`, `state` and
 * `contactId` for those already dispatched.
 */
export const WorldSchema = Type.Object(
  {
    now: Optional(Type.String({ description: 'ISO 8601 instant with Z or an offset' })),
    scripts: Optional(
      Type.Array(Type.String({ minLength: 1 }), {
        description: 'Script files the skills run, relative to the world file; deployed before it loads',
      }),
    ),
    businessUnit: Optional(
      Type.Object(
        {
          name: Optional(Type.String({ minLength: 1 })),
          timeZone: Optional(Type.String()),
          defaultCountry: Optional(Type.String({ pattern: '^[A-Za-z]{2}$' })),
          callbackHorizonDays: Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
          agentWaitSeconds: Optional(Type.Integer({ minimum: 0 })),
          strictPhoneNumbers: Optional(Type.Boolean()),
        },
        strict,
      ),
    ),
    securityProfiles: Optional(
      Type.Array(
        Type.Object(
          { name: Type.String({ minLength: 1 }), permissions: Type.Array(literals(PERMISSIONS)) },
          strict,
        ),
      ),
    ),
    skills: Optional(
      Type.Array(
        Type.Object(
          {
            id: IdSchema,
            name: Type.String({ minLength: 1 }),
            mediaType: skill.mediaType,
            direction: skill.direction,
            active: Optional(skill.active),
            script: Optional(Type.String()),
          },
          strict,
        ),
      ),
    ),
    agents: Optional(
      Type.Array(
        Type.Object(
          {
            id: IdSchema,
            username: Type.String({ minLength: 1 }),
            firstName: Optional(agent.firstName),
            lastName: Optional(agent.lastName),
            active: Optional(agent.active),
            state: Optional(agent.state),
            skills: Optional(Type.Array(IdSchema)),
            securityProfile: Optional(Type.String()),
            timeZone: Optional(Type.String()),
          },
          strict,
        ),
      ),
    ),
    contacts: Optional(
      Type.Array(
        Type.Object(
          {
            id: IdSchema,
            mediaType: contact.mediaType,
            state: Optional(contact.state),
            direction: Optional(contact.direction),
            skillId: Optional(Nullable(IdSchema)),
            agentId: Optional(Nullable(IdSchema)),
            targetAgentId: Optional(Nullable(IdSchema)),
            priority: Optional(Type.Integer()),
            phoneNumber: Optional(contact.phoneNumber),
            ani: Optional(contact.ani),
            dnis: Optional(contact.dnis),
            disconnectReason: Optional(contact.disconnectReason),
            callbackId: Optional(Nullable(IdSchema)),
          },
          strict,
        ),
      ),
    ),
    callbacks: Optional(
      Type.Array(
        Type.Object(
          {
            ...CallbackInputSchema.properties,
            id: Optional(IdSchema),
            state: Optional(CallbackSchema.properties.state),
            contactId: Optional(Nullable(IdSchema)),
          },
          strict,
        ),
      ),
    ),
  },
  strict,
);
export type World = Static<typeof WorldSchema>;

/** Checks a parsed world against the schema and its cross-references; the message names the path. */
export function checkWorld(value: unknown): Result<World, 'InvalidWorld'> {
  const first = Value.Errors(WorldSchema, value).First();
  if (first) {
    const where = first.path === '' ? 'world' : first.path;
    const got = first.value === undefined ? '' : ` (got ${JSON.stringify(first.value)?.slice(0, 60)})`;
    return fail('InvalidWorld', `${where}: ${explainValueError(first)}${got}`);
  }
  const world = value as World;
  const problems: string[] = [];
  const ids = (list: Array<{ id?: number }> | undefined, what: string) => {
    const seen = new Set<number>();
    for (const item of list ?? []) {
      if (item.id === undefined) continue;
      if (seen.has(item.id)) problems.push(`${what} ${item.id} is listed twice`);
      seen.add(item.id);
    }
    return seen;
  };
  const skills = ids(world.skills, 'skill');
  const agents = ids(world.agents, 'agent');
  const contacts = ids(world.contacts, 'contact');
  const callbacks = ids(world.callbacks, 'callback');
  const profiles = new Set((world.securityProfiles ?? []).map((p) => p.name));
  if (world.businessUnit?.timeZone !== undefined && !isValidTimeZone(world.businessUnit.timeZone)) {
    problems.push(`businessUnit.timeZone '${world.businessUnit.timeZone}' is not an IANA time zone`);
  }
  if (world.now !== undefined) {
    const now = parseInstant(world.now, 'now');
    if (!now.ok) problems.push(now.message);
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
    if (c.skillId != null && !skills.has(c.skillId))
      problems.push(`contact ${c.id} has unknown skill ${c.skillId}`);
    if (c.agentId != null && !agents.has(c.agentId))
      problems.push(`contact ${c.id} has unknown agent ${c.agentId}`);
    if (c.state === 'Queued' && c.skillId == null && c.targetAgentId == null) {
      problems.push(`contact ${c.id} is Queued but has neither skillId nor targetAgentId`);
    }
    if (c.callbackId != null && !callbacks.has(c.callbackId))
      problems.push(
        `contact ${c.id} has callbackId ${c.callbackId}, but no callback in the world has that id`,
      );
  }
  const callbackOf = new Map((world.contacts ?? []).map((c) => [c.id, c.callbackId]));
  const stateOfCallback = new Map((world.callbacks ?? []).map((cb) => [cb.id, cb.state ?? 'Scheduled']));
  for (const c of world.contacts ?? []) {
    const callbackState = c.callbackId == null ? undefined : stateOfCallback.get(c.callbackId);
    const expected = CALLBACK_STATE_OF_CONTACT[c.state ?? DEFAULT_WORLD_CONTACT_STATE];
    if (callbackState !== undefined && callbackState !== expected)
      problems.push(
        `contact ${c.id} is ${c.state ?? DEFAULT_WORLD_CONTACT_STATE}, so its callback ${c.callbackId} must be ${expected}, not ${callbackState}`,
      );
  }
  for (const [i, cb] of (world.callbacks ?? []).entries()) {
    const said = cb.contactId == null ? undefined : callbackOf.get(cb.contactId);
    if (cb.contactId != null && said != null && said !== cb.id)
      problems.push(
        `callbacks[${i}] has contactId ${cb.contactId}, but contact ${cb.contactId} names callback ${said}`,
      );
    if (cb.contactId != null && !contacts.has(cb.contactId))
      problems.push(`callbacks[${i}] has contactId ${cb.contactId}, but no contact in the world has that id`);
    if (cb.contactId != null && (cb.state ?? 'Scheduled') === 'Scheduled')
      problems.push(
        `callbacks[${i}] is Scheduled, so it has no contact yet; give its state or drop contactId`,
      );
  }
  const usernames = new Set<string>();
  for (const a of world.agents ?? []) {
    if (usernames.has(a.username)) problems.push(`username '${a.username}' is used twice`);
    usernames.add(a.username);
  }
  return problems.length > 0 ? fail('InvalidWorld', problems.join('; ')) : ok(world);
}

/** Where a world's clock starts: its `now` (checked by checkWorld), else undefined. */
export function worldNow(world: World): number | undefined {
  if (world.now === undefined) return undefined;
  const now = parseInstant(world.now, 'now');
  return now.ok ? now.value : undefined;
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
    await startContact(db, now, { ...c, state: c.state ?? DEFAULT_WORLD_CONTACT_STATE }, ctx);
  }
  for (const [i, item] of (world.callbacks ?? []).entries()) {
    const { id, state = 'Scheduled', contactId, ...input } = item;
    const result =
      state === 'Scheduled'
        ? await scheduleCallback(db, now, input, ctx, id === undefined ? {} : { id })
        : await recordCallbackHistory(
            db,
            now,
            input,
            state,
            { ...(id === undefined ? {} : { id }), contactId },
            ctx,
          );
    if (!result.ok) return fail('InvalidWorld', `callbacks[${i}]: ${result.code}: ${result.message}`);
  }
  return ok(undefined);
}
