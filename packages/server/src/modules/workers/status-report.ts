import { workers } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import { apiError } from '../../api/errors.js';
import { toJson } from '../../util/json.js';
import { isoDate } from '../../util/time.js';
import { findWorker, registerWorker } from './store.js';

/**
 * workers.status_report: the worker's heartbeat. An unknown (or lapsed) worker is registered first. The report
 * renews the registration and records the queue it polls, the queues it serves and the task it runs; that task
 * gets `last_worker`, `last_worker_report` and `last_update`, which tell `tasks.stop` an agent is running it.
 * A task of another company (or none) is 400/101.
 */
export const statusReport = defineHandler(workers.status_report, async (ctx, req) =>
  ctx.db.transaction(async (db) => {
    const tx = { ...ctx, db };
    const entry = (await findWorker(tx, req.worker)) ?? (await registerWorker(tx, { worker: req.worker, queues: req.queues, tags: req.tags, systemTags: req.system_tags }));
    const nowMs = ctx.services.clock.now();
    const now = isoDate(nowMs);
    let project: string | null = null;
    if (req.task) {
      const task = await db.kysely.selectFrom('tasks').select(['id', 'project']).where('id', '=', req.task).where('company', '=', ctx.company).executeTakeFirst();
      if (!task) throw apiError('invalid_task_id', undefined, { id: req.task, company: ctx.company });
      await db.kysely.updateTable('tasks').set({ last_worker: req.worker, last_worker_report: now, last_update: now }).where('id', '=', task.id).where('company', '=', ctx.company).execute();
      project = task.project;
    }
    await db.kysely
      .updateTable('workers')
      .set({
        ip: ctx.remoteAddress,
        last_activity_time: now,
        last_report_time: now,
        expires: nowMs + entry.register_timeout * 1000,
        queue: req.queue ?? null,
        task: req.task ?? null,
        project,
        ...(req.queues ? { queues: toJson(req.queues) } : {}),
        ...(req.tags ? { tags: toJson(req.tags) } : {}),
        ...(req.system_tags ? { system_tags: toJson(req.system_tags) } : {}),
      })
      .where('company', '=', ctx.company)
      .where('user', '=', ctx.user)
      .where('id', '=', req.worker)
      .execute();
    return {};
  }),
);
