import { type TSchema, Type } from '@sinclair/typebox';
import { AGENT_STATES, CALLBACK_STATES, CONTACT_STATES, DIRECTIONS, MEDIA_TYPES } from '../platform/model.js';
import { literals } from '../platform/world.js';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const strict = { additionalProperties: false } as const;
const IdText = Type.String({ pattern: '^[0-9]{1,15}$', description: 'A numeric ID' });
/** IDs fit a PostgreSQL bigint and a JavaScript number exactly. */
const Id = Type.Integer({ minimum: 1, maximum: 999_999_999_999_999 });

export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String({
      description: 'Stable code: a branch name (InvalidSkillId…), InvalidRequest, NotFound…',
    }),
    message: Type.String({ description: 'One line a person can act on' }),
    field: Type.Optional(Type.String({ description: 'The request field at fault' })),
  }),
});

export const Contact = Type.Object({
  id: Type.Integer(),
  masterId: Type.Integer(),
  state: literals(CONTACT_STATES),
  mediaType: literals(MEDIA_TYPES),
  direction: literals(DIRECTIONS),
  skillId: Nullable(Type.Integer()),
  agentId: Nullable(Type.Integer()),
  targetAgentId: Nullable(Type.Integer()),
  phoneNumber: Nullable(Type.String()),
  ani: Nullable(Type.String()),
  dnis: Nullable(Type.String()),
  disconnectReason: Nullable(Type.String()),
  callbackId: Nullable(Type.Integer()),
  createdAt: Type.String({ format: 'date-time' }),
  endedAt: Nullable(Type.String({ format: 'date-time' })),
});

export const Callback = Type.Object({
  id: Type.Integer(),
  state: literals(CALLBACK_STATES),
  firstName: Type.String(),
  lastName: Type.String(),
  phoneNumber: Type.String({ description: 'E.164' }),
  skillId: Type.Integer(),
  targetAgentId: Nullable(Type.Integer()),
  scheduledFor: Type.String({ format: 'date-time', description: 'UTC instant' }),
  timeZone: Type.String({ description: 'The zone the schedule date was given in' }),
  notes: Type.String(),
  contactId: Nullable(Type.Integer()),
  createdAt: Type.String({ format: 'date-time' }),
});

export const Agent = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  firstName: Type.String(),
  lastName: Type.String(),
  active: Type.Boolean(),
  state: literals(AGENT_STATES),
  stateSince: Type.String({ format: 'date-time' }),
  skills: Type.Array(Type.Integer()),
  securityProfile: Nullable(Type.String()),
  timeZone: Nullable(Type.String()),
});

export const Skill = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  mediaType: literals(MEDIA_TYPES),
  direction: literals(DIRECTIONS),
  active: Type.Boolean(),
  script: Nullable(Type.String()),
});

export const AuditEntry = Type.Object({
  id: Type.Integer(),
  at: Type.String({ format: 'date-time' }),
  actor: Type.String(),
  channel: Type.String(),
  action: Type.String(),
  targetType: Type.String(),
  targetId: Type.String(),
  details: Type.Record(Type.String(), Type.Unknown()),
});

export const Finding = Type.Object({
  severity: literals(['error', 'warning']),
  actionId: Nullable(Type.String()),
  path: Type.String(),
  message: Type.String(),
  hint: Nullable(Type.String()),
  line: Type.Optional(Type.Integer()),
  column: Type.Optional(Type.Integer()),
});

export const Page = <T extends TSchema>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    nextCursor: Nullable(
      Type.String({ description: 'Pass as `cursor` for the next page; null on the last' }),
    ),
  });

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'From the previous page' })),
};

export const IdParams = Type.Object({ id: IdText }, strict);

export const StartContactBody = Type.Object(
  {
    mediaType: literals(MEDIA_TYPES),
    direction: Type.Optional(literals(DIRECTIONS)),
    skillId: Type.Optional(Id),
    script: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    variables: Type.Optional(
      // Written out: TypeBox's Record drops additionalProperties, and names must be variable names.
      Type.Unsafe<Record<string, string | number | boolean>>({
        type: 'object',
        description: 'Variable name → value, visible from BEGIN',
        maxProperties: 100,
        additionalProperties: false,
        patternProperties: {
          '^[A-Za-z_][A-Za-z0-9_]{0,63}$': Type.Union([
            Type.String({ maxLength: 32768 }),
            Type.Number(),
            Type.Boolean(),
          ]),
        },
      }),
    ),
    ani: Type.Optional(Type.String({ maxLength: 64 })),
    dnis: Type.Optional(Type.String({ maxLength: 64 })),
  },
  strict,
);

export const EndContactBody = Type.Object(
  { reason: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) },
  strict,
);
export const SignalBody = Type.Object(
  { params: Type.Optional(Type.Array(Type.String({ maxLength: 32768 }), { maxItems: 9 })) },
  strict,
);

const callbackFields = {
  firstName: Type.String({ maxLength: 200 }),
  lastName: Type.String({ maxLength: 200 }),
  phoneNumber: Type.String({ minLength: 1, maxLength: 64 }),
  skillId: Type.Union([Id, Type.String({ maxLength: 32 })]),
  targetAgentId: Type.Union([Id, Type.String({ maxLength: 32 }), Type.Null()]),
  scheduleDate: Type.String({
    minLength: 1,
    maxLength: 100,
    description: 'ISO 8601; wall-clock in timeZone (default: your agent’s)',
  }),
  timeZone: Type.String({ maxLength: 64 }),
  notes: Type.String({ maxLength: 4000 }),
};

export const CreateCallbackBody = Type.Object(
  {
    firstName: Type.Optional(callbackFields.firstName),
    lastName: Type.Optional(callbackFields.lastName),
    phoneNumber: callbackFields.phoneNumber,
    skillId: callbackFields.skillId,
    targetAgentId: Type.Optional(callbackFields.targetAgentId),
    scheduleDate: callbackFields.scheduleDate,
    timeZone: Type.Optional(callbackFields.timeZone),
    notes: Type.Optional(callbackFields.notes),
  },
  strict,
);

export const UpdateCallbackBody = Type.Partial(Type.Object(callbackFields, strict), {
  ...strict,
  minProperties: 1,
});

export const CallbackQuery = Type.Object(
  {
    ...PageQuery,
    state: Type.Optional(literals(CALLBACK_STATES)),
    skillId: Type.Optional(Id),
    agentId: Type.Optional(Id),
  },
  strict,
);

export const ContactQuery = Type.Object(
  { ...PageQuery, state: Type.Optional(literals(CONTACT_STATES)) },
  strict,
);
export const ListQuery = Type.Object(PageQuery, strict);

export const AgentStateBody = Type.Object({ state: literals(AGENT_STATES) }, strict);

export const CreateSkillBody = Type.Object(
  {
    id: Type.Optional(Id),
    name: Type.String({ minLength: 1, maxLength: 200 }),
    mediaType: literals(MEDIA_TYPES),
    direction: literals(DIRECTIONS),
    active: Type.Optional(Type.Boolean()),
    script: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 100 }))),
  },
  strict,
);

export const ScriptParams = Type.Object(
  { name: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$' }) },
  strict,
);
