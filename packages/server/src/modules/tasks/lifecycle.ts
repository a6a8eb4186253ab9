import { tasks, type TaskStatus } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import type { CallContext } from '../../api/context.js';
import { isoDate, parseDateInput } from '../../util/time.js';
import { readTags, type TaskRow } from './record.js';
import { DEVELOPMENT_TAG, applyStatusChange, loadTask, publishTask, taskColumns, type TaskFieldUpdate } from './status.js';
import { removeTaskEntries } from '../queues/store.js';

/**
 * An agent that has not reported on its task for this long no longer runs it, so aborting the task
 * stops it at once instead of asking the agent (ClearML's `workers.task_update_timeout`).
 */
export const WORKER_TASK_UPDATE_TIMEOUT_MS = 600_000;

interface StatusRequest {
  task: string;
  force?: boolean | null;
  status_reason?: string | null;
  status_message?: string | null;
}

async function moveTo(ctx: CallContext, req: StatusRequest, status: TaskStatus, set?: (task: TaskRow, now: string) => TaskFieldUpdate) {
  const task = await loadTask(ctx, req.task, { writable: true });
  const now = isoDate(ctx.services.clock.now());
  return applyStatusChange(ctx, task, status, {
    force: req.force ?? false,
    statusReason: req.status_reason,
    statusMessage: req.status_message,
    set: set?.(task, now),
  });
}

/** tasks.started: → in_progress; `started` keeps its earliest value. */
export const startedTask = defineHandler(tasks.started, async (ctx, req) => {
  const res = await moveTo(ctx, req, 'in_progress', (task, now) => ({ started: task.started && task.started < now ? task.started : now }));
  return { ...res, started: res.updated };
});

/** tasks.stopped: → stopped, `completed` = now. */
export const stoppedTask = defineHandler(tasks.stopped, async (ctx, req) => moveTo(ctx, req, 'stopped', (_task, now) => ({ completed: now })));

/** tasks.failed: → failed. */
export const failedTask = defineHandler(tasks.failed, async (ctx, req) => moveTo(ctx, req, 'failed'));

/** tasks.close: → closed. */
export const closeTask = defineHandler(tasks.close, async (ctx, req) => moveTo(ctx, req, 'closed'));

/** tasks.completed: → completed, `completed` = now; with `publish`, then the publish flow. */
export const completedTask = defineHandler(tasks.completed, async (ctx, req) => {
  const res = await moveTo(ctx, req, 'completed', (_task, now) => ({ completed: now }));
  if (!res.updated || !req.publish) return { ...res, published: 0 };
  const published = await publishTask(ctx, req.task, { force: req.force ?? false, statusReason: req.status_reason, statusMessage: req.status_message });
  return { ...res, fields: { ...res.fields, status: published.fields?.status }, published: published.updated };
});

/** tasks.publish: see `publishTask`. */
export const publishTaskHandler = defineHandler(tasks.publish, async (ctx, req) =>
  publishTask(ctx, req.task, { force: req.force ?? false, publishModel: req.publish_model ?? true, statusReason: req.status_reason, statusMessage: req.status_message }),
);

/**
 * The user's abort. A queued task, a development run or a task no agent is running is stopped at
 * once; a task an agent runs keeps its status and gets `status_message: "stopping"`, which the agent
 * acts on.
 */
export async function stopTask(ctx: CallContext, taskId: string, options: { force?: boolean | null; statusReason?: string | null }) {
  return ctx.db.transaction(async (db) => {
    const tx: CallContext = { ...ctx, db };
    const task = await loadTask(tx, taskId, { writable: true, forUpdate: true });
    const now = ctx.services.clock.now();
    const lastUpdate = parseDateInput(task.last_update) ?? 0;
    const runByWorker = !!task.last_worker && now - lastUpdate < WORKER_TASK_UPDATE_TIMEOUT_MS;
    const queued = task.status === 'queued';
    const stopNow = queued || readTags(task.system_tags).includes(DEVELOPMENT_TAG) || !runByWorker;
    // An aborted queued task leaves its queue, so no agent picks it up.
    if (queued) await removeTaskEntries(tx, task.id);
    return applyStatusChange(tx, task, stopNow ? 'stopped' : (task.status as TaskStatus), {
      force: options.force ?? false,
      statusReason: options.statusReason,
      statusMessage: stopNow ? `Stopped by ${ctx.identity.user_name || ctx.user}` : 'stopping',
    });
  });
}

export const stopTaskHandler = defineHandler(tasks.stop, async (ctx, req) => stopTask(ctx, req.task, { force: req.force, statusReason: req.status_reason }));

/** tasks.ping: the task is alive; refreshes `last_update` (and `active_duration` while it runs). */
export const pingTask = defineHandler(tasks.ping, async (ctx, req) => {
  const task = await loadTask(ctx, req.task, { writable: true });
  const now = ctx.services.clock.now();
  const started = parseDateInput(task.started);
  const set: TaskFieldUpdate = { last_update: isoDate(now) };
  if (task.status === 'in_progress' && started !== undefined) set.active_duration = Math.max(0, (now - started) / 1000);
  await ctx.db.kysely.updateTable('tasks').set(taskColumns(set)).where('id', '=', task.id).where('company', '=', ctx.company).execute();
  return {};
});
