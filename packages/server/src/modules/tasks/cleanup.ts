import { sql } from 'kysely';
import type { CallContext } from '../../api/context.js';
import { apiError } from '../../api/errors.js';
import { deleteExternalObject } from '../../files/external.js';
import { ownFileKey } from '../models/delete.js';
import { deleteEntitiesEvents, deleteEntityEvents } from '../events/index.js';
import { DELETED_PREFIX, artifactsToList, readDict, readModels, type TaskRow } from './record.js';

export interface CleanupResult {
  /** What happened to the task's events (ClearML answers with events.delete_for_task's response). */
  events: { deleted: number };
  deleted_models: number;
  updated_children: number;
  updated_models: number;
  urls?: { model_urls: string[]; event_urls: string[]; artifact_urls: string[] };
}

export interface Cleanup {
  /** What the answer reports. */
  result: CleanupResult;
  /** Files nothing refers to any more: the deleted models' weights and the task's output artifacts. */
  orphanedUrls: string[];
}

export interface CleanupOptions {
  force: boolean;
  /** Deleting (not resetting): children and kept models point at `__DELETED__<id>` instead of losing the reference. */
  updateChildren: boolean;
  deleteOutputModels: boolean;
  returnFileUrls: boolean;
}

interface OutputModel {
  id: string;
  ready: number;
  uri: string;
}

/** Ids among `modelIds` that some task of the company uses as an input model. */
async function modelsUsedAsInput(ctx: CallContext, modelIds: string[]): Promise<Set<string>> {
  if (!modelIds.length) return new Set();
  const ids = sql.join(modelIds.map((id) => sql`${id}`));
  const query =
    ctx.db.dialect === 'postgres'
      ? sql<{ model: string }>`select distinct e->>'model' as model from tasks, jsonb_array_elements(coalesce(tasks.models->'input', '[]'::jsonb)) e where tasks.company = ${ctx.company} and e->>'model' in (${ids})`
      : sql<{ model: string }>`select distinct json_extract(j.value, '$.model') as model from tasks, json_each(tasks.models, '$.input') j where tasks.company = ${ctx.company} and json_extract(j.value, '$.model') in (${ids})`;
  const { rows } = await query.execute(ctx.db.kysely);
  return new Set(rows.map((r) => r.model));
}

/**
 * What deleting or resetting a task does to what it produced (ClearML's task cleanup):
 * without force, published children or published output models refuse it (400/123). Draft output
 * models are deleted unless another task uses them as input (those only lose their task);
 * published ones are kept and detached. The task's events and those of the deleted models go too.
 */
export async function cleanupTask(ctx: CallContext, task: TaskRow, options: CleanupOptions): Promise<Cleanup> {
  const { kysely } = ctx.db;
  if (!options.force) {
    const children = await kysely
      .selectFrom('tasks')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('company', '=', ctx.company)
      .where('parent', '=', task.id)
      .where('status', '=', 'published')
      .executeTakeFirstOrThrow();
    if (Number(children.n)) throw apiError('task_cannot_be_deleted', 'has children, use force=True', { task: task.id, children: Number(children.n) });
  }

  const created = await kysely.selectFrom('models').select(['id', 'ready', 'uri']).where('company', '=', ctx.company).where('task', '=', task.id).execute();
  if (!options.force && created.some((m) => m.ready)) {
    throw apiError('task_cannot_be_deleted', 'has output models, use force=True', { task: task.id, models: created.filter((m) => m.ready).length });
  }
  const models = new Map<string, OutputModel>(created.map((m) => [m.id, m]));
  const registered = readModels(task.models).output.map((m) => m.model).filter((id) => id && !models.has(id));
  if (registered.length) {
    for (const model of await kysely.selectFrom('models').select(['id', 'ready', 'uri']).where('company', '=', ctx.company).where('id', 'in', registered).execute()) {
      if (model.ready && !options.force) throw apiError('task_cannot_be_deleted', 'has output model, use force=True', { task: task.id, model: model.id });
      models.set(model.id, model);
    }
  }
  const published = [...models.values()].filter((m) => m.ready).map((m) => m.id);
  const drafts = [...models.values()].filter((m) => !m.ready);
  const inUse = await modelsUsedAsInput(ctx, drafts.map((m) => m.id));

  const events = { deleted: await deleteEntityEvents(ctx.db, ctx.company, task.id, false) };
  const result: CleanupResult = { events, deleted_models: 0, updated_children: 0, updated_models: 0 };
  const deletable = options.deleteOutputModels ? drafts.filter((m) => !inUse.has(m.id)) : [];
  const modelUrls = [...new Set(deletable.filter((m) => m.uri).map((m) => m.uri))];
  const artifacts = artifactsToList(readDict(task.execution).artifacts);
  const artifactUrls = [...new Set(artifacts.filter((a) => (a.mode ?? 'output') === 'output' && a.uri).map((a) => String(a.uri)))];
  if (options.returnFileUrls) result.urls = { model_urls: modelUrls, event_urls: [], artifact_urls: artifactUrls };

  const deletedRef = `${DELETED_PREFIX}${task.id}`;
  if (options.updateChildren) {
    const children = await kysely.updateTable('tasks').set({ parent: deletedRef }).where('company', '=', ctx.company).where('parent', '=', task.id).executeTakeFirst();
    result.updated_children = Number(children.numUpdatedRows);
  }

  const keep = [...published];
  if (options.deleteOutputModels) {
    if (deletable.length) {
      const deleted = await kysely.deleteFrom('models').where('company', '=', ctx.company).where('id', 'in', deletable.map((m) => m.id)).executeTakeFirst();
      result.deleted_models = Number(deleted.numDeletedRows);
      await deleteEntitiesEvents(ctx.db, ctx.company, deletable.map((m) => m.id), true);
    }
    if (inUse.size) await kysely.updateTable('models').set({ task: null }).where('company', '=', ctx.company).where('id', 'in', [...inUse]).execute();
  } else {
    keep.push(...drafts.map((m) => m.id));
  }
  if (keep.length) {
    const kept = await kysely
      .updateTable('models')
      .set({ task: options.updateChildren ? deletedRef : null })
      .where('company', '=', ctx.company)
      .where('id', 'in', keep)
      .executeTakeFirst();
    if (options.updateChildren) result.updated_models = Number(kept.numUpdatedRows);
  }
  // Weights another model still points at (e.g. an imported copy) are not orphaned.
  const stillUsed = modelUrls.length
    ? new Set((await kysely.selectFrom('models').select('uri').where('company', 'in', [ctx.company, '']).where('uri', 'in', modelUrls).execute()).map((r) => r.uri))
    : new Set<string>();
  return { result, orphanedUrls: [...modelUrls.filter((u) => !stillUsed.has(u)), ...artifactUrls] };
}

/**
 * Deletes files a cleanup left without an owner when they live on this server's file server or in an
 * object store; other URIs are the client's to remove (`return_file_urls`). Called once the database
 * change is committed. A file that cannot be removed is logged: the task change stands either way.
 */
export async function deleteOrphanedFiles(ctx: CallContext, urls: readonly string[]): Promise<void> {
  for (const url of urls) {
    const key = ownFileKey(ctx, url);
    try {
      if (key) await ctx.services.files.delete(key);
      else await deleteExternalObject(url, ctx.services);
    } catch (err) {
      ctx.log.warn({ err, url }, 'could not delete a file of a deleted or reset task');
    }
  }
}
