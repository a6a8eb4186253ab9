import { models } from '@cairn/protocol';
import type { CallContext } from '../../api/context.js';
import { compareVersions } from '../../api/context.js';
import { apiError } from '../../api/errors.js';
import { defineHandler } from '../../api/handler.js';
import { newId } from '../../util/ids.js';
import { fromJson, isPlainObject, toJson } from '../../util/json.js';
import { unescapeKeys } from '../../util/keys.js';
import { isoDate } from '../../util/time.js';
import { listEntities, modelsEntity } from '../../query/index.js';
import { loadTask } from '../tasks/status.js';
import { conformTags, loadWritableModel, presentModel, raiseTaskIteration, validateName } from './common.js';

/** The last API version that still has the pre-2.13 model endpoints. */
const LEGACY_MAX_VERSION = '2.13';
/** The entry name ClearML gives the output model before named entries existed. */
const LEGACY_OUTPUT_NAME = 'Output Model';

function requireLegacy(ctx: CallContext, replacement: string): void {
  if (compareVersions(ctx.requestedVersion, LEGACY_MAX_VERSION) > 0) throw apiError('not_supported', replacement);
}

interface TaskModelsValue {
  input?: { name?: string; model?: string; updated?: string }[];
  output?: { name?: string; model?: string; updated?: string }[];
}

/** models.get_by_task_id (API <= 2.13): the task's last output model. */
export const getModelByTaskId = defineHandler(models.get_by_task_id, async (ctx, req) => {
  requireLegacy(ctx, 'use models.get_by_id/get_all apis');
  const task = await ctx.db.kysely.selectFrom('tasks').select(['id', 'models']).where('id', '=', req.task).where('company', '=', ctx.company).executeTakeFirst();
  if (!task) throw apiError('invalid_task_id', undefined, { id: req.task, company: ctx.company });
  const output = fromJson<TaskModelsValue>(task.models, {}).output ?? [];
  const modelId = output[output.length - 1]?.model;
  if (!modelId) throw apiError('missing_task_fields', undefined, { field: 'models.output' });
  const { items } = await listEntities(ctx, modelsEntity, { id: [modelId] }, { present: presentModel(ctx) });
  if (!items[0]) throw apiError('invalid_model_id', 'no such public or company model', { id: modelId, company: ctx.company });
  return { model: items[0] as { id: string } };
});

/**
 * models.update_for_task (API <= 2.13): updates the task's last output model, or creates one from the task's
 * execution (framework, design, labels; parent = first input model), or attaches `override_model_id`.
 */
export const updateForTask = defineHandler(models.update_for_task, async (ctx, req) => {
  requireLegacy(ctx, 'use tasks.add_or_update_model');
  if (!req.uri === !req.override_model_id) {
    throw apiError('missing_required_fields', 'exactly one field is required', { fields: ['uri', 'override_model_id'] });
  }
  const task = await loadTask(ctx, req.task, { writable: true });
  if (task.status !== 'created' && task.status !== 'in_progress') {
    throw apiError('invalid_task_status', "model can only be updated for tasks in the ['created', 'in_progress'] states", { id: task.id, company: ctx.company });
  }
  const now = isoDate(ctx.services.clock.now());
  const taskModels = fromJson<TaskModelsValue>(task.models, {});
  const name = validateName(req.name ?? task.name);
  const comment = req.comment ?? `Created by task \`${task.name}\` (${task.id})`;

  let modelId: string;
  if (req.override_model_id) {
    modelId = (await loadWritableModel(ctx, req.override_model_id)).id;
  } else {
    const last = taskModels.output?.[taskModels.output.length - 1]?.model;
    if (last) {
      const fields: Record<string, unknown> = { uri: req.uri, name, comment };
      if (req.tags) fields.tags = conformTags('tags', req.tags);
      if (req.system_tags) fields.system_tags = conformTags('system_tags', req.system_tags);
      const current = await loadWritableModel(ctx, last);
      await ctx.db.kysely
        .updateTable('models')
        .set({
          uri: req.uri!,
          name,
          comment,
          ui_cache: toJson({}),
          // A digest describes one file; other weights must not inherit it.
          ...(current.uri !== req.uri ? { weights_sha256: null, weights_size: null } : {}),
          ...(fields.tags ? { tags: toJson(fields.tags) } : {}),
          ...(fields.system_tags ? { system_tags: toJson(fields.system_tags) } : {}),
          last_update: now,
          last_change: now,
          last_changed_by: ctx.user,
        })
        .where('id', '=', last)
        .where('company', '=', ctx.company)
        .execute();
      if (req.iteration !== null && req.iteration !== undefined) await raiseTaskIteration(ctx.db, task.id, ctx.company, req.iteration);
      return { id: last, created: false, updated: 1, fields };
    }
    const execution = fromJson<Record<string, unknown>>(task.execution, {});
    const labels = isPlainObject(execution.model_labels) ? unescapeKeys(execution.model_labels) : {};
    modelId = newId();
    await ctx.db.kysely
      .insertInto('models')
      .values({
        id: modelId,
        company: ctx.company,
        user: ctx.user,
        name,
        created: now,
        last_update: now,
        last_change: now,
        last_changed_by: ctx.user,
        task: task.id,
        parent: taskModels.input?.[0]?.model ?? null,
        project: task.project,
        comment,
        tags: toJson(conformTags('tags', req.tags ?? [])),
        system_tags: toJson(conformTags('system_tags', req.system_tags ?? [])),
        framework: typeof execution.framework === 'string' ? execution.framework : null,
        design: toJson(isPlainObject(execution.model_desc) ? execution.model_desc : {}),
        labels: toJson(labels),
        uri: req.uri!,
        ready: 0,
        ui_cache: null,
        metadata: toJson({}),
        last_iteration: 0,
        last_metrics: toJson({}),
        unique_metrics: null,
        company_origin: null,
        weights_sha256: null,
        weights_size: null,
      })
      .execute();
  }
  // As ClearML's legacy call does, the new model becomes the task's only output model.
  await ctx.db.kysely
    .updateTable('tasks')
    .set({ models: toJson({ ...taskModels, output: [{ name: LEGACY_OUTPUT_NAME, model: modelId, updated: now }] }), last_update: now })
    .where('id', '=', task.id)
    .execute();
  if (req.iteration !== null && req.iteration !== undefined) await raiseTaskIteration(ctx.db, task.id, ctx.company, req.iteration);
  return { id: modelId, created: true };
});
