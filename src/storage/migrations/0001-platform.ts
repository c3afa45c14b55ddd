import type { Kysely } from 'kysely';
import type { Dialect } from '../store.js';

/** Creates every platform table. `dialect` only picks the id and time column types. */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const time = dialect === 'postgres' ? 'bigint' : 'integer';
  const serial = dialect === 'postgres' ? 'bigserial' : 'integer';
  const id = dialect === 'postgres' ? 'bigint' : 'integer';

  await db.schema
    .createTable('business_unit')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('time_zone', 'text', (c) => c.notNull())
    .addColumn('default_country', 'text', (c) => c.notNull())
    .addColumn('callback_horizon_days', 'integer', (c) => c.notNull())
    .addColumn('agent_wait_seconds', 'integer', (c) => c.notNull())
    .addColumn('strict_phone_numbers', 'integer', (c) => c.notNull())
    .addColumn('secret', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('security_profiles')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('permissions', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('skills')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('media_type', 'text', (c) => c.notNull())
    .addColumn('direction', 'text', (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull())
    .addColumn('script', 'text')
    .execute();

  await db.schema
    .createTable('agents')
    .addColumn('id', id, (c) => c.primaryKey())
    .addColumn('username', 'text', (c) => c.notNull().unique())
    .addColumn('first_name', 'text', (c) => c.notNull())
    .addColumn('last_name', 'text', (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('state_since', time, (c) => c.notNull())
    .addColumn('security_profile', 'text')
    .addColumn('time_zone', 'text')
    .execute();

  await db.schema
    .createTable('agent_skills')
    .addColumn('agent_id', id, (c) => c.notNull())
    .addColumn('skill_id', id, (c) => c.notNull())
    .addPrimaryKeyConstraint('agent_skills_pk', ['agent_id', 'skill_id'])
    .execute();
  await db.schema.createIndex('agent_skills_by_skill').on('agent_skills').columns(['skill_id']).execute();

  await db.schema
    .createTable('contacts')
    .addColumn('id', serial, (c) =>
      dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('master_id', id)
    .addColumn('media_type', 'text', (c) => c.notNull())
    .addColumn('direction', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('skill_id', id)
    .addColumn('agent_id', id)
    .addColumn('target_agent_id', id)
    .addColumn('phone_number', 'text')
    .addColumn('ani', 'text')
    .addColumn('dnis', 'text')
    .addColumn('disconnect_reason', 'text')
    .addColumn('callback_id', id)
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .addColumn('ended_at', time)
    .execute();
  await db.schema.createIndex('contacts_by_state').on('contacts').columns(['state', 'id']).execute();
  // Routing asks whether an agent is still on an Active contact.
  await db.schema.createIndex('contacts_by_agent').on('contacts').columns(['agent_id', 'state']).execute();

  await db.schema
    .createTable('queue_entries')
    .addColumn('contact_id', id, (c) => c.primaryKey())
    .addColumn('skill_id', id)
    .addColumn('target_agent_id', id)
    .addColumn('target_until', time)
    .addColumn('priority', 'integer', (c) => c.notNull())
    .addColumn('queued_at', time, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('scheduled_callbacks')
    .addColumn('id', serial, (c) =>
      dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('first_name', 'text', (c) => c.notNull())
    .addColumn('last_name', 'text', (c) => c.notNull())
    .addColumn('phone_number', 'text', (c) => c.notNull())
    .addColumn('skill_id', id, (c) => c.notNull())
    .addColumn('target_agent_id', id)
    .addColumn('due_at', time, (c) => c.notNull())
    .addColumn('time_zone', 'text', (c) => c.notNull())
    .addColumn('notes', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('contact_id', id)
    .addColumn('created_by', id)
    .addColumn('created_at', time, (c) => c.notNull())
    .addColumn('updated_at', time, (c) => c.notNull())
    .execute();
  // The scheduler's question: what is due next? Answered from this index alone.
  await db.schema
    .createIndex('callbacks_due')
    .on('scheduled_callbacks')
    .columns(['state', 'due_at', 'id'])
    .execute();
  await db.schema
    .createIndex('callbacks_by_phone')
    .on('scheduled_callbacks')
    .columns(['phone_number', 'skill_id'])
    .execute();

  await db.schema
    .createTable('audit_log')
    .addColumn('id', serial, (c) =>
      dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('at', time, (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('details', 'text', (c) => c.notNull())
    .execute();
}
