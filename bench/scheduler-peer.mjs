#!/usr/bin/env node
// The peer of bench/scheduler.mjs: the floor of what the database itself costs to dispatch due
// callbacks. The same claim and the same rows as `dispatchDueCallbacks` (the callback Queued and
// linked, a Queued outbound Phone contact, its queue entry, a `callback.dispatched` audit row with
// lateMs), hand-written as set-based SQL: on PostgreSQL ONE statement per batch of 500 (UPDATE …
// FOR UPDATE SKIP LOCKED … RETURNING feeding INSERT … SELECT through CTEs), on SQLite one
// transaction of five statements. Woken like `serve`: a timer at the next due time, LISTEN on
// `switchboard_public` (PostgreSQL), PRAGMA data_version every 200 ms (SQLite). Stops on SIGTERM.
//
//   node bench/scheduler-peer.mjs <postgres://…|file.sqlite>
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';

const target = process.argv[2];
if (!target) {
  process.stderr.write('usage: node bench/scheduler-peer.mjs <postgres-url|sqlite-file>\n');
  process.exit(2);
}
const BATCH = 500;
const MAX_IDLE_MS = 30_000;
const AGENT_WAIT_MS = 300_000;

let stopped = false;
let woken = false;
let interrupt;
const pause = (ms) =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      interrupt = undefined;
      resolve();
    }
    interrupt = done;
  });
const wake = () => {
  woken = true;
  interrupt?.();
};
process.once('SIGTERM', () => {
  stopped = true;
  interrupt?.();
});

async function loop(dispatch, nextDue) {
  while (!stopped) {
    woken = false;
    while ((await dispatch(Date.now())) === BATCH && !stopped) {}
    const next = await nextDue();
    if (stopped || woken) continue;
    const delay = next === null ? MAX_IDLE_MS : Math.min(MAX_IDLE_MS, next - Date.now());
    if (delay > 0) await pause(delay);
  }
}

if (/^postgres(ql)?:\/\//.test(target)) {
  const INT8 = 20;
  const parse = (oid, format) => (oid === INT8 ? Number : pg.types.getTypeParser(oid, format));
  const db = new pg.Client({ connectionString: target, types: { getTypeParser: parse } });
  const listener = new pg.Client({ connectionString: target });
  await db.connect();
  await listener.connect();
  listener.on('notification', wake);
  // Unnamed statements, planned with their values each time, as Kysely's are: a named (prepared)
  // one turns generic after five runs and then guesses `due_at <= $1` matches a third of the table.
  const claim = `
    with claimed as (
      update scheduled_callbacks sc
         set state = 'Queued', updated_at = $1, contact_id = nextval('contacts_id_seq')
       where sc.id in (select id from scheduled_callbacks
                        where state = 'Scheduled' and due_at <= $1
                        order by due_at, id limit $2 for update skip locked)
      returning sc.id, sc.skill_id, sc.target_agent_id, sc.phone_number, sc.due_at, sc.contact_id
    ), c as (
      insert into contacts (id, media_type, direction, state, skill_id, target_agent_id,
                            phone_number, callback_id, created_at, updated_at)
      select contact_id, 'Phone', 'Outbound', 'Queued', skill_id, target_agent_id,
             phone_number, id, $1, $1 from claimed
    ), q as (
      insert into queue_entries (contact_id, skill_id, target_agent_id, target_until, priority, queued_at)
      select contact_id, skill_id, target_agent_id,
             case when target_agent_id is null then null else $1 + $3 end, 0, $1 from claimed
    ), a as (
      insert into audit_log (at, actor, channel, action, target_type, target_id, details)
      select $1, 'scheduler', 'scheduler', 'callback.dispatched', 'callback', id::text,
             json_build_object('contactId', contact_id, 'lateMs', $1 - due_at)::text from claimed
    )
    select count(*)::int as n from claimed`;
  const dispatch = async (now) => (await db.query(claim, [now, BATCH, AGENT_WAIT_MS])).rows[0].n;
  const nextDue = async () =>
    (
      await db.query(
        `select due_at from scheduled_callbacks where state = 'Scheduled' order by due_at limit 1`,
      )
    ).rows[0]?.due_at ?? null;
  await listener.query('LISTEN "switchboard_public"');
  await loop(dispatch, nextDue);
  await listener.end();
  await db.end();
} else {
  const db = new SqliteDatabase(target);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL'); // as `serve` opens it
  db.pragma('busy_timeout = 5000');
  const maxContact = db.prepare('select coalesce(max(id), 0) as m from contacts');
  const insertContacts = db.prepare(`
    insert into contacts (media_type, direction, state, skill_id, target_agent_id, phone_number,
                          callback_id, created_at, updated_at)
    select 'Phone', 'Outbound', 'Queued', skill_id, target_agent_id, phone_number, id, @now, @now
      from scheduled_callbacks where state = 'Scheduled' and due_at <= @now
     order by due_at, id limit @limit`);
  const insertQueue = db.prepare(`
    insert into queue_entries (contact_id, skill_id, target_agent_id, target_until, priority, queued_at)
    select id, skill_id, target_agent_id,
           case when target_agent_id is null then null else @now + @wait end, 0, @now
      from contacts where id > @after`);
  const markQueued = db.prepare(`
    update scheduled_callbacks
       set state = 'Queued', updated_at = @now,
           contact_id = (select c.id from contacts c where c.callback_id = scheduled_callbacks.id)
     where id in (select callback_id from contacts where id > @after)`);
  const insertAudit = db.prepare(`
    insert into audit_log (at, actor, channel, action, target_type, target_id, details)
    select @now, 'scheduler', 'scheduler', 'callback.dispatched', 'callback', c.callback_id,
           json_object('contactId', c.id, 'lateMs', @now - sc.due_at)
      from contacts c join scheduled_callbacks sc on sc.id = c.callback_id where c.id > @after`);
  const next = db.prepare(
    `select due_at from scheduled_callbacks where state = 'Scheduled' order by due_at limit 1`,
  );
  const batch = db.transaction((now) => {
    const after = maxContact.get().m;
    const n = insertContacts.run({ now, limit: BATCH }).changes;
    if (n === 0) return 0;
    insertQueue.run({ now, after, wait: AGENT_WAIT_MS });
    markQueued.run({ now, after });
    insertAudit.run({ now, after });
    return n;
  });
  // Another process's commits (the benchmark's insert), noticed as `serve` notices them.
  let version = db.pragma('data_version', { simple: true });
  const timer = setInterval(() => {
    const current = db.pragma('data_version', { simple: true });
    if (current !== version) {
      version = current;
      wake();
    }
  }, 200);
  await loop(
    async (now) => batch.immediate(now),
    async () => next.get()?.due_at ?? null,
  );
  clearInterval(timer);
  db.close();
}
