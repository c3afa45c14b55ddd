import { PERMISSIONS, type Permission } from '../../src/platform/model.js';

/** Skills of the API world, by what the tests use them for. */
export const SKILL = {
  /** Outbound Phone: the end-to-end callback; only `caller` has it. */
  callbacks: 2001,
  /** Inbound Chat: a queued chat routed when `chatter` becomes Available. */
  chat: 2002,
  /** Inbound Phone: not a callback skill (InvalidSkillId). */
  hotline: 2003,
  /** Outbound Phone, inactive (InvalidSkillId). */
  retired: 2004,
  /** Outbound Phone nobody has: far-future callbacks that never reach an agent. */
  later: 2005,
} as const;

/** Agents of the API world: one per permission case. */
export const AGENT = {
  /** Profile Admin: `admin` (everything). */
  admin: 1001,
  /** Profile Supervisor: every permission but `admin`. */
  supervisor: 1002,
  /** Profile Reader: every `*:read` and nothing else. */
  reader: 1003,
  /** No security profile: no permission at all (but may set its own state). */
  none: 1004,
  /** Profiles Mixed 1–3: see MIXED. */
  mixed1: 1005,
  mixed2: 1006,
  mixed3: 1007,
  /** Skill `callbacks`, starts Unavailable; profile Agent. */
  caller: 1010,
  /** Skill `chat`, starts Unavailable; profile Agent. */
  chatter: 1011,
  /** No skills, no profile, Unavailable; the agent whose state the matrix sets. */
  spare: 1020,
  /** Inactive (AgentNotActive, InvalidTargetAgentId); no token can be made for it. */
  retired: 1030,
} as const;
export type TokenKey = Exclude<keyof typeof AGENT, 'retired'>;

const READS: Permission[] = ['contacts:read', 'callbacks:read', 'agents:read', 'skills:read', 'scripts:read'];
const AGENT_PROFILE: Permission[] = ['contacts:read', 'callbacks:read', 'agents:read'];

/**
 * Reader and Mixed 1–3 give every permission but admin a distinct, non-empty, non-full pattern of
 * holders (a 4-bit code: Reader, Mixed 1, Mixed 2, Mixed 3). So for any route, some token holds
 * its permission and some token lacks it, and a route that checked a different permission than
 * its file names would answer at least one of these four tokens differently. Four tokens do the
 * work of eleven single-permission agents.
 */
export const MIXED: Record<'mixed1' | 'mixed2' | 'mixed3', Permission[]> = {
  mixed1: ['callbacks:read', 'scripts:read', 'contacts:write', 'agents:write', 'skills:write'],
  mixed2: ['agents:read', 'scripts:read', 'contacts:end', 'agents:write', 'scripts:write'],
  mixed3: ['skills:read', 'callbacks:write', 'skills:write', 'scripts:write'],
};

export const ALL_TOKEN_KEYS: TokenKey[] = [
  'admin',
  'supervisor',
  'reader',
  'none',
  'mixed1',
  'mixed2',
  'mixed3',
  'caller',
  'chatter',
  'spare',
];

export const agentOf = (key: TokenKey): number => AGENT[key];

/** Permissions each token's agent holds (admin: all). */
export function permissionsOf(key: TokenKey): ReadonlySet<Permission> {
  switch (key) {
    case 'admin':
      return new Set(PERMISSIONS);
    case 'supervisor':
      return new Set(PERMISSIONS.filter((p) => p !== 'admin'));
    case 'reader':
      return new Set(READS);
    case 'mixed1':
    case 'mixed2':
    case 'mixed3':
      return new Set(MIXED[key]);
    case 'caller':
    case 'chatter':
      return new Set(AGENT_PROFILE);
    case 'none':
    case 'spare':
      return new Set();
  }
}

/** BEGIN → STOP; ONSIGNAL → IF p1 = Secret → END (ScriptEnded), else STOP again. */
export function relayScript(name = 'relay') {
  return {
    name,
    mediaType: 'WorkItem',
    description: 'Parks until a signal whose p1 is the start variable Secret arrives, then ends.',
    actions: [
      { id: '1', action: 'BEGIN', branches: { Default: '2' } },
      { id: '2', action: 'STOP' },
      { id: '10', action: 'ONSIGNAL', branches: { Default: '11' } },
      {
        id: '11',
        action: 'IF',
        properties: { Expression: 'p1 = Secret' },
        branches: { True: '12', False: '13' },
      },
      { id: '12', action: 'END' },
      { id: '13', action: 'STOP' },
    ],
  };
}

/**
 * The API world: profiles for every permission case, the agents above, the skills above, an
 * Active contact 5001 and one far-future callback (its ID is the first callback ID).
 */
export function apiWorld() {
  const dayAfterTomorrow = new Date(Date.now() + 2 * 86_400_000).toISOString();
  return {
    businessUnit: {
      name: 'API tests',
      timeZone: 'Europe/Berlin',
      defaultCountry: 'DE',
      agentWaitSeconds: 120,
      callbackHorizonDays: 3650,
    },
    securityProfiles: [
      { name: 'Admin', permissions: ['admin'] },
      { name: 'Supervisor', permissions: PERMISSIONS.filter((p) => p !== 'admin') },
      { name: 'Reader', permissions: READS },
      { name: 'Mixed 1', permissions: MIXED.mixed1 },
      { name: 'Mixed 2', permissions: MIXED.mixed2 },
      { name: 'Mixed 3', permissions: MIXED.mixed3 },
      { name: 'Agent', permissions: AGENT_PROFILE },
    ],
    skills: [
      { id: SKILL.callbacks, name: 'Callbacks', mediaType: 'Phone', direction: 'Outbound' },
      { id: SKILL.chat, name: 'Chat support', mediaType: 'Chat', direction: 'Inbound' },
      { id: SKILL.hotline, name: 'Hotline', mediaType: 'Phone', direction: 'Inbound' },
      { id: SKILL.retired, name: 'Old callbacks', mediaType: 'Phone', direction: 'Outbound', active: false },
      { id: SKILL.later, name: 'Later callbacks', mediaType: 'Phone', direction: 'Outbound' },
    ],
    agents: [
      { id: AGENT.admin, username: 'ana', securityProfile: 'Admin', timeZone: 'Europe/Madrid' },
      { id: AGENT.supervisor, username: 'sam', securityProfile: 'Supervisor' },
      { id: AGENT.reader, username: 'rita', securityProfile: 'Reader' },
      { id: AGENT.none, username: 'nico' },
      { id: AGENT.mixed1, username: 'mia', securityProfile: 'Mixed 1' },
      { id: AGENT.mixed2, username: 'max', securityProfile: 'Mixed 2' },
      { id: AGENT.mixed3, username: 'mo', securityProfile: 'Mixed 3' },
      {
        id: AGENT.caller,
        username: 'cora',
        state: 'Unavailable',
        skills: [SKILL.callbacks],
        securityProfile: 'Agent',
      },
      {
        id: AGENT.chatter,
        username: 'dan',
        state: 'Unavailable',
        skills: [SKILL.chat],
        securityProfile: 'Agent',
      },
      { id: AGENT.spare, username: 'spare', state: 'Unavailable' },
      { id: AGENT.retired, username: 'old', active: false, skills: [SKILL.callbacks] },
    ],
    contacts: [{ id: 5001, mediaType: 'Generic', state: 'Active' }],
    callbacks: [
      {
        firstName: 'Seeded',
        lastName: 'Callback',
        phoneNumber: '+4930901820',
        skillId: SKILL.later,
        scheduleDate: dayAfterTomorrow,
      },
    ],
  };
}
