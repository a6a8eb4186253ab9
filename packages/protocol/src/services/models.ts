import { z } from 'zod';
import { op } from '../operation.js';
import { AnyObject, BatchRequest, DateTime, Id, ListQuery, ScrollResult, StringList, UpdateResponse, batchResponse } from '../common.js';

export const MetadataItem = z.object({ key: z.string(), type: z.string(), value: z.string() });
export type MetadataItem = z.infer<typeof MetadataItem>;

/** One tracked metric/variant pair (`last_metrics[md5(metric)][md5(variant)]`). */
export const MetricSummary = z.looseObject({
  metric: z.string().optional(),
  variant: z.string().optional(),
  value: z.number().nullish(),
  min_value: z.number().nullish(),
  min_value_iteration: z.number().nullish(),
  max_value: z.number().nullish(),
  max_value_iteration: z.number().nullish(),
  first_value: z.number().nullish(),
  first_value_iteration: z.number().nullish(),
  count: z.number().nullish(),
  mean_value: z.number().nullish(),
  x_axis_label: z.string().nullish(),
});
export const LastMetrics = z.record(z.string(), z.record(z.string(), MetricSummary));

/** A reference field: an id in get_all/get_by_id, an object with joined fields in the `_ex` calls. */
const Ref = z.union([z.string(), z.looseObject({ id: z.string() })]);

/**
 * The model record (clearml-api.md §3.1). Every field but `id` is optional on the wire because
 * `only_fields` projects it away. `weights_sha256`/`weights_size` are Cairn's extension (decision 11):
 * optional, and ignored by a ClearML server.
 */
export const Model = z.looseObject({
  id: z.string(),
  name: z.string().optional(),
  user: Ref.nullish(),
  company: Ref.nullish(),
  created: DateTime.nullish(),
  last_update: DateTime.nullish(),
  last_change: DateTime.nullish(),
  last_changed_by: z.string().nullish(),
  task: Ref.nullish(),
  parent: Ref.nullish(),
  project: Ref.nullish(),
  comment: z.string().nullish(),
  tags: StringList.optional(),
  system_tags: StringList.optional(),
  framework: z.string().nullish(),
  design: AnyObject.nullish(),
  labels: z.record(z.string(), z.number().int().nullable()).nullish(),
  uri: z.string().nullish(),
  ready: z.boolean().optional(),
  ui_cache: AnyObject.nullish(),
  // Items are partial when `only_fields` names a sub-path (`metadata.acc.value`).
  metadata: z.union([z.record(z.string(), MetadataItem.partial()), z.array(z.unknown())]).nullish(),
  last_iteration: z.number().int().nullish(),
  last_metrics: LastMetrics.nullish(),
  unique_metrics: StringList.nullish(),
  company_origin: z.string().nullish(),
  stats: z.object({ labels_count: z.number().int() }).nullish(),
  weights_sha256: z.string().nullish(),
  weights_size: z.number().int().nullish(),
});
export type Model = z.infer<typeof Model>;

const Labels = z.record(z.string(), z.number().int().nullable());
const MetadataValue = z.object({ key: z.string().nullish(), type: z.string().nullish(), value: z.string().nullish() });
/** `metadata` on create/edit/update: a dict key → item (what ClearML stores), or a list of items with their keys. */
const MetadataInput = z.union([z.record(z.string(), MetadataValue), z.array(MetadataValue.extend({ key: z.string() }))]);
/** sha256 is 64 hex characters. */
const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lower-case hex characters');

const ModelFields = {
  uri: z.string().nullish(),
  name: z.string().nullish(),
  comment: z.string().nullish(),
  tags: StringList.nullish(),
  system_tags: StringList.nullish(),
  framework: z.string().nullish(),
  design: AnyObject.nullish(),
  labels: Labels.nullish(),
  ready: z.boolean().nullish(),
  project: z.string().nullish(),
  parent: z.string().nullish(),
  task: z.string().nullish(),
  metadata: MetadataInput.nullish(),
  weights_sha256: Sha256.nullish(),
  weights_size: z.number().int().nonnegative().nullish(),
};

const ModelsQuery = ListQuery.extend({
  name: z.string().nullish(),
  ready: z.boolean().nullish(),
  include_subprojects: z.boolean().nullish(),
});
const ModelsList = z.object({ models: z.array(Model), ...ScrollResult });

export const models = {
  create: op({
    endpoint: 'models.create',
    summary: 'Create a model. `ready` defaults to true when omitted, as in ClearML.',
    request: z.object({ ...ModelFields, uri: z.string(), name: z.string(), public: z.boolean().nullish(), ui_cache: AnyObject.nullish() }),
    response: z.object({ id: Id, created: z.boolean() }),
  }),
  edit: op({
    endpoint: 'models.edit',
    summary: 'Partial update of a model: only the given fields change; `metadata` replaces the whole map.',
    request: z.object({ model: Id, ...ModelFields, iteration: z.number().int().nullish() }),
    response: UpdateResponse,
  }),
  update: op({
    endpoint: 'models.update',
    summary: 'Update the user-settable fields (name, comment, tags, system_tags, project, created, ui_cache, metadata). Other keys are ignored.',
    request: z.object({
      model: Id,
      name: z.string().nullish(),
      comment: z.string().nullish(),
      tags: StringList.nullish(),
      system_tags: StringList.nullish(),
      ready: z.boolean().nullish(),
      created: DateTime.nullish(),
      ui_cache: AnyObject.nullish(),
      project: z.string().nullish(),
      task: z.string().nullish(),
      iteration: z.number().int().nullish(),
      metadata: MetadataInput.nullish(),
      uri: z.string().nullish(),
    }),
    response: UpdateResponse,
  }),
  get_by_id: op({
    endpoint: 'models.get_by_id',
    summary: 'One model by id.',
    request: z.object({ model: Id }),
    response: z.object({ model: Model }),
  }),
  get_by_id_ex: op({
    endpoint: 'models.get_by_id_ex',
    summary: 'Models by id with joined reference fields (web app).',
    request: ModelsQuery.extend({ id: z.array(Id) }),
    response: ModelsList,
  }),
  get_all: op({
    endpoint: 'models.get_all',
    summary: 'List models with filters, projection, ordering, paging or scroll.',
    request: ModelsQuery,
    response: ModelsList,
  }),
  get_all_ex: op({
    endpoint: 'models.get_all_ex',
    summary: 'List models with joined reference fields (web app).',
    request: ModelsQuery.extend({ include_stats: z.boolean().nullish(), allow_public: z.boolean().nullish() }),
    response: ModelsList,
  }),
  get_frameworks: op({
    endpoint: 'models.get_frameworks',
    minVersion: '2.8',
    summary: 'Distinct non-empty frameworks, sorted.',
    request: z.object({ projects: StringList.nullish() }),
    response: z.object({ frameworks: StringList }),
  }),
  set_ready: op({
    endpoint: 'models.set_ready',
    summary: 'Publish a model (ready=true); publishes its creating task first unless publish_task is false.',
    request: z.object({ model: Id, force_publish_task: z.boolean().nullish(), publish_task: z.boolean().nullish() }),
    response: UpdateResponse.extend({ published_task: z.object({ id: z.string(), data: UpdateResponse }).nullish() }),
  }),
  publish_many: op({
    endpoint: 'models.publish_many',
    minVersion: '2.13',
    summary: 'Publish several models; per-id results.',
    request: BatchRequest.extend({ force_publish_task: z.boolean().nullish(), publish_task: z.boolean().nullish() }),
    response: batchResponse({
      updated: z.union([z.boolean(), z.number()]).optional(),
      published_task: z.object({ id: z.string(), data: UpdateResponse }).nullish(),
    }),
  }),
  archive_many: op({
    endpoint: 'models.archive_many',
    minVersion: '2.13',
    summary: 'Add the system tag `archived`.',
    request: BatchRequest,
    response: batchResponse({ archived: z.boolean() }),
  }),
  unarchive_many: op({
    endpoint: 'models.unarchive_many',
    minVersion: '2.13',
    summary: 'Remove the system tag `archived`.',
    request: BatchRequest,
    response: batchResponse({ unarchived: z.boolean() }),
  }),
  delete: op({
    endpoint: 'models.delete',
    summary: 'Delete a model, with the delete rules of clearml-api.md §2.4.',
    request: z.object({ model: Id, force: z.boolean().nullish(), delete_external_artifacts: z.boolean().nullish() }),
    response: z.object({ deleted: z.boolean(), url: z.string().nullish() }),
  }),
  delete_many: op({
    endpoint: 'models.delete_many',
    minVersion: '2.13',
    summary: 'Delete several models; per-id results.',
    request: BatchRequest.extend({ force: z.boolean().nullish(), delete_external_artifacts: z.boolean().nullish() }),
    response: batchResponse({ deleted: z.boolean(), url: z.string().nullish() }),
  }),
  add_or_update_metadata: op({
    endpoint: 'models.add_or_update_metadata',
    minVersion: '2.13',
    summary: 'Upsert metadata items by key, or replace the whole map.',
    request: z.object({ model: Id, metadata: z.array(MetadataItem).min(1), replace_metadata: z.boolean().nullish() }),
    response: z.object({ updated: z.number().int() }),
  }),
  delete_metadata: op({
    endpoint: 'models.delete_metadata',
    minVersion: '2.13',
    summary: 'Remove metadata keys.',
    request: z.object({ model: Id, keys: z.array(z.string()).min(1) }),
    response: z.object({ updated: z.number().int() }),
  }),
  update_tags: op({
    endpoint: 'models.update_tags',
    minVersion: '2.27',
    summary: 'Add and remove user tags on several models.',
    request: z.object({ ids: z.array(Id).nullish(), add_tags: StringList.nullish(), remove_tags: StringList.nullish() }),
    response: z.object({ updated: z.number().int() }),
  }),
  move: op({
    endpoint: 'models.move',
    minVersion: '2.12',
    summary: 'Move models to a project (by id or name; a name is created when missing).',
    request: z.object({ ids: z.array(Id).min(1), project: z.string().nullish(), project_name: z.string().nullish() }),
    response: z.object({ project_id: z.string().nullish() }),
  }),
  make_public: op({
    endpoint: 'models.make_public',
    minVersion: '2.9',
    summary: 'Make models public (readable by every company, writable by none).',
    request: z.object({ ids: z.array(Id).min(1) }),
    response: z.object({ updated: z.number().int() }),
  }),
  make_private: op({
    endpoint: 'models.make_private',
    minVersion: '2.9',
    summary: 'Return public models to the company that made them public.',
    request: z.object({ ids: z.array(Id).min(1) }),
    response: z.object({ updated: z.number().int() }),
  }),
  update_for_task: op({
    endpoint: 'models.update_for_task',
    summary: 'Legacy (API <= 2.13): create or update the last output model of a task.',
    request: z.object({
      task: Id,
      uri: z.string().nullish(),
      name: z.string().nullish(),
      comment: z.string().nullish(),
      tags: StringList.nullish(),
      system_tags: StringList.nullish(),
      override_model_id: z.string().nullish(),
      iteration: z.number().int().nullish(),
    }),
    response: z.object({ id: z.string(), created: z.boolean(), updated: z.number().int().optional(), fields: AnyObject.optional() }),
  }),
  get_by_task_id: op({
    endpoint: 'models.get_by_task_id',
    summary: 'Legacy (API <= 2.13): the last output model of a task.',
    request: z.object({ task: Id }),
    response: z.object({ model: Model }),
  }),
};
