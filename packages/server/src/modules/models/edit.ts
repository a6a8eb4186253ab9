import { isDeepStrictEqual } from 'node:util';
import { models, type ParsedRequestOf } from '@cairn/protocol';
import type { CallContext } from '../../api/context.js';
import { apiError } from '../../api/errors.js';
import { defineHandler } from '../../api/handler.js';
import { fromJson, toJson } from '../../util/json.js';
import { unescapeKeys } from '../../util/keys.js';
import { isoDate, normalizeDate } from '../../util/time.js';
import { loadTask } from '../tasks/status.js';
import {
  DELETED_PREFIX,
  conformTags,
  loadWritableModel,
  raiseTaskIteration,
  storedMetadata,
  validateLabels,
  validateName,
  validateProject,
  type ModelRow,
} from './common.js';

type EditRequest = ParsedRequestOf<typeof models.edit>;
type UpdateRequest = ParsedRequestOf<typeof models.update>;
type Field = keyof EditRequest | keyof UpdateRequest;

/** Changing any of these is a change of the model itself, so `last_update` moves too (not only `last_change`). */
const CONTENT_FIELDS = new Set(['uri', 'framework', 'design', 'labels', 'ready', 'metadata', 'system_tags', 'tags']);
/** What models.update may write (ClearML's user-settable fields); other keys are ignored. */
const UPDATE_FIELDS: ReadonlySet<Field> = new Set<Field>(['name', 'comment', 'tags', 'system_tags', 'created', 'ui_cache', 'project', 'metadata', 'uri']);
/** What models.edit may write. */
const EDIT_FIELDS: ReadonlySet<Field> = new Set<Field>([
  'uri', 'name', 'comment', 'tags', 'system_tags', 'framework', 'design', 'labels', 'ready', 'project', 'parent', 'task', 'metadata', 'weights_sha256', 'weights_size',
]);

const JSON_FIELDS = new Set(['tags', 'system_tags', 'design', 'labels', 'ui_cache', 'metadata']);

/**
 * Validates the given fields (null means "not given") and writes them. Returns ClearML's UpdateResponse
 * with the new values in wire form.
 */
async function changeModel(ctx: CallContext, req: EditRequest | UpdateRequest, allowed: ReadonlySet<Field>) {
  const model = await loadWritableModel(ctx, req.model);
  const given = (f: Field): boolean => allowed.has(f) && (req as Record<string, unknown>)[f] !== null && (req as Record<string, unknown>)[f] !== undefined;
  const r = req as EditRequest & UpdateRequest;
  const values: Record<string, unknown> = {};

  if (given('uri')) {
    values.uri = r.uri;
    // New weights make the UI's cached views stale.
    values.ui_cache = {};
    // A digest describes one file: other weights without their own digest must not inherit it.
    if (r.uri !== model.uri && !given('weights_sha256') && !given('weights_size')) {
      values.weights_sha256 = null;
      values.weights_size = null;
    }
  }
  if (given('ui_cache')) values.ui_cache = r.ui_cache;
  if (given('name')) values.name = validateName(r.name!);
  for (const f of ['comment', 'framework', 'parent', 'weights_sha256', 'weights_size'] as const) if (given(f)) values[f] = r[f];
  if (given('tags')) values.tags = conformTags('tags', r.tags!);
  if (given('system_tags')) values.system_tags = conformTags('system_tags', r.system_tags!);
  if (given('design')) values.design = r.design;
  if (given('labels')) values.labels = validateLabels(r.labels!);
  if (given('ready')) values.ready = r.ready;
  if (given('metadata')) values.metadata = storedMetadata(r.metadata!);
  if (given('created')) {
    const created = normalizeDate(r.created);
    if (!created) throw apiError('validation_error', 'created is not a date', { created: r.created });
    values.created = created;
  }
  if (given('project')) {
    await validateProject(ctx, r.project!);
    values.project = r.project;
  }
  // A `__DELETED__<id>` task left by a forced delete is echoed back by clients; it is not a task.
  if (given('task') && !r.task!.startsWith(DELETED_PREFIX)) {
    await loadTask(ctx, r.task!, { writable: true });
    values.task = r.task;
  }

  const iteration = r.iteration;
  const iterationTask = allowed === EDIT_FIELDS ? ((values.task as string | undefined) ?? model.task) : r.task && !r.task.startsWith(DELETED_PREFIX) ? r.task : null;
  // A creating task that is gone (or not the caller's) has no iteration to raise; that is not an error.
  if (iteration !== null && iteration !== undefined && iterationTask) await raiseTaskIteration(ctx.db, iterationTask, ctx.company, iteration);
  const raiseIteration = allowed === EDIT_FIELDS && iteration !== null && iteration !== undefined && iteration > Number(model.last_iteration);

  if (!Object.keys(values).length && !raiseIteration) return { updated: 0, fields: {} };
  const now = isoDate(ctx.services.clock.now());
  const set: Record<string, unknown> = { last_change: now, last_changed_by: ctx.user };
  for (const [field, value] of Object.entries(values)) {
    set[field] = JSON_FIELDS.has(field) ? toJson(value) : field === 'ready' ? (value ? 1 : 0) : value;
  }
  if (raiseIteration) set.last_iteration = iteration;
  if (Object.keys(values).some((f) => CONTENT_FIELDS.has(f) && changed(model, f, values[f]))) set.last_update = now;
  await ctx.db.kysely.updateTable('models').set(set).where('id', '=', model.id).where('company', '=', ctx.company).execute();

  const fields: Record<string, unknown> = { ...values };
  // As in ClearML, `fields` echoes the tags as sent; they are stored (and read back) sorted.
  if (given('tags')) fields.tags = r.tags;
  if (given('system_tags')) fields.system_tags = r.system_tags;
  if (fields.metadata) fields.metadata = unescapeKeys(fields.metadata as Record<string, unknown>);
  if (set.last_update) fields.last_update = set.last_update;
  return { updated: 1, fields };
}

function changed(model: ModelRow, field: string, value: unknown): boolean {
  const stored = (model as unknown as Record<string, unknown>)[field];
  if (field === 'ready') return Boolean(stored) !== Boolean(value);
  return !isDeepStrictEqual(JSON_FIELDS.has(field) ? fromJson(stored, null) : stored, value);
}

/** models.edit: partial update of any model field; `metadata` replaces the whole map. */
export const editModel = defineHandler(models.edit, (ctx, req) => changeModel(ctx, req, EDIT_FIELDS));

/** models.update: the user-settable fields only (the web app's rename, tags, description); `ready` is ignored. */
export const updateModel = defineHandler(models.update, (ctx, req) => changeModel(ctx, req, UPDATE_FIELDS));
