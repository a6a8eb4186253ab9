/**
 * The task status machine (clearml-api.md §2.3.1) and the operations other modules build on:
 * loading a task with access checks, changing its status atomically, and publishing it.
 */
import { ApiError, apiError } from '../../api/errors.js';
import type { CallContext } from '../../api/context.js';
import type { Db } from '../../db/database.js';
import type { TasksTable } from '../../db/schema.js';
import type { TaskStatus, UpdateResponse } from '@cairn/protocol';
import { toJson } from '../../util/json.js';
import { isoDate } from '../../util/time.js';
import { JSON_COLUMNS, readModels, type TaskRow } from './record.js';
import { systemTagsWithout } from './tags.js';
import { removeTaskEntries } from '../queues/store.js';

/** Which statuses a task may move to from each status, unless the change is forced. */
export const STATUS_TRANSITIONS: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  created: ['queued', 'in_progress'],
  queued: ['created', 'in_progress', 'stopped'],
  in_progress: ['stopped', 'failed', 'created', 'completed'],
  stopped: ['closed', 'created', 'failed', 'queued', 'in_progress', 'published', 'publishing', 'completed'],
  closed: ['created', 'failed', 'published', 'publishing', 'stopped'],
  failed: ['created', 'stopped', 'published', 'queued'],
  publishing: ['published'],
  published: [],
  completed: ['published', 'in_progress', 'created'],
  unknown: [],
};

/** The system tag of tasks run locally by the SDK (not by an agent). */
export const DEVELOPMENT_TAG = 'development';

/** 400/110 unless `next` is the current status or an allowed move from it. */
export function validateStatusChange(current: string, next: TaskStatus): void {
  if (current === next) return;
  if (STATUS_TRANSITIONS[current as TaskStatus]?.includes(next)) return;
  const data = { current_status: current, new_status: next };
  throw new ApiError('invalid_task_status', { data, message: `Invalid status change: current_status=${current}, new_status=${next}` });
}

/**
 * A task of the caller's company, or a public one for reading. Unknown or other-company ids are
 * 400/101; writing to a public task is 403/21. `forUpdate` locks the row for the caller's transaction.
 */
export async function loadTask(ctx: CallContext, id: string, options: { writable?: boolean; forUpdate?: boolean } = {}): Promise<TaskRow> {
  let query = ctx.db.kysely.selectFrom('tasks').selectAll().where('id', '=', id).where('company', 'in', [ctx.company, '']);
  // Inside a transaction, PostgreSQL locks the row until commit; SQLite's single writer already serialises.
  if (options.forUpdate && ctx.db.dialect === 'postgres') query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) throw apiError('invalid_task_id', undefined, { id, company: ctx.company });
  if (options.writable && row.company !== ctx.company) throw apiError('no_write_permission', 'public tasks are read-only', { id });
  return row;
}

type JsonColumn = 'tags' | 'system_tags' | 'models' | 'execution' | 'configuration' | 'hyperparams' | 'output' | 'script' | 'container' | 'runtime' | 'last_metrics' | 'metric_stats';

/** Columns to write together with a status change; JSON columns take their value in storage form (escaped keys). */
export type TaskFieldUpdate = { [K in Exclude<keyof TasksTable, 'id' | 'company' | JsonColumn>]?: TasksTable[K] } & { [K in JsonColumn]?: unknown };

export interface StatusChangeOptions {
  force?: boolean;
  statusReason?: string | null;
  statusMessage?: string | null;
  /** Other fields to set in the same update. */
  set?: TaskFieldUpdate;
  /** The status the change starts from, when the caller moved the task there itself (e.g. `publishing`). */
  currentStatus?: string;
}

/** The row update for `set`, JSON columns serialised. */
export function taskColumns(set: TaskFieldUpdate): Record<string, unknown> {
  return Object.fromEntries(Object.entries(set).map(([k, v]) => [k, JSON_COLUMNS.has(k as keyof TasksTable) ? toJson(v) : v]));
}

/** Bumps the project's `last_update` when one of its tasks changes. */
export async function touchProject(ctx: CallContext, db: Db, project: string | null | undefined, now: string): Promise<void> {
  if (!project) return;
  await db.kysely.updateTable('projects').set({ last_update: now }).where('id', '=', project).where('company', '=', ctx.company).execute();
}

/**
 * Moves a loaded task to `newStatus`. The update is conditional on the status the task was read in,
 * so a concurrent change makes it fail with 400/121 instead of overwriting.
 */
export async function applyStatusChange(ctx: CallContext, task: TaskRow, newStatus: TaskStatus, options: StatusChangeOptions = {}): Promise<UpdateResponse> {
  const current = options.currentStatus ?? task.status;
  if (!options.force) validateStatusChange(current, newStatus);
  const now = isoDate(ctx.services.clock.now());
  const fields = {
    status: newStatus,
    status_reason: options.statusReason ?? '',
    status_message: options.statusMessage ?? '',
    status_changed: now,
    last_update: now,
    last_change: now,
    last_changed_by: ctx.user,
  };
  const update: Record<string, unknown> = { ...fields, ...taskColumns(options.set ?? {}) };
  // Queued tasks run on an agent, so they are no longer development runs.
  if (newStatus === 'queued') update.system_tags = systemTagsWithout(ctx.db, DEVELOPMENT_TAG);
  const result = await ctx.db.kysely
    .updateTable('tasks')
    .set(update)
    .where('id', '=', task.id)
    .where('company', '=', ctx.company)
    .where('status', '=', current)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) === 0) {
    throw apiError('failed_changing_task_status', undefined, { task_id: task.id, current_status: current, new_status: newStatus });
  }
  await touchProject(ctx, ctx.db, task.project, now);
  // Documents written along (reset clears several) are not echoed; dates and scalars are.
  const scalars = Object.entries(options.set ?? {}).filter(([k]) => !JSON_COLUMNS.has(k as keyof TasksTable));
  return { updated: 1, fields: { ...fields, ...Object.fromEntries(scalars) } };
}

/** Loads the caller's task and changes its status (see `applyStatusChange`). */
export async function changeTaskStatus(ctx: CallContext, taskId: string, newStatus: TaskStatus, options: StatusChangeOptions = {}): Promise<UpdateResponse> {
  const task = await loadTask(ctx, taskId, { writable: true });
  return applyStatusChange(ctx, task, newStatus, options);
}

export interface PublishOptions {
  force?: boolean;
  /** Also publish (set ready) the task's current output model, the last `models.output` entry. Default true. */
  publishModel?: boolean;
  statusReason?: string | null;
  statusMessage?: string | null;
}

/**
 * tasks.publish: checks the move to `published`, passes through `publishing`, marks the last output
 * model ready, then sets `published`. One transaction, so a failure leaves the task as it was.
 * `ctx.db` may already be a transaction; it is then joined.
 */
export async function publishTask(ctx: CallContext, taskId: string, options: PublishOptions = {}): Promise<UpdateResponse> {
  return ctx.db.transaction(async (db) => {
    const tx: CallContext = { ...ctx, db };
    const task = await loadTask(tx, taskId, { writable: true });
    if (!options.force) validateStatusChange(task.status, 'published');
    const publishing = await db.kysely
      .updateTable('tasks')
      .set({ status: 'publishing' })
      .where('id', '=', task.id)
      .where('company', '=', ctx.company)
      .where('status', '=', task.status)
      .executeTakeFirst();
    if (Number(publishing.numUpdatedRows) === 0) {
      throw apiError('failed_changing_task_status', undefined, { task_id: task.id, current_status: task.status, new_status: 'publishing' });
    }
    const now = isoDate(ctx.services.clock.now());
    const outputModel = readModels(task.models).output.at(-1)?.model;
    if (options.publishModel !== false && outputModel) {
      await db.kysely
        .updateTable('models')
        .set({ ready: 1, last_update: now, last_change: now, last_changed_by: ctx.user })
        .where('id', '=', outputModel)
        .where('company', '=', ctx.company)
        .where('ready', '=', 0)
        .execute();
    }
    return applyStatusChange(tx, task, 'published', {
      force: options.force,
      statusReason: options.statusReason,
      statusMessage: options.statusMessage,
      currentStatus: 'publishing',
      set: { published: now },
    });
  });
}

/**
 * Takes a queued task out of every queue it waits in: it returns to `newStatus`, else to the status it was
 * enqueued from (or created). Answers the status change, or undefined when the task was not queued (an entry
 * it left behind goes anyway).
 */
export async function dequeueTask(
  ctx: CallContext,
  task: TaskRow,
  options: { statusReason?: string | null; statusMessage?: string | null; newStatus?: TaskStatus } = {},
): Promise<UpdateResponse | undefined> {
  await removeTaskEntries(ctx, task.id);
  if (task.status !== 'queued') return undefined;
  const previous = options.newStatus ?? (task.enqueue_status as TaskStatus | null) ?? 'created';
  return applyStatusChange(ctx, task, previous, { force: true, statusReason: options.statusReason, statusMessage: options.statusMessage, set: { enqueue_status: null } });
}
