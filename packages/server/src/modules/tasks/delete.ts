import type { z } from 'zod';
import { tasks } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import type { CallContext } from '../../api/context.js';
import { apiError } from '../../api/errors.js';
import { isoDate } from '../../util/time.js';
import { readTags } from './record.js';
import { dequeueTask, loadTask, touchProject } from './status.js';
import { cleanupTask, deleteOrphanedFiles } from './cleanup.js';
import { ARCHIVED_TAG } from './archive.js';

export interface DeleteOptions {
  force?: boolean | null;
  deleteOutputModels?: boolean | null;
  returnFileUrls?: boolean | null;
  statusReason?: string | null;
  statusMessage?: string | null;
  /** Also delete the removed models' weights and output artifacts stored on this server or an object store (default true). */
  deleteExternalArtifacts?: boolean | null;
}

/**
 * Deletes a task. Without force only a `created` or archived task may go (400/123), and published
 * children or output models refuse it (400/123). Children and kept models then point at
 * `__DELETED__<id>`; draft output models are deleted unless `deleteOutputModels` is false.
 */
export async function deleteTask(ctx: CallContext, taskId: string, options: DeleteOptions) {
  const { response, orphanedUrls } = await ctx.db.transaction(async (db) => {
    const tx: CallContext = { ...ctx, db };
    const task = await loadTask(tx, taskId, { writable: true, forUpdate: true });
    const force = options.force ?? false;
    if (!force && task.status !== 'created' && !readTags(task.system_tags).includes(ARCHIVED_TAG)) {
      throw apiError('task_cannot_be_deleted', 'due to status, use force=True', { task: task.id, expected: 'created', current: task.status });
    }
    await dequeueTask(tx, task, { statusReason: options.statusReason, statusMessage: options.statusMessage });
    const { result, orphanedUrls } = await cleanupTask(tx, task, {
      force,
      updateChildren: true,
      deleteOutputModels: options.deleteOutputModels ?? true,
      returnFileUrls: options.returnFileUrls ?? false,
    });
    await db.kysely.deleteFrom('tasks').where('id', '=', task.id).where('company', '=', ctx.company).execute();
    await touchProject(tx, db, task.project, isoDate(ctx.services.clock.now()));
    return { response: { deleted: true, ...result }, orphanedUrls };
  });
  if (options.deleteExternalArtifacts !== false) await deleteOrphanedFiles(ctx, orphanedUrls);
  return response;
}

/** The options of tasks.delete and tasks.delete_many, which name them alike. */
export function deleteOptions(req: Omit<z.output<typeof tasks.delete.request>, 'task'>): DeleteOptions {
  return {
    force: req.force,
    deleteOutputModels: req.delete_output_models,
    returnFileUrls: req.return_file_urls,
    statusReason: req.status_reason,
    statusMessage: req.status_message,
    deleteExternalArtifacts: req.delete_external_artifacts,
  };
}

/** tasks.delete */
export const deleteTaskHandler = defineHandler(tasks.delete, async (ctx, req) => deleteTask(ctx, req.task, deleteOptions(req)));
