import { tasks } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import { apiError } from '../../api/errors.js';
import { isoDate, normalizeDate } from '../../util/time.js';
import { conformTags, prepareTaskFields, validateName, validateReferences, type PreparedFields } from './prepare.js';
import { readDict, taskToWire, type TaskRow } from './record.js';
import { taskColumns, touchProject, type TaskFieldUpdate } from './status.js';
import { withTaskLocked, writeTask } from './update.js';

/** Fields a user may change on a task in any status; changing only these leaves `last_update` alone. */
const USER_SET_ALLOWED = new Set(['name', 'status_message', 'comment', 'created', 'project', 'tags', 'system_tags']);

/**
 * tasks.edit: any create field, on a `created` task unless forced (400/110). `execution`, `script`,
 * `output` and `models` are merged key by key over the stored ones; the other fields are replaced.
 */
export const editTask = defineHandler(tasks.edit, async (ctx, req) =>
  withTaskLocked(ctx, req.task, async (tx, task) => {
    if (!req.force && task.status !== 'created') throw apiError('invalid_task_status', undefined, { expected: 'created', status: task.status });
    const { task: _id, force: _force, ...input } = req;
    const fields = prepareTaskFields(tx, input, task);
    if (!Object.keys(fields).length) return { updated: 0 };
    await validateReferences(tx, tx.db, fields);

    const now = isoDate(ctx.services.clock.now());
    const changed: TaskFieldUpdate = { last_change: now, last_changed_by: ctx.user };
    if (!Object.keys(fields).every((k) => USER_SET_ALLOWED.has(k))) changed.last_update = now;
    const result = await tx.db.kysely
      .updateTable('tasks')
      .set({ ...taskColumns(fields as TaskFieldUpdate), ...taskColumns(changed) })
      .where('id', '=', task.id)
      .where('company', '=', ctx.company)
      .executeTakeFirst();
    await touchProject(tx, tx.db, fields.project, now);

    const reported = taskToWire(fields as Partial<TaskRow>, tx);
    if (input.output_dest != null && !input.output) {
      delete reported.output;
      reported['output.destination'] = input.output_dest;
    }
    return { updated: Number(result.numUpdatedRows), fields: { ...reported, ...changed } };
  }),
);

/**
 * tasks.update: only the user-settable fields (name, tags, system_tags, comment, project, created,
 * status_message, and `output__error` for `output.error`), in any status; other keys are ignored.
 */
export const updateTask = defineHandler(tasks.update, async (ctx, req) =>
  withTaskLocked(ctx, req.task, async (tx, task) => {
    const fields: PreparedFields & { created?: string; status_message?: string } = {};
    if (req.name != null) fields.name = validateName(req.name);
    if (req.tags != null) fields.tags = conformTags(req.tags);
    if (req.system_tags != null) fields.system_tags = conformTags(req.system_tags);
    if (req.comment != null) fields.comment = req.comment;
    if (req.project != null) fields.project = req.project;
    if (req.status_message != null) fields.status_message = req.status_message;
    if (req.created != null) {
      const created = normalizeDate(req.created);
      if (!created) throw apiError('validation_error', 'created must be an ISO date', { created: req.created });
      fields.created = created;
    }
    if (req.output__error != null) fields.output = { ...readDict(task.output), error: req.output__error };
    if (!Object.keys(fields).length) return { updated: 0 };
    await validateReferences(tx, tx.db, fields);

    const now = isoDate(ctx.services.clock.now());
    const changed = { last_change: now, last_changed_by: ctx.user };
    const result = await tx.db.kysely
      .updateTable('tasks')
      .set({ ...taskColumns(fields as TaskFieldUpdate), ...changed })
      .where('id', '=', task.id)
      .where('company', '=', ctx.company)
      .executeTakeFirst();
    await touchProject(tx, tx.db, fields.project, now);

    const { output, ...rest } = fields;
    const reported: Record<string, unknown> = taskToWire(rest as Partial<TaskRow>, tx);
    if (output) reported['output.error'] = req.output__error;
    return { updated: Number(result.numUpdatedRows), fields: { ...reported, ...changed } };
  }),
);

/** tasks.set_requirements: replaces `script.requirements` (the SDK sends the detected packages), in any status. */
export const setRequirements = defineHandler(tasks.set_requirements, async (ctx, req) =>
  withTaskLocked(ctx, req.task, async (tx, task) => {
    const updated = await writeTask(tx, task, { script: { ...readDict(task.script), requirements: req.requirements } });
    return { updated, fields: { 'script.requirements': req.requirements } };
  }),
);
