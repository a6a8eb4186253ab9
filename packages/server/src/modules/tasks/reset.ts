import { tasks } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import type { CallContext } from '../../api/context.js';
import { apiError } from '../../api/errors.js';
import { artifactsMap } from './prepare.js';
import { artifactsToList, readDict, readModels } from './record.js';
import { applyStatusChange, loadTask } from './status.js';
import { cleanupTask, deleteOrphanedFiles } from './cleanup.js';
import { removeTaskEntries } from '../queues/store.js';

export interface ResetOptions {
  force?: boolean | null;
  clearAll?: boolean | null;
  deleteOutputModels?: boolean | null;
  returnFileUrls?: boolean | null;
  /** Also delete the removed models' weights and output artifacts stored on this server or an object store (default true). */
  deleteExternalArtifacts?: boolean | null;
}

/**
 * Back to `created` (forced): out of its queue, output models cleaned up (see `cleanupTask`), and the
 * run's results cleared: iterations, metrics, output models, runtime, result and error, times, output
 * artifacts. `clearAll` also clears `execution` and `script`. A published task needs force (400/110).
 */
export async function resetTask(ctx: CallContext, taskId: string, options: ResetOptions) {
  const { response, orphanedUrls } = await ctx.db.transaction(async (db) => {
    const tx: CallContext = { ...ctx, db };
    const task = await loadTask(tx, taskId, { writable: true, forUpdate: true });
    const force = options.force ?? false;
    if (!force && task.status === 'published') throw apiError('invalid_task_status', undefined, { task_id: task.id, status: task.status });
    // Out of every queue it waits in, whatever its status says (a reset task must not be run by an agent).
    const dequeued = { removed: await removeTaskEntries(tx, task.id) };
    const { result, orphanedUrls } = await cleanupTask(tx, task, {
      force,
      updateChildren: false,
      deleteOutputModels: options.deleteOutputModels ?? true,
      returnFileUrls: options.returnFileUrls ?? false,
    });

    const models = { ...readModels(task.models), output: [] };
    const { result: _result, error: _error, ...output } = readDict(task.output);
    let execution: Record<string, unknown> = {};
    if (!options.clearAll) {
      const { queue: _queue, ...kept } = readDict(task.execution);
      const inputArtifacts = artifactsToList(kept.artifacts).filter((a) => a.mode === 'input');
      execution = { ...kept, artifacts: artifactsMap(inputArtifacts) };
    }
    const res = await applyStatusChange(tx, task, 'created', {
      force: true,
      statusReason: 'reset',
      statusMessage: 'reset',
      set: {
        last_iteration: 0,
        last_metrics: {},
        metric_stats: {},
        models,
        runtime: {},
        output,
        execution,
        ...(options.clearAll ? { script: {} } : {}),
        last_worker: null,
        last_worker_report: null,
        started: null,
        completed: null,
        published: null,
        active_duration: null,
        enqueue_status: null,
      },
    });
    return { response: { ...res, dequeued, ...result }, orphanedUrls };
  });
  if (options.deleteExternalArtifacts !== false) await deleteOrphanedFiles(ctx, orphanedUrls);
  return response;
}

/** tasks.reset */
export const resetTaskHandler = defineHandler(tasks.reset, async (ctx, req) =>
  resetTask(ctx, req.task, {
    force: req.force,
    clearAll: req.clear_all,
    deleteOutputModels: req.delete_output_models,
    returnFileUrls: req.return_file_urls,
    deleteExternalArtifacts: req.delete_external_artifacts,
  }),
);
