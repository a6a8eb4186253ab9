import { models } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import { fromJson, toJson } from '../../util/json.js';
import { isoDate } from '../../util/time.js';
import { conformTags } from './common.js';

/** models.update_tags: adds and removes user tags on the caller's models (public ones are left alone). */
export const updateModelTags = defineHandler(models.update_tags, async (ctx, req) => {
  const ids = req.ids ?? [];
  const add = conformTags('add_tags', req.add_tags ?? []);
  const remove = new Set(req.remove_tags ?? []);
  if (!ids.length || (!add.length && !remove.size)) return { updated: 0 };
  const rows = await ctx.db.kysely.selectFrom('models').select(['id', 'tags']).where('company', '=', ctx.company).where('id', 'in', ids).execute();
  const now = isoDate(ctx.services.clock.now());
  for (const row of rows) {
    const tags = new Set(fromJson<string[]>(row.tags, []));
    for (const t of add) tags.add(t);
    for (const t of remove) tags.delete(t);
    await ctx.db.kysely
      .updateTable('models')
      .set({ tags: toJson([...tags].sort()), last_update: now, last_change: now, last_changed_by: ctx.user })
      .where('id', '=', row.id)
      .execute();
  }
  return { updated: rows.length };
});
