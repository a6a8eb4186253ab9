import { tasks } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import { isoDate } from '../../util/time.js';
import { readModels } from './record.js';
import { requireUpdatable, withTaskLocked, writeTask } from './update.js';

/**
 * tasks.add_or_update_model: registers a model on the task under an entry name (replacing the model
 * of an entry with that name, else appending). The task must be created or in_progress (400/110).
 * `iteration` raises the task's `last_iteration`.
 */
export const addOrUpdateModel = defineHandler(tasks.add_or_update_model, async (ctx, req) =>
  withTaskLocked(ctx, req.task, async (tx, task) => {
    requireUpdatable(task, true);
    const models = readModels(task.models);
    const entry = { name: req.name, model: req.model, updated: isoDate(ctx.services.clock.now()) };
    const list = models[req.type];
    const index = list.findIndex((m) => m.name === req.name);
    if (index >= 0) list[index] = entry;
    else list.push(entry);
    const iteration = req.iteration ?? undefined;
    const updated = await writeTask(tx, task, {
      models,
      ...(iteration !== undefined && iteration > task.last_iteration ? { last_iteration: iteration } : {}),
    });
    return { updated };
  }),
);

/** tasks.delete_models: removes model entries by name and type; same status rule. */
export const deleteModels = defineHandler(tasks.delete_models, async (ctx, req) =>
  withTaskLocked(ctx, req.task, async (tx, task) => {
    requireUpdatable(task, true);
    const models = readModels(task.models);
    for (const type of ['input', 'output'] as const) {
      const names = new Set(req.models.filter((m) => m.type === type).map((m) => m.name));
      models[type] = models[type].filter((m) => !names.has(m.name));
    }
    return { updated: await writeTask(tx, task, { models }) };
  }),
);
