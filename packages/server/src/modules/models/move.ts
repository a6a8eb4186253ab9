import { models } from '@cairn/protocol';
import { apiError } from '../../api/errors.js';
import { defineHandler } from '../../api/handler.js';
import { isoDate } from '../../util/time.js';
import { ensureProject } from '../projects/tree.js';
import { validateProject } from './common.js';

/**
 * models.move: to a project by id, or by name (created with its parents when missing); `project: null`
 * moves to the root. Neither key given is 400/11.
 */
export const moveModels = defineHandler(models.move, async (ctx, req) => {
  if (req.project === undefined && (req.project_name === undefined || req.project_name === null)) {
    throw apiError('missing_required_fields', 'project or project_name is required');
  }
  return ctx.db.transaction(async (db) => {
    let project: string | null = null;
    if (req.project) {
      await validateProject(ctx, req.project, db);
      project = req.project;
    } else if (req.project_name) {
      project = (await ensureProject(ctx, db, req.project_name))?.id ?? null;
    }
    await db.kysely
      .updateTable('models')
      .set({ project, last_change: isoDate(ctx.services.clock.now()), last_changed_by: ctx.user })
      .where('company', '=', ctx.company)
      .where('id', 'in', req.ids)
      .execute();
    return { project_id: project };
  });
});
