import { models } from '@cairn/protocol';
import { apiError } from '../../api/errors.js';
import { defineHandler } from '../../api/handler.js';

/** models.make_public: the caller's models become readable by every company (and writable by none). */
export const makeModelsPublic = defineHandler(models.make_public, async (ctx, req) => {
  const ids = [...new Set(req.ids)];
  const rows = await ctx.db.kysely.selectFrom('models').select('id').where('company', '=', ctx.company).where('id', 'in', ids).execute();
  if (rows.length < ids.length) {
    const found = new Set(rows.map((r) => r.id));
    throw apiError('invalid_model_id', undefined, { ids: ids.filter((id) => !found.has(id)) });
  }
  const res = await ctx.db.kysely.updateTable('models').set({ company: '', company_origin: ctx.company }).where('company', '=', ctx.company).where('id', 'in', ids).executeTakeFirst();
  return { updated: Number(res.numUpdatedRows) };
});

/** models.make_private: public models that the caller's company made public return to it. */
export const makeModelsPrivate = defineHandler(models.make_private, async (ctx, req) => {
  const ids = [...new Set(req.ids)];
  const rows = await ctx.db.kysely.selectFrom('models').select('id').where('company', '=', '').where('company_origin', '=', ctx.company).where('id', 'in', ids).execute();
  if (rows.length < ids.length) {
    const found = new Set(rows.map((r) => r.id));
    throw apiError('invalid_model_id', undefined, { ids: ids.filter((id) => !found.has(id)) });
  }
  const res = await ctx.db.kysely.updateTable('models').set({ company: ctx.company, company_origin: null }).where('company', '=', '').where('company_origin', '=', ctx.company).where('id', 'in', ids).executeTakeFirst();
  return { updated: Number(res.numUpdatedRows) };
});
