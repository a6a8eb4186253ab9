import { sql, type SqlBool } from 'kysely';
import { z } from 'zod';
import { EventTypeFilter, MetricVariants, events } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import { apiError } from '../../api/errors.js';
import { readableEntity } from './entities.js';
import { decodeScroll, encodeScroll, entityEvents, metricsCondition } from './query.js';
import { EVENT_COLUMNS, rowToEvent } from './store.js';

/** `get_task_events` pages: 500 events by default, capped at ClearML's `max_raw_scalars_size`. */
const DEFAULT_TASK_EVENTS_BATCH = 500;
const MAX_TASK_EVENTS_BATCH = 10_000;
/** `scalar_metrics_iter_raw` pages: 10,000 points by default, at most 200,000. */
const DEFAULT_RAW_BATCH = 10_000;
const MAX_RAW_BATCH = 200_000;
/** Events without an iteration (log lines) sort before every iteration. */
const NO_ITERATION = -Number.MAX_SAFE_INTEGER;

/** Where a page ended: the sort key and `seq` of its last event; null once the events ran out. */
const Position = z.tuple([z.number(), z.number()]).nullable();

const TaskEventsScroll = z.object({
  after: Position,
  total: z.number().int().nullable(),
  order: z.enum(['asc', 'desc']),
  type: EventTypeFilter,
  metrics: z.array(MetricVariants).nullable(),
  batch: z.number().int(),
});

/**
 * Keyset condition for "after (key, seq)" in the given direction. The leading plain bound on the key
 * lets the databases start an index range scan there instead of testing every row.
 */
function after(keySql: ReturnType<typeof sql>, position: [number, number], order: 'asc' | 'desc') {
  const [key, seq] = position;
  return order === 'asc'
    ? sql<SqlBool>`(${keySql} >= ${key} and (${keySql} > ${key} or seq > ${seq}))`
    : sql<SqlBool>`(${keySql} <= ${key} and (${keySql} < ${key} or seq < ${seq}))`;
}

/**
 * `events.get_task_events`: the events of a task or model ordered by iteration, `batch_size` at a
 * time. The scroll id keeps the first call's order, type and metric filters (as ClearML's does);
 * a later call may only change the page size.
 */
export const getTaskEvents = defineHandler(events.get_task_events, async (ctx, req) => {
  const modelEvents = !!req.model_events;
  const entity = await readableEntity(ctx, req.task, modelEvents);
  const state = req.scroll_id
    ? decodeScroll('events', req.scroll_id, TaskEventsScroll)
    : {
        after: [NO_ITERATION - 1, 0] as [number, number],
        total: null,
        order: req.order ?? 'asc',
        type: req.event_type ?? '*',
        metrics: req.metrics ?? null,
        batch: req.batch_size ?? DEFAULT_TASK_EVENTS_BATCH,
      };
  if (req.scroll_id && req.batch_size) state.batch = req.batch_size;
  if (!req.scroll_id && state.order === 'desc') state.after = [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
  if (state.after === null) return { events: [], returned: 0, total: state.total, scroll_id: req.scroll_id ?? null };

  const filter = metricsCondition(state.metrics);
  if (!req.scroll_id && (req.count_total ?? true)) {
    let count = entityEvents(ctx, entity, modelEvents, state.type).select((eb) => eb.fn.countAll<number>().as('n'));
    if (filter) count = count.where(filter);
    state.total = Number((await count.executeTakeFirstOrThrow()).n);
  }

  const key = sql<number>`coalesce(iter, ${sql.lit(NO_ITERATION)})`;
  let q = entityEvents(ctx, entity, modelEvents, state.type)
    .select([...EVENT_COLUMNS, 'seq', key.as('k')])
    .where(after(key, state.after, state.order));
  if (filter) q = q.where(filter);
  const rows = await q
    .orderBy(key, state.order)
    .orderBy('seq', state.order)
    .limit(Math.min(state.batch, MAX_TASK_EVENTS_BATCH))
    .execute();
  const last = rows[rows.length - 1];
  state.after = last ? [Number(last.k), Number(last.seq)] : null;
  return { events: rows.map(rowToEvent), returned: rows.length, total: state.total, scroll_id: encodeScroll('events', state) };
});

const RawScroll = z.object({
  after: Position,
  total: z.number().int().nullable(),
  batch: z.number().int(),
});

/**
 * `events.scalar_metrics_iter_raw`: every point of one metric (single values included), ordered by
 * the key, grouped per variant as `{y: [...], <key>: [...]}`. For `iso_time` the x values are ISO
 * strings.
 */
export const scalarMetricsIterRaw = defineHandler(events.scalar_metrics_iter_raw, async (ctx, req) => {
  if (req.batch_size !== undefined && req.batch_size !== null && req.batch_size < 0) {
    throw apiError('validation_error', 'batch_size should be non negative number');
  }
  const modelEvents = !!req.model_events;
  const entity = await readableEntity(ctx, req.task, modelEvents);
  const keyName = req.key ?? 'iter';
  const field = keyName === 'iter' ? 'iter' : 'timestamp';
  const state = req.scroll_id
    ? decodeScroll('raw', req.scroll_id, RawScroll)
    : { after: [-Number.MAX_SAFE_INTEGER, 0] as [number, number], total: null, batch: req.batch_size || DEFAULT_RAW_BATCH };
  if (req.scroll_id && req.batch_size) state.batch = req.batch_size;
  if (state.after === null) return { variants: {}, returned: 0, total: state.total, scroll_id: req.scroll_id ?? null };

  const filter = metricsCondition([req.metric]);
  const base = () => {
    let q = entityEvents(ctx, entity, modelEvents, 'training_stats_scalar').where('iter', 'is not', null);
    if (filter) q = q.where(filter);
    return q;
  };
  if (!req.scroll_id && req.count_total) {
    state.total = Number((await base().select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  }
  const key = sql<number>`${sql.ref(field)}`;
  const rows = await base()
    .select(['variant', 'value', 'seq', key.as('k')])
    .where(after(key, state.after, 'asc'))
    .orderBy(key)
    .orderBy('seq')
    .limit(Math.min(state.batch, MAX_RAW_BATCH))
    .execute();
  const variants: Record<string, Record<string, (number | string | null)[]>> = {};
  for (const row of rows) {
    const v = (variants[row.variant] ??= { y: [], [keyName]: [] });
    v.y!.push(row.value === null ? null : Number(row.value));
    const x = Number(row.k);
    v[keyName]!.push(keyName === 'iso_time' ? new Date(x).toISOString() : x);
  }
  const last = rows[rows.length - 1];
  state.after = last ? [Number(last.k), Number(last.seq)] : null;
  return { variants, returned: rows.length, total: state.total, scroll_id: encodeScroll('raw', state) };
});
