import { tasks } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import { readDict } from './record.js';
import { artifactsMap } from './prepare.js';
import { requireUpdatable, withTaskLocked, writeTask } from './update.js';

/**
 * tasks.add_or_update_artifacts: upserts artifacts by key and mode into `execution.artifacts`
 * (stored as a map keyed `<md5(key)>_<mode>`). A running task reports artifacts, so the task may be
 * created or in_progress.
 */
export const addOrUpdateArtifacts = defineHandler(tasks.add_or_update_artifacts, async (ctx, req) =>
  withTaskLocked(ctx, req.task, async (tx, task) => {
    requireUpdatable(task, true);
    const execution = readDict(task.execution);
    execution.artifacts = { ...readDict(execution.artifacts), ...artifactsMap(req.artifacts) };
    return { updated: await writeTask(tx, task, { execution }) };
  }),
);
