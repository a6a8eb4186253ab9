import { sql, type SqlBool } from 'kysely';
import { SINGLE_VALUE_ITERATION, events } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import type { CallContext } from '../../api/context.js';
import { fromJson, isPlainObject } from '../../util/json.js';
import { readableEntities, readableEntity, type ReadableEntity } from './entities.js';
import { entityEvents, metricsCondition, type MetricFilter } from './query.js';
import { md5 } from './store.js';

/** The apimodel's default `samples` (the schema documents 6000; the server applies 2000). */
export const DEFAULT_SAMPLES = 2000;

type ScalarKey = 'iter' | 'timestamp' | 'iso_time';
interface Series {
  name: string;
  x: (number | string)[];
  y: (number | null)[];
  x_axis_label?: string;
}
export type Histogram = Record<string, Record<string, Series>>;

/**
 * Scalar series of one entity, each averaged into at most `samples` buckets of its x key
 * (ClearML's `get_scalar_metrics_average_per_iter`). A series with fewer points than `samples` keeps
 * one point per distinct x; a longer one gets buckets of `ceil(range / samples)`. The bucketing and
 * averaging run in SQL, one grouped query per distinct bucket width.
 */
export async function scalarHistogram(
  ctx: CallContext,
  entity: ReadableEntity,
  modelEvents: boolean,
  samples: number,
  key: ScalarKey,
  metrics?: readonly MetricFilter[] | null,
): Promise<Histogram> {
  const field = key === 'iter' ? 'iter' : 'timestamp';
  const filter = metricsCondition(metrics);
  const base = () => {
    let q = entityEvents(ctx, entity, modelEvents, 'training_stats_scalar').where('iter', '>', SINGLE_VALUE_ITERATION);
    if (filter) q = q.where(filter);
    return q;
  };
  const stats = await base()
    .select(['metric', 'variant'])
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min(field).as('lo'), eb.fn.max(field).as('hi')])
    .groupBy(['metric', 'variant'])
    .execute();
  if (!stats.length) return {};

  const byInterval = new Map<number, { metric: string; variant: string }[]>();
  for (const s of stats) {
    const n = Number(s.n);
    const interval = n < samples ? 1 : Math.max(1, Math.ceil((Number(s.hi) - Number(s.lo) + 1) / samples));
    byInterval.set(interval, [...(byInterval.get(interval) ?? []), { metric: s.metric, variant: s.variant }]);
  }

  const points = new Map<string, Series>();
  for (const [interval, series] of byInterval) {
    // Bucket start = floor(x / interval) * interval, written so that it also floors negative x in
    // both databases (their `%` keeps the dividend's sign).
    const i = sql.lit(interval);
    const x = interval === 1 ? sql<number>`${sql.ref(field)}` : sql<number>`(${sql.ref(field)} - ((${sql.ref(field)} % ${i}) + ${i}) % ${i})`;
    let q = base();
    if (byInterval.size > 1) {
      q = q.where(sql<SqlBool>`(${sql.join(series.map((s) => sql`(metric = ${s.metric} and variant = ${s.variant})`), sql` or `)})`);
    }
    // No ORDER BY: the groups (at most `samples` per series) are sorted here, which leaves
    // PostgreSQL free to hash-aggregate instead of sorting every point.
    const rows = await q
      .select(['metric', 'variant', x.as('x'), sql<number | null>`avg(value)`.as('y')])
      .groupBy(['metric', 'variant', sql`3`])
      .execute();
    rows.sort((a, b) => (a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : a.variant < b.variant ? -1 : a.variant > b.variant ? 1 : Number(a.x) - Number(b.x)));
    for (const row of rows) {
      const k = `${row.metric}\u0000${row.variant}`;
      let s = points.get(k);
      if (!s) points.set(k, (s = { name: row.variant, x: [], y: [] }));
      const xv = Number(row.x);
      s.x.push(key === 'iso_time' ? new Date(xv).toISOString() : xv);
      s.y.push(row.y === null ? null : Number(row.y));
    }
  }

  const labels = await axisLabels(ctx, entity, modelEvents);
  const out: Histogram = {};
  for (const s of stats) {
    const series = points.get(`${s.metric}\u0000${s.variant}`);
    if (!series) continue;
    const label = labels.get(`${md5(s.metric)}/${md5(s.variant)}`);
    if (label !== undefined) series.x_axis_label = label;
    (out[s.metric] ??= {})[s.variant] = series;
  }
  return sortHistogram(out);
}

/** The x-axis labels reported with scalars live in the entity's `last_metrics`. */
async function axisLabels(ctx: CallContext, entity: ReadableEntity, modelEvents: boolean): Promise<Map<string, string>> {
  const row = modelEvents
    ? await ctx.db.kysely.selectFrom('models').select('last_metrics').where('id', '=', entity.id).executeTakeFirst()
    : await ctx.db.kysely.selectFrom('tasks').select('last_metrics').where('id', '=', entity.id).executeTakeFirst();
  const labels = new Map<string, string>();
  const lastMetrics = fromJson<unknown>(row?.last_metrics, {});
  if (!isPlainObject(lastMetrics)) return labels;
  for (const [mh, variants] of Object.entries(lastMetrics)) {
    if (!isPlainObject(variants)) continue;
    for (const [vh, entry] of Object.entries(variants)) {
      if (isPlainObject(entry) && typeof entry.x_axis_label === 'string') labels.set(`${mh}/${vh}`, entry.x_axis_label);
    }
  }
  return labels;
}

/** Metrics and variants in ascending order, as ClearML's terms aggregations return them. */
function sortHistogram<T>(h: Record<string, Record<string, T>>): Record<string, Record<string, T>> {
  const out: Record<string, Record<string, T>> = {};
  for (const metric of Object.keys(h).sort()) {
    const variants = h[metric]!;
    out[metric] = Object.fromEntries(Object.keys(variants).sort().map((v) => [v, variants[v]!]));
  }
  return out;
}

export const scalarMetricsIterHistogram = defineHandler(events.scalar_metrics_iter_histogram, async (ctx, req) => {
  const modelEvents = !!req.model_events;
  const entity = await readableEntity(ctx, req.task, modelEvents);
  return scalarHistogram(ctx, entity, modelEvents, req.samples ?? DEFAULT_SAMPLES, req.key ?? 'iter', req.metrics);
});

export const multiTaskScalarMetricsIterHistogram = defineHandler(events.multi_task_scalar_metrics_iter_histogram, async (ctx, req) => {
  const modelEvents = !!req.model_events;
  const entities = await readableEntities(ctx, req.tasks, modelEvents);
  const metrics: Record<string, Record<string, Record<string, { name: string; x: (number | string)[]; y: (number | null)[] }>>> = {};
  for (const entity of entities) {
    const h = await scalarHistogram(ctx, entity, modelEvents, req.samples ?? DEFAULT_SAMPLES, req.key ?? 'iter', req.metrics);
    for (const [metric, variants] of Object.entries(h)) {
      for (const [variant, series] of Object.entries(variants)) {
        ((metrics[metric] ??= {})[variant] ??= {})[entity.id] = { name: entity.name, x: series.x, y: series.y };
      }
    }
  }
  return { metrics: sortHistogram(metrics) };
});
