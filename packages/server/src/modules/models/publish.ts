import { models, type UpdateResponse } from '@cairn/protocol';
import type { CallContext } from '../../api/context.js';
import { apiError } from '../../api/errors.js';
import { defineHandler } from '../../api/handler.js';
import { isoDate } from '../../util/time.js';
import { publishTask } from '../tasks/status.js';
import { runBatch } from './batch.js';
import { loadWritableModel } from './common.js';

interface PublishOptions {
  forcePublishTask?: boolean | null;
  publishTask?: boolean | null;
}

/**
 * Sets `ready` (publishes) a draft model. An already published model is 400/203. Unless `publishTask` is
 * false (as the SDK sends), the creating task is published first when it is not yet.
 */
async function publishModel(ctx: CallContext, id: string, options: PublishOptions) {
  const model = await loadWritableModel(ctx, id);
  if (model.ready) throw apiError('model_is_ready', undefined, { company: ctx.company, model: id });
  let published_task: { id: string; data: UpdateResponse } | undefined;
  if (model.task && options.publishTask !== false) {
    const task = await ctx.db.kysely.selectFrom('tasks').select(['id', 'status']).where('id', '=', model.task).where('company', '=', ctx.company).executeTakeFirst();
    if (task && task.status !== 'published') {
      // ClearML publishes the creating task without touching its models: its last output may be another model.
      published_task = { id: task.id, data: await publishTask(ctx, task.id, { force: options.forcePublishTask ?? false, publishModel: false }) };
    }
  }
  const now = isoDate(ctx.services.clock.now());
  await ctx.db.kysely
    .updateTable('models')
    .set({ ready: 1, last_update: now, last_change: now, last_changed_by: ctx.user })
    .where('id', '=', id)
    .where('company', '=', ctx.company)
    .execute();
  return { updated: 1, fields: { ready: true, last_update: now }, ...(published_task ? { published_task } : {}) };
}

/** models.set_ready: publish one model. */
export const setModelReady = defineHandler(models.set_ready, (ctx, req) =>
  publishModel(ctx, req.model, { forcePublishTask: req.force_publish_task, publishTask: req.publish_task }),
);

/** models.publish_many: publish several models, reporting failures (e.g. 400/203) per id. */
export const publishModels = defineHandler(models.publish_many, (ctx, req) =>
  runBatch(req.ids, async (id) => {
    const res = await publishModel(ctx, id, { forcePublishTask: req.force_publish_task, publishTask: req.publish_task });
    return { updated: true, published_task: res.published_task ?? null };
  }),
);
