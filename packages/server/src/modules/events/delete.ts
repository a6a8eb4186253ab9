import { events } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import { ApiError, apiError } from '../../api/errors.js';
import type { Db } from '../../db/database.js';
import { ID_CHUNK, chunks, eventsDb } from './store.js';

/**
 * Deletes every event of one task or model. For the modules that delete or reset tasks and models;
 * they check write access and locks themselves.
 */
export async function deleteEntityEvents(db: Db, company: string, entityId: string, modelEvent: boolean): Promise<number> {
  return deleteEntitiesEvents(db, company, [entityId], modelEvent);
}

/** `deleteEntityEvents` for several tasks or models at once (a project's contents); returns how many events went. */
export async function deleteEntitiesEvents(db: Db, company: string, entityIds: readonly string[], modelEvent: boolean): Promise<number> {
  let deleted = 0;
  for (const ids of chunks([...new Set(entityIds)], ID_CHUNK)) {
    const result = await eventsDb(db)
      .deleteFrom('events')
      .where('company', '=', company)
      .where('task', 'in', ids)
      .where('model_event', '=', modelEvent ? 1 : 0)
      .executeTakeFirst();
    deleted += Number(result.numDeletedRows);
  }
  return deleted;
}

/** ClearML answers a locked entity with its invalid-id error and this message. */
function lockedError(name: 'invalid_task_id' | 'invalid_model_id', what: string, company: string, id: string): ApiError {
  return new ApiError(name, { data: { company, id }, message: `Cannot update events for a published ${what}: company=${company}, id=${id}` });
}

export const deleteForTask = defineHandler(events.delete_for_task, async (ctx, req) => {
  const task = await ctx.db.kysely.selectFrom('tasks').select(['id', 'status']).where('id', '=', req.task).where('company', '=', ctx.company).executeTakeFirst();
  if (!task) throw apiError('invalid_task_id', undefined, { company: ctx.company, id: req.task });
  if (!req.allow_locked && (task.status === 'published' || task.status === 'publishing')) throw lockedError('invalid_task_id', 'task', ctx.company, req.task);
  return { deleted: await deleteEntityEvents(ctx.db, ctx.company, req.task, false) };
});

export const deleteForModel = defineHandler(events.delete_for_model, async (ctx, req) => {
  const model = await ctx.db.kysely.selectFrom('models').select(['id', 'ready']).where('id', '=', req.model).where('company', '=', ctx.company).executeTakeFirst();
  if (!model) throw apiError('invalid_model_id', undefined, { company: ctx.company, id: req.model });
  if (!req.allow_locked && model.ready) throw lockedError('invalid_model_id', 'model', ctx.company, req.model);
  return { deleted: await deleteEntityEvents(ctx.db, ctx.company, req.model, true) };
});

/**
 * Scrolls hold no server state (their position is in the id), so there is nothing to release;
 * like ClearML, an unknown id is not an error.
 */
export const clearScroll = defineHandler(events.clear_scroll, async () => ({}));
