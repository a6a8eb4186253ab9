import { z } from 'zod';
import { op } from '../operation.js';
import { DateTime, Id, ListQuery, ScrollResult, StringList } from '../common.js';
import { MetadataItem } from './models.js';

/** A reference field: an id in get_all/get_by_id, an object with joined fields in the `_ex` calls. */
const Ref = z.union([z.string(), z.looseObject({ id: z.string() })]);

/** One waiting task, oldest first; `task` is `{id, name}` in `queues.get_all_ex`. */
export const QueueEntry = z.looseObject({ task: Ref, added: DateTime.nullish() });

/** A worker serving the queue, as `queues.get_all_ex` lists it. */
export const QueueWorker = z.looseObject({
  name: z.string(),
  ip: z.string().nullish(),
  task: z.looseObject({ id: z.string(), name: z.string().nullish() }).nullish(),
});

/** The queue record (clearml-api.md §2.6). Every field but `id` may be projected away. */
export const Queue = z.looseObject({
  id: z.string(),
  name: z.string().optional(),
  display_name: z.string().nullish(),
  user: Ref.nullish(),
  company: Ref.nullish(),
  created: DateTime.nullish(),
  last_update: DateTime.nullish(),
  tags: StringList.optional(),
  system_tags: StringList.optional(),
  entries: z.array(QueueEntry).optional(),
  metadata: z.record(z.string(), MetadataItem.partial()).nullish(),
  workers: z.array(QueueWorker).optional(),
});
export type Queue = z.infer<typeof Queue>;

/** The system tag of a company's default queue. */
export const DEFAULT_QUEUE_TAG = 'default';

const QueuesQuery = ListQuery.extend({
  name: z.string().nullish(),
  search_hidden: z.boolean().nullish(),
  /** Only the first N entries of each queue. */
  max_task_entries: z.number().int().nullish(),
});
const QueuesList = z.object({ queues: z.array(Queue), ...ScrollResult });
const QueueRequest = z.object({ queue: Id });
const Metadata = z.union([z.record(z.string(), MetadataItem), z.array(MetadataItem)]);

export const queues = {
  get_all: op({ endpoint: 'queues.get_all', minVersion: '2.4', summary: 'List queues with their waiting tasks.', request: QueuesQuery, response: QueuesList }),
  get_all_ex: op({
    endpoint: 'queues.get_all_ex',
    minVersion: '2.4',
    summary: 'List queues with the names of their waiting tasks and the workers serving them (web app).',
    request: QueuesQuery,
    response: QueuesList,
  }),
  get_by_id: op({
    endpoint: 'queues.get_by_id',
    minVersion: '2.4',
    summary: 'One queue by id.',
    request: z.object({ queue: Id, max_task_entries: z.number().int().nullish() }),
    response: z.object({ queue: Queue }),
  }),
  get_default: op({
    endpoint: 'queues.get_default',
    minVersion: '2.4',
    summary: 'The queue with system tag `default` (400/707 when none, 400/708 when several).',
    request: z.object({}),
    response: z.object({ id: z.string(), name: z.string() }),
  }),
  create: op({
    endpoint: 'queues.create',
    minVersion: '2.4',
    summary: 'Create a queue; names are unique per company (400/801).',
    request: z.object({
      name: z.string(),
      display_name: z.string().nullish(),
      tags: StringList.nullish(),
      system_tags: StringList.nullish(),
      metadata: Metadata.nullish(),
    }),
    response: z.object({ id: Id }),
  }),
  delete: op({
    endpoint: 'queues.delete',
    minVersion: '2.4',
    summary: 'Delete a queue; one with waiting tasks needs force (400/702), which returns them to their previous status.',
    request: z.object({ queue: Id, force: z.boolean().nullish() }),
    response: z.object({ deleted: z.number().int() }),
  }),
  add_task: op({
    endpoint: 'queues.add_task',
    minVersion: '2.4',
    summary: 'Append a task to a queue (400/706 when it is there already).',
    request: z.object({ queue: Id, task: Id, update_execution_queue: z.boolean().nullish() }),
    response: z.object({ added: z.number().int() }),
  }),
  remove_task: op({
    endpoint: 'queues.remove_task',
    minVersion: '2.4',
    summary: 'Take a task out of a queue (400/703 when it is not there).',
    request: z.object({ queue: Id, task: Id }),
    response: z.object({ removed: z.number().int() }),
  }),
  get_next_task: op({
    endpoint: 'queues.get_next_task',
    summary: 'Pop the oldest entry, atomically: several agents may poll one queue. No `entry` when the queue is empty.',
    request: z.object({ queue: Id, get_task_info: z.boolean().nullish(), task: z.string().nullish() }),
    response: z.object({
      entry: QueueEntry.optional(),
      task_info: z.object({ company: z.string(), user: z.string().nullish() }).optional(),
    }),
  }),
  get_num_entries: op({
    endpoint: 'queues.get_num_entries',
    minVersion: '2.15',
    summary: 'How many tasks wait in the queue.',
    request: QueueRequest,
    response: z.object({ num: z.number().int() }),
  }),
};
