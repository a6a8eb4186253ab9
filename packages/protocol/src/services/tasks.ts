import { z } from 'zod';
import { op } from '../operation.js';
import { AnyObject, BatchRequest, DateTime, Id, ListQuery, ScrollResult, StringList, UpdateResponse, batchResponse } from '../common.js';
import { LastMetrics } from './models.js';

export const TASK_STATUSES = ['created', 'queued', 'in_progress', 'stopped', 'published', 'publishing', 'closed', 'failed', 'completed', 'unknown'] as const;
export const TaskStatus = z.enum(TASK_STATUSES);
export type TaskStatus = z.infer<typeof TaskStatus>;
export const TASK_TYPES = ['training', 'testing', 'inference', 'data_processing', 'application', 'monitor', 'controller', 'optimizer', 'service', 'qc', 'custom', 'report'] as const;
export const TaskType = z.enum(TASK_TYPES);

export const TaskModelItem = z.object({ name: z.string(), model: z.string(), updated: DateTime.nullish() });
export const TaskModels = z.object({ input: z.array(TaskModelItem).optional(), output: z.array(TaskModelItem).optional() });
export const ConfigurationItem = z.object({ name: z.string().nullish(), value: z.string().nullish(), type: z.string().nullish(), description: z.string().nullish() });
export const ParamsItem = z.object({ section: z.string().nullish(), name: z.string().nullish(), value: z.string().nullish(), type: z.string().nullish(), description: z.string().nullish() });
export const Artifact = z.looseObject({
  key: z.string(),
  type: z.string(),
  mode: z.enum(['input', 'output']).nullish(),
  uri: z.string().nullish(),
  hash: z.string().nullish(),
  content_size: z.number().nullish(),
  timestamp: z.number().nullish(),
  type_data: AnyObject.nullish(),
  display_data: z.array(z.array(z.union([z.string(), z.number(), z.null()]))).nullish(),
});
export const Execution = z.looseObject({
  queue: z.string().nullish(),
  parameters: AnyObject.nullish(),
  model_desc: AnyObject.nullish(),
  model_labels: z.record(z.string(), z.number().int().nullable()).nullish(),
  framework: z.string().nullish(),
  artifacts: z.union([z.array(Artifact), z.record(z.string(), Artifact)]).nullish(),
  test_split: z.number().nullish(),
  /** Legacy (API < 2.13): the input model id, read and written as `models.input[0]`. */
  model: z.string().nullish(),
  /** Legacy (API < 2.13): `"<image> <arguments>"`, read and written as `container`. */
  docker_cmd: z.string().nullish(),
});
export const Script = z.looseObject({
  binary: z.string().nullish(),
  repository: z.string().nullish(),
  tag: z.string().nullish(),
  branch: z.string().nullish(),
  version_num: z.string().nullish(),
  entry_point: z.string().nullish(),
  working_dir: z.string().nullish(),
  requirements: AnyObject.nullish(),
  diff: z.string().nullish(),
});
export const Output = z.looseObject({
  destination: z.string().nullish(),
  result: z.string().nullish(),
  error: z.string().nullish(),
  /** Legacy (API < 2.13): the last output model id, read and written as `models.output[-1]`. */
  model: z.string().nullish(),
});
/** `container` is a map of strings (image, arguments, setup_shell_script); values may be null. */
export const Container = z.record(z.string(), z.string().nullable());

const Ref = z.union([z.string(), z.looseObject({ id: z.string() })]);

/** The task record, restricted to what a model registry touches (clearml-api.md §3.2). */
export const Task = z.looseObject({
  id: z.string(),
  name: z.string().optional(),
  user: Ref.nullish(),
  company: Ref.nullish(),
  type: z.string().optional(),
  status: z.string().optional(),
  status_reason: z.string().nullish(),
  status_message: z.string().nullish(),
  status_changed: DateTime.nullish(),
  comment: z.string().nullish(),
  report: z.string().nullish(),
  created: DateTime.nullish(),
  started: DateTime.nullish(),
  completed: DateTime.nullish(),
  published: DateTime.nullish(),
  active_duration: z.number().nullish(),
  last_update: DateTime.nullish(),
  last_change: DateTime.nullish(),
  last_changed_by: z.string().nullish(),
  parent: Ref.nullish(),
  project: Ref.nullish(),
  tags: StringList.optional(),
  system_tags: StringList.optional(),
  models: TaskModels.nullish(),
  execution: Execution.nullish(),
  configuration: z.record(z.string(), ConfigurationItem).nullish(),
  hyperparams: z.record(z.string(), z.record(z.string(), ParamsItem)).nullish(),
  output: Output.nullish(),
  script: Script.nullish(),
  container: Container.nullish(),
  runtime: AnyObject.nullish(),
  last_iteration: z.number().int().nullish(),
  last_metrics: LastMetrics.nullish(),
  metric_stats: AnyObject.nullish(),
  last_worker: z.string().nullish(),
  last_worker_report: DateTime.nullish(),
});
export type Task = z.infer<typeof Task>;

const TaskCreateFields = {
  name: z.string(),
  type: z.string(),
  tags: StringList.nullish(),
  system_tags: StringList.nullish(),
  comment: z.string().nullish(),
  report: z.string().nullish(),
  parent: z.string().nullish(),
  project: z.string().nullish(),
  output_dest: z.string().nullish(),
  execution: Execution.nullish(),
  script: Script.nullish(),
  hyperparams: z.record(z.string(), z.record(z.string(), ParamsItem)).nullish(),
  configuration: z.record(z.string(), ConfigurationItem).nullish(),
  models: TaskModels.nullish(),
  container: Container.nullish(),
  runtime: AnyObject.nullish(),
};

const StatusChange = {
  task: Id,
  force: z.boolean().nullish(),
  status_reason: z.string().nullish(),
  status_message: z.string().nullish(),
};

/**
 * What deleting or resetting a task did to its events, children and output models; `urls` only when asked.
 * `events` is events.delete_for_task's answer (optional: not every server version sends it).
 */
const CleanupCounts = {
  events: z.looseObject({ deleted: z.number().int().optional() }).optional(),
  deleted_models: z.number().int(),
  updated_children: z.number().int(),
  updated_models: z.number().int(),
  urls: z.object({ model_urls: StringList, event_urls: StringList, artifact_urls: StringList }).optional(),
};
const ResetOptions = {
  clear_all: z.boolean().nullish(),
  return_file_urls: z.boolean().nullish(),
  delete_output_models: z.boolean().nullish(),
  delete_external_artifacts: z.boolean().nullish(),
};
const DeleteOptions = {
  move_to_trash: z.boolean().nullish(),
  return_file_urls: z.boolean().nullish(),
  delete_output_models: z.boolean().nullish(),
  delete_external_artifacts: z.boolean().nullish(),
  include_pipeline_steps: z.boolean().nullish(),
};

const EnqueueOptions = {
  queue: z.string().nullish(),
  /** A queue name; a missing queue of that name is created (2.19). */
  queue_name: z.string().nullish(),
  /** Also answer whether a live worker serves the queue (2.22). */
  verify_watched_queue: z.boolean().nullish(),
  /** Record the queue in `execution.queue` (default true). */
  update_execution_queue: z.boolean().nullish(),
};
const DequeueOptions = {
  remove_from_all_queues: z.boolean().nullish(),
  /** The status to return to instead of the one the task was enqueued from (2.26). */
  new_status: z.string().nullish(),
};

const TasksQuery = ListQuery.extend({
  name: z.string().nullish(),
  search_hidden: z.boolean().nullish(),
  include_subprojects: z.boolean().nullish(),
});
const TasksList = z.object({ tasks: z.array(Task), ...ScrollResult });
const BatchStatus = BatchRequest.extend({
  status_reason: z.string().nullish(),
  status_message: z.string().nullish(),
  force: z.boolean().nullish(),
  include_pipeline_steps: z.boolean().nullish(),
});
const BatchUpdated = { updated: z.number().int(), fields: AnyObject.optional() };

export const tasks = {
  create: op({ endpoint: 'tasks.create', summary: 'Create a task (status created).', request: z.object(TaskCreateFields), response: z.object({ id: Id }) }),
  edit: op({
    endpoint: 'tasks.edit',
    summary: 'Edit a task in status created (or any status with force). Embedded documents are shallow-merged.',
    request: z.object({ task: Id, force: z.boolean().nullish(), ...TaskCreateFields, name: z.string().nullish(), type: z.string().nullish(), output: Output.nullish() }),
    response: UpdateResponse,
  }),
  update: op({
    endpoint: 'tasks.update',
    summary: 'Update the user-settable fields in any status.',
    request: z.object({
      task: Id,
      name: z.string().nullish(),
      tags: StringList.nullish(),
      system_tags: StringList.nullish(),
      comment: z.string().nullish(),
      project: z.string().nullish(),
      output__error: z.string().nullish(),
      created: DateTime.nullish(),
      status_message: z.string().nullish(),
    }),
    response: UpdateResponse,
  }),
  set_requirements: op({
    endpoint: 'tasks.set_requirements',
    summary: "Set the task's package requirements (`script.requirements`), in any status.",
    request: z.object({ task: Id, requirements: AnyObject }),
    response: UpdateResponse,
  }),
  get_by_id: op({ endpoint: 'tasks.get_by_id', summary: 'One task by id.', request: z.object({ task: Id }), response: z.object({ task: Task }) }),
  get_all: op({ endpoint: 'tasks.get_all', summary: 'List tasks.', request: TasksQuery, response: TasksList }),
  get_all_ex: op({
    endpoint: 'tasks.get_all_ex',
    summary: 'List tasks with joined reference fields (web app).',
    request: TasksQuery.extend({ allow_public: z.boolean().nullish() }),
    response: TasksList,
  }),
  started: op({ endpoint: 'tasks.started', summary: 'Mark in_progress.', request: z.object(StatusChange), response: UpdateResponse.extend({ started: z.number().int().optional() }) }),
  stopped: op({ endpoint: 'tasks.stopped', summary: 'Mark stopped.', request: z.object(StatusChange), response: UpdateResponse }),
  completed: op({
    endpoint: 'tasks.completed',
    minVersion: '2.2',
    summary: 'Mark completed (and publish when asked).',
    request: z.object({ ...StatusChange, publish: z.boolean().nullish() }),
    response: UpdateResponse.extend({ published: z.number().int().optional() }),
  }),
  failed: op({ endpoint: 'tasks.failed', summary: 'Mark failed.', request: z.object(StatusChange), response: UpdateResponse }),
  close: op({ endpoint: 'tasks.close', summary: 'Mark closed.', request: z.object(StatusChange), response: UpdateResponse }),
  stop: op({
    endpoint: 'tasks.stop',
    summary: 'Abort: development tasks stop at once; others get status_message "stopping" for their agent.',
    request: z.object({ ...StatusChange, include_pipeline_steps: z.boolean().nullish() }),
    response: UpdateResponse,
  }),
  reset: op({
    endpoint: 'tasks.reset',
    summary: 'Back to created: dequeue, drop unpublished output models, clear what the run produced.',
    request: z.object({ ...StatusChange, ...ResetOptions }),
    response: UpdateResponse.extend({ dequeued: AnyObject.optional(), ...CleanupCounts }),
  }),
  publish: op({
    endpoint: 'tasks.publish',
    summary: 'Publish the task (and its last output model unless publish_model is false).',
    request: z.object({ ...StatusChange, publish_model: z.boolean().nullish() }),
    response: UpdateResponse,
  }),
  ping: op({ endpoint: 'tasks.ping', summary: 'Liveness: sets last_update.', request: z.object({ task: Id }), response: z.object({}) }),
  add_or_update_model: op({
    endpoint: 'tasks.add_or_update_model',
    minVersion: '2.13',
    summary: 'Register a model on the task by entry name.',
    request: z.object({ task: Id, name: z.string(), model: z.string(), type: z.enum(['input', 'output']), iteration: z.number().int().nullish() }),
    response: z.object({ updated: z.number().int() }),
  }),
  delete_models: op({
    endpoint: 'tasks.delete_models',
    minVersion: '2.13',
    summary: "Remove model entries from the task by name.",
    request: z.object({ task: Id, models: z.array(z.object({ name: z.string(), type: z.enum(['input', 'output']) })).min(1) }),
    response: z.object({ updated: z.number().int() }),
  }),
  get_configurations: op({
    endpoint: 'tasks.get_configurations',
    minVersion: '2.9',
    summary: 'Configuration items of tasks.',
    request: z.object({ tasks: z.array(Id), names: StringList.nullish() }),
    response: z.object({ configurations: z.array(z.object({ task: z.string(), configuration: z.array(ConfigurationItem) })) }),
  }),
  get_configuration_names: op({
    endpoint: 'tasks.get_configuration_names',
    minVersion: '2.9',
    summary: 'Configuration item names of tasks.',
    request: z.object({ tasks: z.array(Id), skip_empty: z.boolean().nullish() }),
    response: z.object({ configurations: z.array(z.object({ task: z.string(), names: StringList })) }),
  }),
  edit_configuration: op({
    endpoint: 'tasks.edit_configuration',
    minVersion: '2.9',
    summary: 'Add or replace configuration items.',
    request: z.object({
      task: Id,
      configuration: z.array(z.object({ name: z.string(), value: z.string(), type: z.string().nullish(), description: z.string().nullish() })),
      replace_configuration: z.boolean().nullish(),
      force: z.boolean().nullish(),
    }),
    response: z.object({ updated: z.number().int() }),
  }),
  delete_configuration: op({
    endpoint: 'tasks.delete_configuration',
    minVersion: '2.9',
    summary: 'Delete configuration items by name.',
    request: z.object({ task: Id, configuration: StringList, force: z.boolean().nullish() }),
    response: z.object({ deleted: z.number().int() }),
  }),
  get_hyper_params: op({
    endpoint: 'tasks.get_hyper_params',
    minVersion: '2.9',
    summary: 'Hyperparameters of tasks.',
    request: z.object({ tasks: z.array(Id) }),
    response: z.object({ params: z.array(z.object({ task: z.string(), hyperparams: z.array(ParamsItem) })) }),
  }),
  edit_hyper_params: op({
    endpoint: 'tasks.edit_hyper_params',
    minVersion: '2.9',
    summary: 'Add or replace hyperparameters.',
    request: z.object({
      task: Id,
      hyperparams: z.array(z.object({ section: z.string(), name: z.string(), value: z.string(), type: z.string().nullish(), description: z.string().nullish() })),
      replace_hyperparams: z.enum(['none', 'section', 'all']).nullish(),
      force: z.boolean().nullish(),
    }),
    response: z.object({ updated: z.number().int() }),
  }),
  delete_hyper_params: op({
    endpoint: 'tasks.delete_hyper_params',
    minVersion: '2.9',
    summary: 'Delete hyperparameters (a whole section when name is absent).',
    request: z.object({ task: Id, hyperparams: z.array(z.object({ section: z.string(), name: z.string().nullish() })), force: z.boolean().nullish() }),
    response: z.object({ deleted: z.number().int() }),
  }),
  add_or_update_artifacts: op({
    endpoint: 'tasks.add_or_update_artifacts',
    minVersion: '2.10',
    summary: 'Upsert artifacts by key and mode.',
    request: z.object({ task: Id, artifacts: z.array(Artifact), force: z.boolean().nullish() }),
    response: z.object({ updated: z.number().int() }),
  }),
  delete: op({
    endpoint: 'tasks.delete',
    summary: 'Delete a task and (by default) its unpublished output models.',
    request: z.object({ ...StatusChange, ...DeleteOptions }),
    response: z.object({ deleted: z.boolean(), ...CleanupCounts }),
  }),
  archive_many: op({
    endpoint: 'tasks.archive_many',
    minVersion: '2.13',
    summary: 'Add the system tag `archived` (and dequeue).',
    request: BatchStatus,
    response: batchResponse({ archived: z.boolean() }),
  }),
  unarchive_many: op({
    endpoint: 'tasks.unarchive_many',
    minVersion: '2.13',
    summary: 'Remove the system tag `archived`.',
    request: BatchStatus,
    response: batchResponse({ unarchived: z.boolean() }),
  }),
  delete_many: op({
    endpoint: 'tasks.delete_many',
    minVersion: '2.13',
    summary: 'Delete several tasks; per-id failures are reported in the 200 answer.',
    request: BatchStatus.extend(DeleteOptions),
    response: batchResponse({ deleted: z.boolean(), ...CleanupCounts }),
  }),
  reset_many: op({
    endpoint: 'tasks.reset_many',
    minVersion: '2.13',
    summary: 'Reset several tasks to created.',
    request: BatchStatus.extend(ResetOptions),
    response: batchResponse({ dequeued: z.boolean(), ...BatchUpdated, ...CleanupCounts }),
  }),
  publish_many: op({
    endpoint: 'tasks.publish_many',
    minVersion: '2.13',
    summary: 'Publish several tasks (and their last output models unless publish_model is false).',
    request: BatchStatus.extend({ publish_model: z.boolean().nullish() }),
    response: batchResponse(BatchUpdated),
  }),
  stop_many: op({
    endpoint: 'tasks.stop_many',
    minVersion: '2.13',
    summary: 'Abort several tasks.',
    request: BatchStatus,
    response: batchResponse(BatchUpdated),
  }),
  enqueue: op({
    endpoint: 'tasks.enqueue',
    summary: 'Put the task in a queue (by id, by name creating it, or the default queue) and mark it queued.',
    request: z.object({ ...StatusChange, ...EnqueueOptions }),
    response: UpdateResponse.extend({ queued: z.number().int(), queue_watched: z.boolean().optional() }),
  }),
  dequeue: op({
    endpoint: 'tasks.dequeue',
    summary: 'Take a queued task out of its queue; it returns to the status it was enqueued from (or created).',
    request: z.object({ ...StatusChange, ...DequeueOptions }),
    response: UpdateResponse.extend({ dequeued: z.number().int() }),
  }),
  enqueue_many: op({
    endpoint: 'tasks.enqueue_many',
    minVersion: '2.13',
    summary: 'Enqueue several tasks into one queue.',
    request: BatchStatus.extend(EnqueueOptions),
    response: batchResponse({ queued: z.boolean(), ...BatchUpdated, queue_watched: z.boolean().optional() }),
  }),
  dequeue_many: op({
    endpoint: 'tasks.dequeue_many',
    minVersion: '2.13',
    summary: 'Dequeue several tasks.',
    request: BatchStatus.extend(DequeueOptions),
    response: batchResponse({ dequeued: z.boolean(), ...BatchUpdated }),
  }),
  clone: op({
    endpoint: 'tasks.clone',
    minVersion: '2.5',
    summary: 'A new task (status created) with the source task\'s script, execution, parameters, configuration and input models.',
    request: z.object({
      task: Id,
      new_task_name: z.string().nullish(),
      new_task_comment: z.string().nullish(),
      new_task_tags: StringList.nullish(),
      new_task_system_tags: StringList.nullish(),
      new_task_parent: z.string().nullish(),
      new_task_project: z.string().nullish(),
      new_task_hyperparams: z.record(z.string(), z.record(z.string(), ParamsItem)).nullish(),
      new_task_configuration: z.record(z.string(), ConfigurationItem).nullish(),
      execution_overrides: Execution.nullish(),
      validate_references: z.boolean().nullish(),
      new_project_name: z.string().nullish(),
      new_task_input_models: z.array(z.object({ name: z.string(), model: z.string() })).nullish(),
      new_task_container: Container.nullish(),
    }),
    response: z.object({ id: Id, new_project: z.object({ id: z.string(), name: z.string() }).optional() }),
  }),
};
