/** Workers in the database: a row per (company, user, worker name) that lapses `register_timeout` seconds after its last report. */
import type { Insertable, Selectable } from 'kysely';
import { DEFAULT_WORKER_TIMEOUT_S } from '@cairn/protocol';
import type { CallContext } from '../../api/context.js';
import { apiError } from '../../api/errors.js';
import type { WorkersTable } from '../../db/schema.js';
import { fromJson, toJson } from '../../util/json.js';
import { isoDate } from '../../util/time.js';

export type WorkerRow = Selectable<WorkersTable>;

export function workerQueueIds(row: Pick<WorkerRow, 'queues'>): string[] {
  const value = fromJson<unknown>(row.queues, []);
  return Array.isArray(value) ? value.filter((q): q is string => typeof q === 'string') : [];
}

/** The caller's registration of `worker`, if it has not lapsed. */
export async function findWorker(ctx: CallContext, worker: string): Promise<WorkerRow | undefined> {
  return ctx.db.kysely
    .selectFrom('workers')
    .selectAll()
    .where('company', '=', ctx.company)
    .where('user', '=', ctx.user)
    .where('id', '=', worker)
    .where('expires', '>', ctx.services.clock.now())
    .executeTakeFirst();
}

/** Queue ids of the company; any unknown one is 400/701. */
export async function checkQueues(ctx: CallContext, queues: readonly string[]): Promise<void> {
  if (!queues.length) return;
  const found = await ctx.db.kysely.selectFrom('queues').select('id').where('company', '=', ctx.company).where('id', 'in', [...queues]).execute();
  const missing = queues.filter((q) => !found.some((f) => f.id === q));
  if (missing.length) throw apiError('invalid_queue_id', undefined, { ids: missing });
}

export interface Registration {
  worker: string;
  timeoutS?: number | null;
  queues?: readonly string[] | null;
  tags?: readonly string[] | null;
  systemTags?: readonly string[] | null;
}

/** Registers the worker anew (or again): its registration lapses `timeout` seconds from now unless it reports. */
export async function registerWorker(ctx: CallContext, reg: Registration): Promise<WorkerRow> {
  const timeout = reg.timeoutS ?? DEFAULT_WORKER_TIMEOUT_S;
  if (!Number.isInteger(timeout) || timeout <= 0) throw apiError('worker_registration_failed', 'invalid timeout', { timeout, worker: reg.worker });
  if (!reg.worker.trim()) throw apiError('invalid_worker_id', 'a worker id may not be empty');
  const queues = [...(reg.queues ?? [])];
  await checkQueues(ctx, queues);
  const nowMs = ctx.services.clock.now();
  const now = isoDate(nowMs);
  const row: Insertable<WorkersTable> = {
    company: ctx.company,
    user: ctx.user,
    id: reg.worker,
    ip: ctx.remoteAddress,
    queues: toJson(queues),
    queue: null,
    task: null,
    project: null,
    tags: toJson(reg.tags ?? []),
    system_tags: toJson(reg.systemTags ?? []),
    register_time: now,
    register_timeout: timeout,
    last_activity_time: now,
    last_report_time: null,
    expires: nowMs + timeout * 1000,
  };
  await ctx.db.kysely
    .insertInto('workers')
    .values(row)
    .onConflict((oc) => oc.columns(['company', 'user', 'id']).doUpdateSet({ ...row }))
    .execute();
  return row as WorkerRow;
}

/**
 * The company's live workers (most recently active first), or only those active in the last `lastSeenS`
 * seconds. Lapsed registrations are deleted on the way.
 */
export async function liveWorkers(ctx: CallContext, lastSeenS?: number | null): Promise<WorkerRow[]> {
  const now = ctx.services.clock.now();
  await ctx.db.kysely.deleteFrom('workers').where('company', '=', ctx.company).where('expires', '<=', now).execute();
  let query = ctx.db.kysely.selectFrom('workers').selectAll().where('company', '=', ctx.company).where('expires', '>', now);
  if (lastSeenS && lastSeenS > 0) query = query.where('last_activity_time', '>=', isoDate(now - Math.max(1, lastSeenS) * 1000));
  return query.orderBy('last_activity_time', 'desc').orderBy('id').execute();
}
