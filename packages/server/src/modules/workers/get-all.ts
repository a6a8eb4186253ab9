import { workers } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import { fromJson } from '../../util/json.js';
import { parseDateInput } from '../../util/time.js';
import { countEntries, entriesOf } from '../queues/store.js';
import { liveWorkers, workerQueueIds } from './store.js';

type Named = { id: string; name: string | null };

/**
 * workers.get_all: the company's live workers with names resolved: user, company, the task each runs (with its
 * running time and last iteration) and its project, and each queue with its length and next task. A handful of
 * batched reads, whatever the number of workers.
 */
export const getAllWorkers = defineHandler(workers.get_all, async (ctx, req) => {
  const rows = await liveWorkers(ctx, req.last_seen);
  if (!rows.length) return { workers: [] };
  const { kysely } = ctx.db;
  const now = ctx.services.clock.now();
  const queueIds = [...new Set(rows.flatMap((w) => [...workerQueueIds(w), ...(w.queue ? [w.queue] : [])]))];
  const [users, company, queues, counts, heads] = await Promise.all([
    kysely.selectFrom('users').select(['id', 'name']).where('company', '=', ctx.company).where('id', 'in', [...new Set(rows.map((w) => w.user))]).execute(),
    kysely.selectFrom('companies').select(['id', 'name']).where('id', '=', ctx.company).executeTakeFirst(),
    queueIds.length ? kysely.selectFrom('queues').select(['id', 'name']).where('company', '=', ctx.company).where('id', 'in', queueIds).execute() : [],
    countEntries(ctx, queueIds),
    entriesOf(ctx, queueIds, 1),
  ]);
  const taskIds = [...new Set([...rows.map((w) => w.task), ...[...heads.values()].map((e) => e[0]?.task)].filter((t): t is string => !!t))];
  const projectIds = [...new Set(rows.map((w) => w.project).filter((p): p is string => !!p))];
  const [tasks, projects] = await Promise.all([
    taskIds.length ? kysely.selectFrom('tasks').select(['id', 'name', 'started', 'last_iteration']).where('company', '=', ctx.company).where('id', 'in', taskIds).execute() : [],
    projectIds.length ? kysely.selectFrom('projects').select(['id', 'name']).where('company', 'in', [ctx.company, '']).where('id', 'in', projectIds).execute() : [],
  ]);
  const byId = <T extends { id: string }>(list: T[]) => new Map(list.map((x) => [x.id, x]));
  const userById = byId(users);
  const queueById = byId(queues);
  const taskById = byId(tasks);
  const projectById = byId(projects);
  const named = (id: string, name: string | null | undefined): Named => ({ id, name: name ?? null });
  const queueInfo = (id: string) => {
    const next = heads.get(id)?.[0]?.task;
    return {
      ...named(id, queueById.get(id)?.name),
      num_tasks: counts.get(id) ?? 0,
      ...(next ? { next_task: named(next, taskById.get(next)?.name) } : {}),
    };
  };
  return {
    workers: rows.map((w) => {
      const task = w.task ? taskById.get(w.task) : undefined;
      const started = parseDateInput(task?.started);
      return {
        id: w.id,
        user: named(w.user, userById.get(w.user)?.name),
        company: named(ctx.company, company?.name),
        ip: w.ip,
        register_time: w.register_time,
        register_timeout: w.register_timeout,
        last_activity_time: w.last_activity_time,
        last_report_time: w.last_report_time,
        task: w.task ? { ...named(w.task, task?.name), running_time: started === undefined ? 0 : Math.max(0, now - started), last_iteration: task?.last_iteration ?? 0 } : null,
        project: w.project ? named(w.project, projectById.get(w.project)?.name) : null,
        queue: w.queue ? queueInfo(w.queue) : null,
        queues: workerQueueIds(w).map(queueInfo),
        tags: fromJson<string[]>(w.tags, []),
        system_tags: fromJson<string[]>(w.system_tags, []),
      };
    }),
  };
});
