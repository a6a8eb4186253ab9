import type { CallContext } from '../../api/context.js';
import { apiError } from '../../api/errors.js';
import { isoDate } from '../../util/time.js';
import { loadTask, taskColumns, type TaskFieldUpdate } from './status.js';
import type { TaskRow } from './record.js';

/**
 * Runs `fn` in one transaction with the caller's task loaded (and locked on PostgreSQL), for
 * read-modify-write changes of its JSON fields.
 */
export async function withTaskLocked<T>(ctx: CallContext, taskId: string, fn: (tx: CallContext, task: TaskRow) => Promise<T>): Promise<T> {
  return ctx.db.transaction(async (db) => {
    const tx: CallContext = { ...ctx, db };
    const task = await loadTask(tx, taskId, { writable: true, forUpdate: true });
    return fn(tx, task);
  });
}

/**
 * Parameters, configuration, artifacts and model entries can be changed while a task is `created`,
 * or also `in_progress` when forced (a running task reports them); otherwise 400/110.
 */
export function requireUpdatable(task: TaskRow, force: boolean | null | undefined): void {
  const allowed = force ? ['created', 'in_progress'] : ['created'];
  if (!allowed.includes(task.status)) throw apiError('invalid_task_status', undefined, { expected: 'created', status: task.status });
}

/** Writes `set` to the task with `last_update` = now (and `last_change`). */
export async function writeTask(ctx: CallContext, task: TaskRow, set: TaskFieldUpdate): Promise<number> {
  const now = isoDate(ctx.services.clock.now());
  const result = await ctx.db.kysely
    .updateTable('tasks')
    .set({ ...taskColumns(set), last_update: now, last_change: now, last_changed_by: ctx.user })
    .where('id', '=', task.id)
    .where('company', '=', ctx.company)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
