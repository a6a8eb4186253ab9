import { sql } from 'kysely';
import { models } from '@cairn/protocol';
import type { CallContext } from '../../api/context.js';
import { apiError } from '../../api/errors.js';
import { defineHandler } from '../../api/handler.js';
import { fromJson, isPlainObject } from '../../util/json.js';
import { listEntities, modelsEntity, type Doc } from '../../query/index.js';
import { withSubprojects } from '../projects/tree.js';
import { presentModel } from './common.js';

/** models.get_by_id: a company or public model, every field not excluded by default. */
export const getModelById = defineHandler(models.get_by_id, async (ctx, req) => {
  const { items } = await listEntities(ctx, modelsEntity, { id: [req.model] }, { present: presentModel(ctx) });
  const model = items[0];
  if (!model) throw apiError('invalid_model_id', 'no such public or company model', { id: req.model, company: ctx.company });
  return { model: model as { id: string } };
});

/** models.get_all: §4 filters, projection, ordering, paging or scroll. Reference fields stay ids. */
export const getAllModels = defineHandler(models.get_all, async (ctx, req) => {
  const { items, scroll_id } = await listEntities(ctx, modelsEntity, req, { present: presentModel(ctx) });
  return { models: items as { id: string }[], ...(scroll_id ? { scroll_id } : {}) };
});

/** models.get_all_ex: as get_all, with reference fields joined and `stats` on request (web app). */
export const getAllModelsEx = defineHandler(models.get_all_ex, async (ctx, req) => {
  const { items, scroll_id } = await listEntities(ctx, modelsEntity, req, {
    expandRefs: true,
    allowPublic: req.allow_public ?? true,
    present: presentModel(ctx),
  });
  if (req.include_stats) await addStats(ctx, items);
  return { models: items as { id: string }[], ...(scroll_id ? { scroll_id } : {}) };
});

/** models.get_by_id_ex: the web app's model detail (get_all_ex over the given ids). */
export const getModelsByIdEx = defineHandler(models.get_by_id_ex, async (ctx, req) => {
  const { items } = await listEntities(ctx, modelsEntity, req, { expandRefs: true, present: presentModel(ctx) });
  return { models: items as { id: string }[] };
});

/** `stats: {labels_count}` for the page, read in one query. */
async function addStats(ctx: CallContext, items: Doc[]): Promise<void> {
  if (!items.length) return;
  const rows = await ctx.db.kysely
    .selectFrom('models')
    .select(['id', 'labels'])
    .where('company', 'in', [ctx.company, ''])
    .where('id', 'in', items.map((m) => m.id as string))
    .execute();
  const counts = new Map(rows.map((r) => {
    const labels = fromJson<unknown>(r.labels, {});
    return [r.id, isPlainObject(labels) ? Object.keys(labels).length : 0];
  }));
  for (const item of items) item.stats = { labels_count: counts.get(item.id as string) ?? 0 };
}

/** models.get_frameworks: distinct non-empty frameworks of company and public models, sorted. */
export const getFrameworks = defineHandler(models.get_frameworks, async (ctx, req) => {
  let query = ctx.db.kysely
    .selectFrom('models')
    .select('framework')
    .distinct()
    .where('company', 'in', [ctx.company, ''])
    .where('framework', 'is not', null)
    .where('framework', '!=', '');
  if (req.projects?.length) query = query.where('project', 'in', await withSubprojects(ctx, req.projects));
  const rows = await query.orderBy(sql`framework`).execute();
  return { frameworks: rows.map((r) => r.framework!) };
});
