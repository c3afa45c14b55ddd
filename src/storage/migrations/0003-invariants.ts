import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../store.js';

/**
 * The database keeps its own invariants: CHECK constraints on every state column, foreign keys
 * where they cost nothing, sequences for skill and agent IDs. Not on the paths that write a row
 * for every contact or callback (a queue entry's contact, a script run's contact, a callback's
 * skill): on PostgreSQL each such check locks the parent row (FOR KEY SHARE) — every callback
 * of a busy skill would share a lock on one row — and runs a plan cached while the table was small. Script runs get one shape
 * per column: start variables apart from a parked run's snapshot, and signals as rows of their own
 * (they were a JSON array compared as text). Indexes for routing that reads by free agent and skill.
 *
 * SQLite cannot add a constraint to a table, so there each table is rebuilt (create, copy, drop,
 * rename), inside the migration's transaction.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const signals = await readSignals(db);
  if (dialect === 'postgres') await upPostgres(db);
  else await upSqlite(db);
  await writeSignals(db, signals);
  await db.schema
    .createIndex('queue_entries_by_skill')
    .on('queue_entries')
    .columns(['skill_id', 'priority desc', 'queued_at', 'contact_id'])
    .execute();
  await db.schema
    .createIndex('queue_entries_by_target')
    .on('queue_entries')
    .column('target_agent_id')
    .where('target_agent_id', 'is not', null)
    .execute();
  await db.schema
    .createIndex('agents_by_state')
    .on('agents')
    .columns(['state', 'state_since', 'id'])
    .execute();
  await db.schema
    .createIndex('script_run_signals_by_run')
    .on('script_run_signals')
    .columns(['contact_id', 'id'])
    .execute();
}

const list = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');
const MEDIA = list(['Generic', 'Email', 'Chat', 'Phone', 'Voicemail', 'WorkItem', 'SMS']);
const DIRECTION = list(['Inbound', 'Outbound']);
const CONTACT_STATE = list(['Queued', 'Active', 'Ended']);
const AGENT_STATE = list(['Available', 'Unavailable', 'Inbound', 'Outbound']);
const CALLBACK_STATE = list(['Scheduled', 'Queued', 'Delivered', 'Completed', 'Canceled']);
const RUN_STATUS = list(['pending', 'running', 'waiting', 'stopped']);

interface PendingSignal {
  contactId: number;
  params: string;
  at: number;
}

/** The signals waiting in the old JSON column, oldest first per run. */
async function readSignals(db: Kysely<unknown>): Promise<PendingSignal[]> {
  const { rows } = await sql<{ contact_id: number; signals: string; updated_at: number }>`
    select contact_id, signals, updated_at from script_runs where signals <> '[]' order by contact_id`.execute(
    db,
  );
  return rows.flatMap((r) =>
    (JSON.parse(r.signals) as string[][]).map((params) => ({
      contactId: Number(r.contact_id),
      params: JSON.stringify(params),
      at: Number(r.updated_at),
    })),
  );
}

async function writeSignals(db: Kysely<unknown>, signals: readonly PendingSignal[]) {
  for (const s of signals) {
    await sql`insert into script_run_signals (contact_id, params, created_at) values (${s.contactId}, ${s.params}, ${s.at})`.execute(
      db,
    );
  }
}

async function upPostgres(db: Kysely<unknown>) {
  const statements = [
    // Script runs: start variables apart from a parked run's snapshot.
    `alter table script_runs add column start_variables text`,
    `update script_runs set start_variables = coalesce((snapshot::json -> 'start' -> 'variables')::text, '{}'), snapshot = null
       where snapshot is null or snapshot like '{"start":%'`,
    `alter table script_runs drop column signals`,
    `create table script_run_signals (
       id bigserial primary key,
       contact_id bigint not null references script_runs (contact_id) on delete cascade,
       params text not null,
       created_at bigint not null)`,
    // States.
    `alter table contacts add constraint contacts_state check (state in (${CONTACT_STATE})),
       add constraint contacts_media_type check (media_type in (${MEDIA})),
       add constraint contacts_direction check (direction in (${DIRECTION}))`,
    `alter table agents add constraint agents_state check (state in (${AGENT_STATE})),
       add constraint agents_active check (active in (0, 1))`,
    `alter table skills add constraint skills_media_type check (media_type in (${MEDIA})),
       add constraint skills_direction check (direction in (${DIRECTION})),
       add constraint skills_active check (active in (0, 1))`,
    `alter table scheduled_callbacks add constraint callbacks_state check (state in (${CALLBACK_STATE}))`,
    `alter table script_runs add constraint script_runs_status check (status in (${RUN_STATUS})),
       add constraint script_runs_released check (released in (0, 1))`,
    // References.
    `alter table agent_skills add constraint agent_skills_agent foreign key (agent_id) references agents (id),
       add constraint agent_skills_skill foreign key (skill_id) references skills (id)`,
    `alter table tokens add constraint tokens_agent foreign key (agent_id) references agents (id)`,
    // IDs the database gives out.
    ...['skills', 'agents'].flatMap((table) => [
      `create sequence ${table}_id_seq owned by ${table}.id`,
      `alter table ${table} alter column id set default nextval('${table}_id_seq')`,
      `select setval('${table}_id_seq', coalesce((select max(id) from ${table}), 0) + 1, false)`,
    ]),
  ];
  for (const statement of statements) await sql.raw(statement).execute(db);
}

interface Rebuild {
  table: string;
  /** The new definition, without `create table <name>`. */
  definition: string;
  indexes: string[];
}

const SQLITE: Rebuild[] = [
  {
    table: 'skills',
    definition: `(
      id integer primary key,
      name text not null,
      media_type text not null check (media_type in (${MEDIA})),
      direction text not null check (direction in (${DIRECTION})),
      active integer not null check (active in (0, 1)),
      script text)`,
    indexes: [],
  },
  {
    table: 'agents',
    definition: `(
      id integer primary key,
      username text not null unique,
      first_name text not null,
      last_name text not null,
      active integer not null check (active in (0, 1)),
      state text not null check (state in (${AGENT_STATE})),
      state_since integer not null,
      security_profile text,
      time_zone text)`,
    indexes: [],
  },
  {
    table: 'agent_skills',
    definition: `(
      agent_id integer not null references agents (id),
      skill_id integer not null references skills (id),
      constraint agent_skills_pk primary key (agent_id, skill_id))`,
    indexes: ['create index agent_skills_by_skill on agent_skills (skill_id)'],
  },
  {
    table: 'contacts',
    definition: `(
      id integer primary key autoincrement,
      master_id integer,
      media_type text not null check (media_type in (${MEDIA})),
      direction text not null check (direction in (${DIRECTION})),
      state text not null check (state in (${CONTACT_STATE})),
      skill_id integer,
      agent_id integer,
      target_agent_id integer,
      phone_number text,
      ani text,
      dnis text,
      disconnect_reason text,
      callback_id integer,
      created_at integer not null,
      updated_at integer not null,
      ended_at integer)`,
    indexes: [
      'create index contacts_by_state on contacts (state, id)',
      'create index contacts_by_agent on contacts (agent_id, state)',
      'create index contacts_by_callback on contacts (callback_id)',
    ],
  },
  {
    table: 'queue_entries',
    definition: `(
      contact_id integer primary key,
      skill_id integer,
      target_agent_id integer,
      target_until integer,
      priority integer not null,
      queued_at integer not null)`,
    indexes: [
      'create index queue_entries_target_until on queue_entries (target_until) where target_until is not null',
    ],
  },
  {
    table: 'scheduled_callbacks',
    definition: `(
      id integer primary key autoincrement,
      first_name text not null,
      last_name text not null,
      phone_number text not null,
      skill_id integer not null,
      target_agent_id integer,
      due_at integer not null,
      time_zone text not null,
      notes text not null,
      state text not null check (state in (${CALLBACK_STATE})),
      contact_id integer,
      created_by integer,
      created_at integer not null,
      updated_at integer not null,
      idempotency_key text,
      request_hash text)`,
    indexes: [
      'create index callbacks_due on scheduled_callbacks (state, due_at, id)',
      'create index callbacks_by_phone on scheduled_callbacks (phone_number, skill_id)',
      'create unique index callbacks_idempotency on scheduled_callbacks (created_by, idempotency_key)',
    ],
  },
  {
    table: 'script_runs',
    definition: `(
      contact_id integer primary key,
      script_name text not null,
      status text not null check (status in (${RUN_STATUS})),
      resume_at integer,
      start_variables text,
      snapshot text,
      released integer not null check (released in (0, 1)),
      owner text,
      lease_until integer,
      created_at integer not null,
      updated_at integer not null)`,
    indexes: ['create index script_runs_due on script_runs (status, resume_at)'],
  },
  {
    table: 'tokens',
    definition: `(
      id integer primary key autoincrement,
      agent_id integer not null references agents (id),
      token_hash text not null unique,
      label text not null,
      created_at integer not null,
      revoked_at integer)`,
    indexes: [],
  },
];

async function upSqlite(db: Kysely<unknown>) {
  // Start variables were stored in the snapshot column as {"start": {"variables": …}}.
  await sql`alter table script_runs add column start_variables text`.execute(db);
  await sql`update script_runs set start_variables = coalesce(json_extract(snapshot, '$.start.variables'), '{}'), snapshot = null
    where snapshot is null or snapshot like '{"start":%'`.execute(db);
  for (const { table, definition, indexes } of SQLITE) {
    const columns = (
      await sql<{ name: string }>`select name from pragma_table_info(${table})`.execute(db)
    ).rows
      .map((c) => c.name)
      .filter((name) => name !== 'signals');
    const names = columns.map((c) => `"${c}"`).join(', ');
    await sql.raw(`create table "${table}_new" ${definition}`).execute(db);
    await sql.raw(`insert into "${table}_new" (${names}) select ${names} from "${table}"`).execute(db);
    await sql.raw(`drop table "${table}"`).execute(db);
    await sql.raw(`alter table "${table}_new" rename to "${table}"`).execute(db);
    for (const index of indexes) await sql.raw(index).execute(db);
  }
  await sql`create table script_run_signals (
    id integer primary key autoincrement,
    contact_id integer not null references script_runs (contact_id) on delete cascade,
    params text not null,
    created_at integer not null)`.execute(db);
  const problems = await sql`pragma foreign_key_check`.execute(db);
  if (problems.rows.length > 0) {
    throw new Error(`rows refer to rows that do not exist: ${JSON.stringify(problems.rows.slice(0, 5))}`);
  }
}
