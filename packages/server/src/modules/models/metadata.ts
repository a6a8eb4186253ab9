import { sql, type RawBuilder } from 'kysely';
import { models } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import type { CallContext } from '../../api/context.js';
import { escapeKey } from '../../util/keys.js';
import { isoDate } from '../../util/time.js';
import { sqlitePath } from '../../query/index.js';
import { loadWritableModel, storedMetadata } from './common.js';

/**
 * models.add_or_update_metadata: upserts items by key, or replaces the whole map. The merge is done by the
 * database in one statement, so concurrent writers of different keys do not lose each other's items.
 */
export const addOrUpdateMetadata = defineHandler(models.add_or_update_metadata, async (ctx, req) => {
  await loadWritableModel(ctx, req.model);
  const items = JSON.stringify(storedMetadata(req.metadata));
  const merged = req.replace_metadata
    ? ctx.db.dialect === 'postgres' ? sql<string>`${items}::jsonb` : sql<string>`${items}`
    : ctx.db.dialect === 'postgres'
      ? sql<string>`coalesce(metadata, '{}'::jsonb) || ${items}::jsonb`
      : sql<string>`json_patch(coalesce(metadata, '{}'), ${items})`;
  return writeMetadata(ctx, req.model, merged);
});

/** models.delete_metadata: removes the given keys. */
export const deleteMetadata = defineHandler(models.delete_metadata, async (ctx, req) => {
  await loadWritableModel(ctx, req.model);
  const keys = req.keys.map(escapeKey);
  const removed =
    ctx.db.dialect === 'postgres'
      ? sql<string>`coalesce(metadata, '{}'::jsonb) - ${keys}::text[]`
      : sql<string>`json_remove(coalesce(metadata, '{}'), ${sql.join(keys.map((k) => sql`${sqlitePath([k])}`))})`;
  return writeMetadata(ctx, req.model, removed);
});

/** Sets a model's metadata to `value` (an SQL expression over the stored map) and marks the change. */
async function writeMetadata(ctx: CallContext, model: string, value: RawBuilder<string>): Promise<{ updated: number }> {
  const now = isoDate(ctx.services.clock.now());
  const res = await ctx.db.kysely
    .updateTable('models')
    .set({ metadata: value, last_update: now, last_change: now, last_changed_by: ctx.user })
    .where('id', '=', model)
    .where('company', '=', ctx.company)
    .executeTakeFirst();
  return { updated: Number(res.numUpdatedRows) };
}
