import { queues, type ParsedRequestOf } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import type { CallContext } from '../../api/context.js';
import { listEntities, type Doc, type EntitySpec } from '../../query/index.js';
import { decodeRow } from '../../query/documents.js';
import { isPlainObject } from '../../util/json.js';
import { unescapeKeys } from '../../util/keys.js';
import { liveWorkers, workerQueueIds } from '../workers/store.js';
import { countEntries, defaultQueue, entriesOf, loadQueue } from './store.js';

/** Queues (clearml-api.md §2.6) as the get_all engine sees them; `entries` and `workers` are filled in here. */
export const queuesEntity: EntitySpec = {
  name: 'queue',
  table: 'queues',
  fields: {
    id: { type: 'string', filter: 'list', nullable: false },
    company: { type: 'string', ref: 'companies', nullable: false },
    user: { type: 'string', filter: 'list', ref: 'users' },
    name: { type: 'string', filter: 'pattern', nullable: false },
    display_name: { type: 'string', filter: 'pattern' },
    created: { type: 'date', filter: 'range', nullable: false },
    last_update: { type: 'date', filter: 'datetime', nullable: false },
    tags: { type: 'stringList', filter: 'list' },
    system_tags: { type: 'stringList', filter: 'list' },
    metadata: { type: 'json' },
  },
  paths: [{ field: 'metadata', filter: 'list', value: 'text', escaped: [0] }],
  virtualFields: ['entries', 'workers'],
  searchText: ['name', 'id', 'display_name'],
  defaultOrder: ['created'],
};

/** Metadata keys are stored escaped (clearml-api.md §7 item 7). */
function present(doc: Doc): Doc {
  if (isPlainObject(doc.metadata)) doc.metadata = unescapeKeys(doc.metadata);
  return doc;
}

/** Whether a projection asks for `field` (no projection asks for everything). */
function wants(onlyFields: readonly string[] | null | undefined, field: string): boolean {
  if (!onlyFields?.length) return true;
  return onlyFields.some((f) => f === field || f.startsWith(`${field}.`));
}

type ListRequest = ParsedRequestOf<typeof queues.get_all>;

/**
 * Adds each queue's waiting tasks (oldest first). The `_ex` form names the tasks and lists the live workers
 * that serve each queue, with the task each one runs.
 */
async function withEntries(ctx: CallContext, items: Doc[], req: Pick<ListRequest, 'only_fields' | 'projection' | 'max_task_entries'>, ex: boolean): Promise<Doc[]> {
  const onlyFields = req.only_fields ?? req.projection;
  const ids = items.map((q) => String(q.id));
  if (wants(onlyFields, 'entries')) {
    const entries = await entriesOf(ctx, ids, req.max_task_entries);
    let names = new Map<string, string>();
    if (ex) {
      const taskIds = [...new Set([...entries.values()].flat().map((e) => e.task))];
      if (taskIds.length) {
        const rows = await ctx.db.kysely.selectFrom('tasks').select(['id', 'name']).where('id', 'in', taskIds).where('company', 'in', [ctx.company, '']).execute();
        names = new Map(rows.map((r) => [r.id, r.name]));
      }
    }
    for (const queue of items) {
      queue.entries = (entries.get(String(queue.id)) ?? []).map((e) => ({ task: ex ? { id: e.task, name: names.get(e.task) ?? null } : e.task, added: e.added }));
    }
  }
  if (ex && wants(onlyFields, 'workers')) {
    const workers = await liveWorkers(ctx);
    const taskIds = [...new Set(workers.map((w) => w.task).filter((t): t is string => !!t))];
    const names = new Map<string, string>();
    if (taskIds.length) {
      for (const r of await ctx.db.kysely.selectFrom('tasks').select(['id', 'name']).where('id', 'in', taskIds).where('company', '=', ctx.company).execute()) names.set(r.id, r.name);
    }
    for (const queue of items) {
      queue.workers = workers
        .filter((w) => workerQueueIds(w).includes(String(queue.id)))
        .map((w) => ({ name: w.id, ip: w.ip, task: w.task ? { id: w.task, name: names.get(w.task) ?? null } : null }));
    }
  }
  return items;
}

async function listQueues(ctx: CallContext, req: ListRequest, ex: boolean) {
  const { items, scroll_id } = await listEntities(ctx, queuesEntity, req as Record<string, unknown>, { expandRefs: ex, allowPublic: false, present });
  const found = (await withEntries(ctx, items, req, ex)) as { id: string }[];
  return scroll_id === undefined ? { queues: found } : { queues: found, scroll_id };
}

/** queues.get_all: the list engine's filters, projection, order and paging, plus each queue's entries. */
export const getAllQueues = defineHandler(queues.get_all, async (ctx, req) => listQueues(ctx, req, false));

/** queues.get_all_ex: the same, with task names on the entries, references as objects and the serving workers. */
export const getAllQueuesEx = defineHandler(queues.get_all_ex, async (ctx, req) => listQueues(ctx, req, true));

/** queues.get_by_id: one queue of the caller's company (400/701 otherwise) with its entries. */
export const getQueueById = defineHandler(queues.get_by_id, async (ctx, req) => {
  const row = await loadQueue(ctx, req.queue);
  const [queue] = await withEntries(ctx, [present(decodeRow(queuesEntity, row))], { max_task_entries: req.max_task_entries }, false);
  return { queue: queue as { id: string } };
});

/** queues.get_default: `{id, name}` of the queue tagged `default`. */
export const getDefaultQueue = defineHandler(queues.get_default, async (ctx) => {
  const queue = await defaultQueue(ctx);
  return { id: queue.id, name: queue.name };
});

/** queues.get_num_entries: how many tasks wait. */
export const getNumEntries = defineHandler(queues.get_num_entries, async (ctx, req) => {
  const queue = await loadQueue(ctx, req.queue);
  return { num: (await countEntries(ctx, [queue.id])).get(queue.id) ?? 0 };
});
