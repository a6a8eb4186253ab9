import { queues } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import type { CallContext } from '../../api/context.js';
import { apiError } from '../../api/errors.js';
import { readDict } from '../tasks/record.js';
import { loadTask, taskColumns } from '../tasks/status.js';
import { addEntry, loadQueue, popEntry, removeTaskEntries, touchQueue } from './store.js';

/**
 * queues.add_task: appends a task of the company to the queue (400/706 when it waits there already) and, unless
 * told not to, records the queue in its `execution.queue`. The task's status is left alone (tasks.enqueue
 * changes both).
 */
export const addTask = defineHandler(queues.add_task, async (ctx, req) =>
  ctx.db.transaction(async (db) => {
    const tx: CallContext = { ...ctx, db };
    const queue = await loadQueue(tx, req.queue);
    const task = await loadTask(tx, req.task, { writable: true, forUpdate: true });
    await addEntry(tx, queue.id, task.id);
    if (req.update_execution_queue ?? true) {
      await db.kysely
        .updateTable('tasks')
        .set(taskColumns({ execution: { ...readDict(task.execution), queue: queue.id } }))
        .where('id', '=', task.id)
        .where('company', '=', ctx.company)
        .execute();
    }
    return { added: 1 };
  }),
);

/** queues.remove_task: takes the task out of the queue; a task not waiting there is 400/703. */
export const removeTask = defineHandler(queues.remove_task, async (ctx, req) => {
  const queue = await loadQueue(ctx, req.queue);
  const removed = await removeTaskEntries(ctx, req.task, { queue: queue.id });
  if (!removed) throw apiError('invalid_queue_or_task_not_queued', undefined, { task: req.task, queue: queue.id });
  await touchQueue(ctx, queue.id);
  return { removed };
});

/**
 * queues.get_next_task: pops the oldest entry (see `popEntry`); an empty queue answers without `entry`. A
 * popped task that was stopped meanwhile (an abort racing its enqueue) is set back to `queued`, as ClearML does,
 * so the agent that popped it runs it.
 */
export const getNextTask = defineHandler(queues.get_next_task, async (ctx, req) => {
  const queue = await loadQueue(ctx, req.queue);
  const entry = await popEntry(ctx, queue.id, req.task);
  if (!entry) return {};
  await touchQueue(ctx, queue.id);
  const task = await ctx.db.kysely.selectFrom('tasks').select(['company', 'user', 'status']).where('id', '=', entry.task).where('company', '=', ctx.company).executeTakeFirst();
  if (task?.status === 'stopped') {
    await ctx.db.kysely.updateTable('tasks').set({ status: 'queued' }).where('id', '=', entry.task).where('company', '=', ctx.company).where('status', '=', 'stopped').execute();
  }
  return {
    entry: { task: entry.task, added: entry.added },
    ...(req.get_task_info && task ? { task_info: { company: task.company, user: task.user } } : {}),
  };
});
