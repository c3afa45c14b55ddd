import type { Generated } from 'kysely';

/**
 * The tables behind the platform. Times are epoch milliseconds; flags are 0/1 so that SQLite
 * and PostgreSQL return the same values.
 */
export interface Database {
  business_unit: BusinessUnitTable;
  security_profiles: SecurityProfileTable;
  skills: SkillTable;
  agents: AgentTable;
  agent_skills: AgentSkillTable;
  contacts: ContactTable;
  queue_entries: QueueEntryTable;
  scheduled_callbacks: CallbackTable;
  audit_log: AuditTable;
  scripts: ScriptTable;
  script_runs: ScriptRunTable;
  script_run_signals: ScriptRunSignalTable;
  tokens: TokenTable;
  security_keys: SecurityKeyTable;
  installation: InstallationTable;
}

/** Keys that sign security-user handles: the newest unretired one signs, every unretired one verifies. */
export interface SecurityKeyTable {
  id: Generated<number>;
  secret: string;
  created_at: number;
  retired_at: number | null;
}

/** One row: this installation's ID, which handles carry (a copy elsewhere refuses them). */
export interface InstallationTable {
  id: number;
  installation_id: string;
}

export interface ScriptTable {
  name: string;
  /** The script's JSON, as deployed. */
  body: string;
  updated_at: number;
  /** The audit actor who deployed it (`agent:1001 (ana)`, `cli`). */
  deployed_by: string;
  /** JSON array of the deployer's permissions then: the most a SETSECURITYUSER in it may assume. */
  deployer_permissions: string;
}

/**
 * A contact's script that has not finished (platform/script-runs.ts owns it). `status`: `pending`
 * (to start), `running` (a process holds it until `lease_until`), `waiting` (WAIT until
 * `resume_at`), `stopped` (STOP).
 */
export interface ScriptRunTable {
  contact_id: number;
  script_name: string;
  status: string;
  resume_at: number | null;
  /** JSON object of the variables visible from BEGIN; null once the run has started. */
  start_variables: string | null;
  /** JSON of the parked run as the runtime saves it; null until it first parks. */
  snapshot: string | null;
  /** 1 when the contact ended and ONRELEASE is still to run. */
  released: number;
  owner: string | null;
  lease_until: number | null;
  created_at: number;
  updated_at: number;
  /** Random ID of this run: security-user handles are valid for the run they were issued to only. */
  run_id: string | null;
  /** JSON: who started the contact in its script (audit actor and channel). */
  started_by: Generated<string>;
  /** Budgets spent over the run's life: actions run, resumes (WAITs, signals), CPU milliseconds. */
  steps: Generated<number>;
  resumes: Generated<number>;
  cpu_ms: Generated<number>;
  /** How often a process's lease on the run ran out (it died or stalled running it). */
  lease_expiries: Generated<number>;
  /** Set when a crash loop took the run out of the queue: it is never claimed again. */
  quarantined_at: number | null;
}

/** A signal waiting for its run, delivered in `id` order. */
export interface ScriptRunSignalTable {
  id: Generated<number>;
  contact_id: number;
  /** JSON array of p1…p9. */
  params: string;
  created_at: number;
}

export interface TokenTable {
  id: Generated<number>;
  agent_id: number;
  /** SHA-256 of the token; the token itself is shown once and never stored. */
  token_hash: string;
  label: string;
  created_at: number;
  revoked_at: number | null;
}

export interface BusinessUnitTable {
  id: number;
  name: string;
  time_zone: string;
  default_country: string;
  callback_horizon_days: number;
  agent_wait_seconds: number;
  strict_phone_numbers: number;
  /** Signed security-user handles before 0004; unused since (security_keys sign), kept as a column only. */
  secret: string;
  /** Budgets of every script run (docs/security.md). */
  run_cpu_ms_per_event: Generated<number>;
  run_cpu_ms_total: Generated<number>;
  run_max_steps: Generated<number>;
  run_max_resumes: Generated<number>;
  /** Lease expiries after which a run is quarantined (a crash loop). */
  run_max_lease_expiries: Generated<number>;
  /** Signals that may wait for one run. */
  max_pending_signals: Generated<number>;
  /** How long a security-user handle stays valid. */
  handle_lifetime_seconds: Generated<number>;
}

export interface SecurityProfileTable {
  name: string;
  /** JSON array of permission names. */
  permissions: string;
}

export interface SkillTable {
  id: Generated<number>;
  name: string;
  media_type: string;
  direction: string;
  active: number;
  /** Name of the script run for each contact the skill delivers. */
  script: string | null;
}

export interface AgentTable {
  id: Generated<number>;
  username: string;
  first_name: string;
  last_name: string;
  active: number;
  state: string;
  /** When the agent entered `state`; the longest-idle Available agent is routed to first. */
  state_since: number;
  security_profile: string | null;
  time_zone: string | null;
}

export interface AgentSkillTable {
  agent_id: number;
  skill_id: number;
}

export interface ContactTable {
  id: Generated<number>;
  master_id: number | null;
  media_type: string;
  direction: string;
  state: string;
  skill_id: number | null;
  agent_id: number | null;
  target_agent_id: number | null;
  phone_number: string | null;
  ani: string | null;
  dnis: string | null;
  disconnect_reason: string | null;
  callback_id: number | null;
  created_at: number;
  updated_at: number;
  ended_at: number | null;
}

/** One row per Queued contact: the queue routing reads, kept apart from all contacts. */
export interface QueueEntryTable {
  contact_id: number;
  skill_id: number | null;
  target_agent_id: number | null;
  /** Until then only the target agent may take it; afterwards any agent with the skill. */
  target_until: number | null;
  priority: number;
  queued_at: number;
}

export interface CallbackTable {
  id: Generated<number>;
  first_name: string;
  last_name: string;
  phone_number: string;
  skill_id: number;
  target_agent_id: number | null;
  due_at: number;
  time_zone: string;
  notes: string;
  state: string;
  contact_id: number | null;
  created_by: number | null;
  idempotency_key: string | null;
  /** SHA-256 of the create request, to tell a retry from a different request reusing the key. */
  request_hash: string | null;
  created_at: number;
  updated_at: number;
}

export interface AuditTable {
  id: Generated<number>;
  at: number;
  /** `agent:1001 (ana)`, `script:end-stuck-chat`, `scheduler`, … */
  actor: string;
  channel: string;
  action: string;
  target_type: string;
  target_id: string;
  /** JSON object with what changed. */
  details: string;
}
