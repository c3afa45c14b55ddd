import { expect, it } from 'vitest';
import { describeEachStore } from '../../test/support/stores.js';
import { migrateToLatest } from './migrate.js';

describeEachStore('the store', (kind) => {
  it('migrates an empty database and is idempotent on the next start', async () => {
    const store = await kind.open();
    try {
      const tables = await store.db.introspection.getTables();
      const names = tables.map((t) => t.name);
      for (const table of ['contacts', 'scheduled_callbacks', 'queue_entries', 'agents', 'audit_log']) {
        expect(names).toContain(table);
      }
      // A second process starting finds nothing left to apply.
      expect(await migrateToLatest(store.db as never, store.dialect)).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('commits all of a transaction or none of it', async () => {
    const store = await kind.open();
    try {
      await expect(
        store.transaction(async (trx) => {
          await trx.insertInto('security_profiles').values({ name: 'x', permissions: '[]' }).execute();
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await store.db.selectFrom('security_profiles').selectAll().execute()).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('keeps concurrent transactions apart: one failing rolls back alone, the others commit', async () => {
    const store = await kind.open();
    try {
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) =>
          store.transaction(async (trx) => {
            await trx
              .insertInto('security_profiles')
              .values({ name: `p${i}`, permissions: '[]' })
              .execute();
            if (i === 7) throw new Error('job 7 fails after writing');
            return i;
          }),
        ),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(19);
      expect(results[7]).toEqual({ status: 'rejected', reason: new Error('job 7 fails after writing') });
      const names = (await store.db.selectFrom('security_profiles').select('name').execute()).map(
        (r) => r.name,
      );
      expect(names).toHaveLength(19);
      expect(names).not.toContain('p7');
    } finally {
      await store.close();
    }
  });

  it('continues generated ids after explicit ones', async () => {
    const store = await kind.open();
    try {
      const row = { media_type: 'Chat', direction: 'Inbound', state: 'Active', created_at: 0, updated_at: 0 };
      await store.db
        .insertInto('contacts')
        .values({ ...row, id: 5001 })
        .execute();
      await store.continueIds(store.db);
      const next = await store.db
        .insertInto('contacts')
        .values(row)
        .returning('id')
        .executeTakeFirstOrThrow();
      expect(next.id).toBe(5002);
    } finally {
      await store.close();
    }
  });
});
