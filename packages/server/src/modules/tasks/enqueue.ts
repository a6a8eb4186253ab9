import type { z } from 'zod';
import { TASK_STATUSES, tasks, type TaskStatus, type UpdateResponse } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import type { CallContext } from '../../api/context.js';
import { ApiError, apiError } from '../../api/errors.js';
import { addEntry, createQueue, defaultQueue, findQueueByName, loadQueue, type QueueRow } from '../queues/store.js';
import { liveWorkers, workerQueueIds } from '../workers/store.js';
import { readDict } from './record.js';
import { applyStatusChange, dequeueTask, loadTask } from './status.js';
import { runBatch } from './batch.js';

export interface EnqueueOptions {
  queue?: string | null;
  /** A queue name; a missing queue of that name is created. */
  queueName?: string | null;
  force?: boolean | null;
  statusReason?: string | null;
  statusMessage?: string | null;
  /** Record the queue in `execution.queue` (default true). */
  updateExecutionQueue?: boolean | null;
  /** Also tell whether a live worker serves the queue. */
  verifyWatchedQueue?: boolean | null;
}

/** The queue a request names: by id, by name (created when missing), else the company's default queue (400/707). */
async function targetQueue(ctx: CallContext, options: Pick<EnqueueOptions, 'queue' | 'queueName'>): Promise<QueueRow> {
  if (options.queue && options.queueName) throw apiError('validation_error', 'Either queue id or queue name should be provided');
  if (options.queueName) return (await findQueueByName(ctx, options.queueName)) ?? createQueue(ctx, { name: options.queueName });
  if (options.queue) return loadQueue(ctx, options.queue);
  return defaultQueue(ctx);
}

/**
 * Puts the task in a queue and marks it `queued`, remembering the status it came from in `enqueue_status`
 * (dequeue returns to it). The status change, the queue entry and `execution.queue` are one transaction, so a
 * failure leaves the task as it was. Enqueuing a task that is queued already is 400/110.
 */
export async function enqueueTask(ctx: CallContext, taskId: string, options: EnqueueOptions): Promise<UpdateResponse & { queued: number; queue_watched?: boolean }> {
  const res = await ctx.db.transaction(async (db) => {
    const tx: CallContext = { ...ctx, db };
    const queue = await targetQueue(tx, options);
    const task = await loadTask(tx, taskId, { writable: true, forUpdate: true });
    if (task.status === 'queued') {
      const data = { current_status: task.status, new_status: 'queued' };
      throw new ApiError('invalid_task_status', { data, message: `Invalid task status (Task already in requested status): current_status=queued, new_status=queued` });
    }
    const updateExecution = options.updateExecutionQueue ?? true;
    const changed = await applyStatusChange(tx, task, 'queued', {
      force: options.force ?? false,
      statusReason: options.statusReason,
      statusMessage: options.statusMessage,
      set: {
        enqueue_status: task.status,
        ...(updateExecution ? { execution: { ...readDict(task.execution), queue: queue.id } } : {}),
      },
    });
    await addEntry(tx, queue.id, task.id);
    return { ...changed, fields: { ...changed.fields, ...(updateExecution ? { 'execution.queue': queue.id } : {}) }, queued: 1, queueId: queue.id };
  });
  const { queueId, ...response } = res;
  if (!options.verifyWatchedQueue) return response;
  const workers = await liveWorkers(ctx);
  return { ...response, queue_watched: workers.some((w) => workerQueueIds(w).includes(queueId)) };
}

export interface DequeueOptions {
  statusReason?: string | null;
  statusMessage?: string | null;
  /** The status to return to instead of the one the task was enqueued from. */
  newStatus?: string | null;
}

/** Takes a queued task out of its queues (see `dequeueTask`); a task that is not queued is 400/110. */
export async function dequeueTaskRequest(ctx: CallContext, taskId: string, options: DequeueOptions): Promise<UpdateResponse & { dequeued: number }> {
  if (options.newStatus && !(TASK_STATUSES as readonly string[]).includes(options.newStatus)) {
    throw apiError('validation_error', `new_status must be one of ${TASK_STATUSES.join(', ')}`, { new_status: options.newStatus });
  }
  return ctx.db.transaction(async (db) => {
    const tx: CallContext = { ...ctx, db };
    const task = await loadTask(tx, taskId, { writable: true, forUpdate: true });
    if (task.status !== 'queued') throw apiError('invalid_task_status', undefined, { expected: 'queued', status: task.status });
    const res = await dequeueTask(tx, task, { statusReason: options.statusReason, statusMessage: options.statusMessage, newStatus: (options.newStatus as TaskStatus | null) ?? undefined });
    return { ...res!, dequeued: 1 };
  });
}

/** The options of tasks.enqueue and tasks.enqueue_many, which name them alike. */
function enqueueOptions(req: Omit<z.output<typeof tasks.enqueue.request>, 'task'>): EnqueueOptions {
  return {
    queue: req.queue,
    queueName: req.queue_name,
    force: req.force,
    statusReason: req.status_reason,
    statusMessage: req.status_message,
    updateExecutionQueue: req.update_execution_queue,
    verifyWatchedQueue: req.verify_watched_queue,
  };
}

/** tasks.enqueue */
export const enqueueHandler = defineHandler(tasks.enqueue, async (ctx, req) => enqueueTask(ctx, req.task, enqueueOptions(req)));

/** tasks.dequeue */
export const dequeueHandler = defineHandler(tasks.dequeue, async (ctx, req) =>
  dequeueTaskRequest(ctx, req.task, { statusReason: req.status_reason, statusMessage: req.status_message, newStatus: req.new_status }),
);

/** tasks.enqueue_many: each task into the same queue; per-task failures are reported in the 200 answer. */
export const enqueueMany = defineHandler(tasks.enqueue_many, async (ctx, req) =>
  runBatch(req.ids, async (id) => {
    const { queued, ...res } = await enqueueTask(ctx, id, enqueueOptions(req));
    return { ...res, queued: queued > 0 };
  }),
);

/** tasks.dequeue_many */
export const dequeueMany = defineHandler(tasks.dequeue_many, async (ctx, req) =>
  runBatch(req.ids, async (id) => {
    const { dequeued, ...res } = await dequeueTaskRequest(ctx, id, { statusReason: req.status_reason, statusMessage: req.status_message, newStatus: req.new_status });
    return { ...res, dequeued: dequeued > 0 };
  }),
);
