/**
 * Queues and their entries in the database: lookups, creation, and the entry operations the tasks module
 * builds on (enqueue, dequeue, pop). Nothing here changes a task's status; callers do that in the same
 * transaction.
 */
import { sql, type Insertable, type Selectable } from 'kysely';
import { DEFAULT_QUEUE_TAG } from '@cairn/protocol';
import type { CallContext } from '../../api/context.js';
import { apiError } from '../../api/errors.js';
import type { Db } from '../../db/database.js';
import type { QueuesTable } from '../../db/schema.js';
import { newId } from '../../util/ids.js';
import { toJson } from '../../util/json.js';
import { isoDate } from '../../util/time.js';
import { Dialect } from '../../query/index.js';
import { conformTags } from '../models/common.js';

export type QueueRow = Selectable<QueuesTable>;

export interface EntryRow {
  queue: string;
  task: string;
  added: string;
}

/** A queue of the caller's company; anything else is 400/701. */
export async function loadQueue(ctx: CallContext, id: string, db: Db = ctx.db): Promise<QueueRow> {
  const row = await db.kysely.selectFrom('queues').selectAll().where('id', '=', id).where('company', '=', ctx.company).executeTakeFirst();
  if (!row) throw apiError('invalid_queue_id', undefined, { id, company: ctx.company });
  return row;
}

export async function findQueueByName(ctx: CallContext, name: string, db: Db = ctx.db): Promise<QueueRow | undefined> {
  return db.kysely.selectFrom('queues').selectAll().where('company', '=', ctx.company).where('name', '=', name).executeTakeFirst();
}

/** The queue with system tag `default`: none is 400/707, several are 400/708. */
export async function defaultQueue(ctx: CallContext, db: Db = ctx.db): Promise<QueueRow> {
  const d = new Dialect(db.dialect);
  const { rows } = await sql<QueueRow>`select * from queues as t where t.company = ${ctx.company} and ${d.anyOf({ kind: 'array', column: 'system_tags' }, [DEFAULT_QUEUE_TAG])} limit 2`.execute(db.kysely);
  if (!rows.length) throw apiError('no_default_queue');
  if (rows.length > 1) throw apiError('multiple_default_queues', undefined, { queues: rows.map((r) => r.id) });
  return rows[0]!;
}

export interface NewQueue {
  name: string;
  displayName?: string | null;
  tags?: readonly string[];
  systemTags?: readonly string[];
  /** Stored form: escaped key → `{key, type, value}`. */
  metadata?: Record<string, unknown>;
}

/** Inserts a queue; a name taken in the company is 400/801 (checked first for the message, backed by the unique index). */
export async function createQueue(ctx: CallContext, fields: NewQueue, db: Db = ctx.db): Promise<QueueRow> {
  const name = fields.name.trim();
  if (!name) throw apiError('validation_error', 'queue name may not be empty');
  if (await findQueueByName(ctx, name, db)) throw apiError('expected_unique_data', 'Queue with the same name already exists', { name, company: ctx.company });
  const now = isoDate(ctx.services.clock.now());
  const row: Insertable<QueuesTable> = {
    id: newId(),
    company: ctx.company,
    user: ctx.user,
    name,
    display_name: fields.displayName ?? null,
    created: now,
    last_update: now,
    tags: toJson(conformTags('tags', fields.tags ?? [])),
    system_tags: toJson(conformTags('system_tags', fields.systemTags ?? [])),
    metadata: toJson(fields.metadata ?? {}),
  };
  await db.kysely.insertInto('queues').values(row).execute();
  return row as QueueRow;
}

export async function touchQueue(ctx: CallContext, queueId: string, db: Db = ctx.db): Promise<void> {
  await db.kysely.updateTable('queues').set({ last_update: isoDate(ctx.services.clock.now()) }).where('id', '=', queueId).where('company', '=', ctx.company).execute();
}

/** Appends the task to the queue; a task already waiting there is 400/706. */
export async function addEntry(ctx: CallContext, queueId: string, taskId: string, db: Db = ctx.db): Promise<void> {
  const existing = await db.kysely.selectFrom('queue_entries').select('seq').where('queue', '=', queueId).where('task', '=', taskId).executeTakeFirst();
  if (existing) throw apiError('task_already_queued', undefined, { task: taskId, queue: queueId });
  await db.kysely.insertInto('queue_entries').values({ company: ctx.company, queue: queueId, task: taskId, added: isoDate(ctx.services.clock.now()) }).execute();
  await touchQueue(ctx, queueId, db);
}

/** Takes the task out of every queue it waits in (or of one queue); returns how many entries went. */
export async function removeTaskEntries(ctx: CallContext, taskId: string, options: { queue?: string; db?: Db } = {}): Promise<number> {
  const db = options.db ?? ctx.db;
  let query = db.kysely.deleteFrom('queue_entries').where('company', '=', ctx.company).where('task', '=', taskId);
  if (options.queue) query = query.where('queue', '=', options.queue);
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * Removes and returns the oldest entry of the queue in one statement, so that agents polling together never
 * get the same entry: PostgreSQL skips rows another transaction is popping (`for update skip locked`), SQLite
 * runs one writer at a time. With `task`, the entry is popped only when it is that task's.
 */
export async function popEntry(ctx: CallContext, queueId: string, task?: string | null): Promise<EntryRow | undefined> {
  const lock = ctx.db.dialect === 'postgres' ? sql`for update skip locked` : sql``;
  const onlyTask = task ? sql`and task = ${task}` : sql``;
  const { rows } = await sql<EntryRow>`delete from queue_entries where seq = (select seq from queue_entries where queue = ${queueId} and company = ${ctx.company} order by seq limit 1 ${lock}) ${onlyTask} returning queue, task, added`.execute(ctx.db.kysely);
  return rows[0];
}

/** The entries of each queue, oldest first (at most `limit` per queue, counted in SQL). */
export async function entriesOf(ctx: CallContext, queueIds: readonly string[], limit?: number | null): Promise<Map<string, EntryRow[]>> {
  const out = new Map<string, EntryRow[]>(queueIds.map((id) => [id, []]));
  if (!queueIds.length) return out;
  const ids = sql.join(queueIds.map((id) => sql`${id}`));
  const cap = limit && limit > 0 ? sql`where e.n <= ${limit}` : sql``;
  const { rows } = await sql<EntryRow>`select e.queue, e.task, e.added from (select queue, task, added, seq, row_number() over (partition by queue order by seq) as n from queue_entries where company = ${ctx.company} and queue in (${ids})) as e ${cap} order by e.queue, e.seq`.execute(ctx.db.kysely);
  for (const row of rows) out.get(row.queue)!.push(row);
  return out;
}

export async function countEntries(ctx: CallContext, queueIds: readonly string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>(queueIds.map((id) => [id, 0]));
  if (!queueIds.length) return out;
  const rows = await ctx.db.kysely
    .selectFrom('queue_entries')
    .select((eb) => ['queue', eb.fn.countAll<number>().as('n')])
    .where('company', '=', ctx.company)
    .where('queue', 'in', [...queueIds])
    .groupBy('queue')
    .execute();
  for (const row of rows) out.set(row.queue, Number(row.n));
  return out;
}
