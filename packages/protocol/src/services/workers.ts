import { z } from 'zod';
import { op } from '../operation.js';
import { AnyObject, DateTime, StringList } from '../common.js';

/** ClearML's default registration timeout: a worker that reports nothing for this long is gone. */
export const DEFAULT_WORKER_TIMEOUT_S = 600;

const IdName = z.looseObject({ id: z.string(), name: z.string().nullish() });

/** A queue as a worker entry shows it: how many tasks wait, and the next one. */
export const WorkerQueue = z.looseObject({
  id: z.string(),
  name: z.string().nullish(),
  num_tasks: z.number().int().nullish(),
  next_task: IdName.nullish(),
});

/** A live worker (clearml-api.md §2.6): who runs it, what it serves and what it runs now. */
export const Worker = z.looseObject({
  id: z.string(),
  user: IdName.nullish(),
  company: IdName.nullish(),
  ip: z.string().nullish(),
  register_time: DateTime.nullish(),
  register_timeout: z.number().int().nullish(),
  last_activity_time: DateTime.nullish(),
  last_report_time: DateTime.nullish(),
  task: IdName.extend({ running_time: z.number().nullish(), last_iteration: z.number().nullish() }).nullish(),
  project: IdName.nullish(),
  queue: WorkerQueue.nullish(),
  queues: z.array(WorkerQueue).nullish(),
  tags: StringList.nullish(),
  system_tags: StringList.nullish(),
});
export type Worker = z.infer<typeof Worker>;

export const workers = {
  register: op({
    endpoint: 'workers.register',
    minVersion: '2.4',
    summary: 'Register (or refresh) a worker and the queues it serves; it is dropped after `timeout` seconds without a report.',
    request: z.object({
      worker: z.string(),
      timeout: z.number().int().nullish(),
      queues: StringList.nullish(),
      tags: StringList.nullish(),
      system_tags: StringList.nullish(),
    }),
    response: z.object({}),
  }),
  unregister: op({
    endpoint: 'workers.unregister',
    minVersion: '2.4',
    summary: 'Remove a worker (400/1004 when it is not registered).',
    request: z.object({ worker: z.string() }),
    response: z.object({}),
  }),
  status_report: op({
    endpoint: 'workers.status_report',
    minVersion: '2.4',
    summary: "A worker's heartbeat: what it serves and runs. An unknown worker is registered; a running task gets `last_worker`.",
    request: z.object({
      worker: z.string(),
      timestamp: z.number(),
      task: z.string().nullish(),
      queue: z.string().nullish(),
      queues: StringList.nullish(),
      machine_stats: AnyObject.nullish(),
      tags: StringList.nullish(),
      system_tags: StringList.nullish(),
    }),
    response: z.object({}),
  }),
  get_all: op({
    endpoint: 'workers.get_all',
    minVersion: '2.4',
    summary: 'The live workers of the company; `last_seen` (seconds) keeps only those active that recently.',
    request: z.object({ last_seen: z.number().int().nullish() }),
    response: z.object({ workers: z.array(Worker) }),
  }),
};
