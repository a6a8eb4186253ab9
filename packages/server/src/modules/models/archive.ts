import { models } from '@cairn/protocol';
import type { CallContext } from '../../api/context.js';
import { defineHandler } from '../../api/handler.js';
import { fromJson, toJson } from '../../util/json.js';
import { isoDate } from '../../util/time.js';
import { runBatch } from './batch.js';
import { ARCHIVED_TAG, loadWritableModel } from './common.js';

/** Adds or removes the system tag `archived`; only `last_change` moves (the model itself did not change). */
async function setArchived(ctx: CallContext, id: string, archived: boolean): Promise<void> {
  const model = await loadWritableModel(ctx, id);
  const tags = new Set(fromJson<string[]>(model.system_tags, []));
  if (archived) tags.add(ARCHIVED_TAG);
  else tags.delete(ARCHIVED_TAG);
  await ctx.db.kysely
    .updateTable('models')
    .set({ system_tags: toJson([...tags].sort()), last_change: isoDate(ctx.services.clock.now()), last_changed_by: ctx.user })
    .where('id', '=', id)
    .where('company', '=', ctx.company)
    .execute();
}

export const archiveModels = defineHandler(models.archive_many, (ctx, req) =>
  runBatch(req.ids, async (id) => {
    await setArchived(ctx, id, true);
    return { archived: true };
  }),
);

export const unarchiveModels = defineHandler(models.unarchive_many, (ctx, req) =>
  runBatch(req.ids, async (id) => {
    await setArchived(ctx, id, false);
    return { unarchived: true };
  }),
);
