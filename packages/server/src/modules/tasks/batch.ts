import { tasks } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import { ApiError } from '../../api/errors.js';
import { setArchived } from './archive.js';
import { deleteOptions, deleteTask } from './delete.js';
import { resetTask } from './reset.js';
import { stopTask } from './lifecycle.js';
import { publishTask } from './status.js';

interface BatchFailure {
  id: string;
  error: { codes: [number, number]; msg: string; data: Record<string, unknown> };
}

/**
 * Runs `fn` for each id in turn. An API error fails that id only and is reported in `failed`
 * (the call still answers 200); anything else is a server fault and fails the call.
 */
export async function runBatch<T extends object>(ids: string[], fn: (id: string) => Promise<T>) {
  const succeeded: ({ id: string } & T)[] = [];
  const failed: BatchFailure[] = [];
  for (const id of ids) {
    try {
      succeeded.push({ id, ...(await fn(id)) });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      failed.push({ id, error: { codes: [err.code, err.subcode], msg: err.message, data: err.data } });
    }
  }
  return { succeeded, failed };
}

export const archiveMany = defineHandler(tasks.archive_many, async (ctx, req) =>
  runBatch(req.ids, async (id) => ({ archived: await setArchived(ctx, id, true, { statusReason: req.status_reason, statusMessage: req.status_message }) })),
);

export const unarchiveMany = defineHandler(tasks.unarchive_many, async (ctx, req) =>
  runBatch(req.ids, async (id) => ({ unarchived: await setArchived(ctx, id, false, { statusReason: req.status_reason, statusMessage: req.status_message }) })),
);

export const deleteMany = defineHandler(tasks.delete_many, async (ctx, req) =>
  runBatch(req.ids, (id) =>
    deleteTask(ctx, id, deleteOptions(req)),
  ),
);

export const resetMany = defineHandler(tasks.reset_many, async (ctx, req) =>
  runBatch(req.ids, async (id) => {
    const { dequeued, ...res } = await resetTask(ctx, id, {
      force: req.force,
      clearAll: req.clear_all,
      deleteOutputModels: req.delete_output_models,
      returnFileUrls: req.return_file_urls,
      deleteExternalArtifacts: req.delete_external_artifacts,
    });
    return { ...res, dequeued: dequeued.removed > 0 };
  }),
);

export const publishMany = defineHandler(tasks.publish_many, async (ctx, req) =>
  runBatch(req.ids, (id) =>
    publishTask(ctx, id, { force: req.force ?? false, publishModel: req.publish_model ?? true, statusReason: req.status_reason, statusMessage: req.status_message }),
  ),
);

export const stopMany = defineHandler(tasks.stop_many, async (ctx, req) =>
  runBatch(req.ids, (id) => stopTask(ctx, id, { force: req.force, statusReason: req.status_reason })),
);
