import { models } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import { newId } from '../../util/ids.js';
import { toJson } from '../../util/json.js';
import { isoDate } from '../../util/time.js';
import { loadTask } from '../tasks/status.js';
import { DELETED_PREFIX, conformTags, storedMetadata, validateLabels, validateName, validateProject } from './common.js';

/**
 * models.create. `ready` defaults to true when omitted (ClearML's runtime default; the SDK always sends it);
 * `public` creates a model every company can read and none can write.
 */
export const createModel = defineHandler(models.create, async (ctx, req) => {
  const name = validateName(req.name);
  const company = req.public ? '' : ctx.company;
  if (req.project) await validateProject(ctx, req.project);
  const task = req.task && !req.task.startsWith(DELETED_PREFIX) ? req.task : null;
  if (task) await loadTask(ctx, task, { writable: true });
  const now = isoDate(ctx.services.clock.now());
  const id = newId();
  await ctx.db.kysely
    .insertInto('models')
    .values({
      id,
      company,
      user: ctx.user,
      name,
      created: now,
      last_update: now,
      last_change: now,
      last_changed_by: ctx.user,
      task,
      parent: req.parent ?? null,
      project: req.project ?? null,
      comment: req.comment ?? '',
      tags: toJson(conformTags('tags', req.tags ?? [])),
      system_tags: toJson(conformTags('system_tags', req.system_tags ?? [])),
      framework: req.framework ?? null,
      design: toJson(req.design ?? {}),
      labels: toJson(validateLabels(req.labels ?? {})),
      uri: req.uri,
      ready: req.ready === false ? 0 : 1,
      ui_cache: toJson(req.ui_cache ?? null),
      metadata: toJson(req.metadata ? storedMetadata(req.metadata) : {}),
      last_iteration: 0,
      last_metrics: toJson({}),
      unique_metrics: null,
      company_origin: req.public ? ctx.company : null,
      weights_sha256: req.weights_sha256 ?? null,
      weights_size: req.weights_size ?? null,
    })
    .execute();
  return { id, created: true };
});
