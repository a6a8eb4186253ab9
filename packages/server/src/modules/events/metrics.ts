import { sql } from 'kysely';
import { SINGLE_VALUE_ITERATION, events } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import { readableEntities, readableEntity } from './entities.js';
import { entitiesEvents, entityEvents, metricsCondition } from './query.js';

/** `events.get_scalar_metrics_and_variants`: `{metric: [variants]}`, both sorted. */
export const getScalarMetricsAndVariants = defineHandler(events.get_scalar_metrics_and_variants, async (ctx, req) => {
  const modelEvents = !!req.model_events;
  const entity = await readableEntity(ctx, req.task, modelEvents);
  const rows = await entityEvents(ctx, entity, modelEvents, 'training_stats_scalar')
    .select(['metric', 'variant'])
    .distinct()
    .orderBy('metric')
    .orderBy('variant')
    .execute();
  const metrics: Record<string, string[]> = {};
  for (const row of rows) (metrics[row.metric] ??= []).push(row.variant);
  return { metrics };
});

/** `events.get_task_metrics`: per requested entity, the sorted names of its metrics of `event_type`. */
export const getTaskMetrics = defineHandler(events.get_task_metrics, async (ctx, req) => {
  const modelEvents = !!req.model_events;
  const entities = await readableEntities(ctx, req.tasks, modelEvents);
  const rows = await entitiesEvents(ctx, entities, modelEvents, req.event_type)
    .select(['task', 'metric'])
    .distinct()
    .orderBy('task')
    .orderBy('metric')
    .execute();
  const byTask = new Map<string, string[]>();
  for (const row of rows) byTask.set(row.task, [...(byTask.get(row.task) ?? []), row.metric]);
  return { metrics: entities.map((e) => ({ task: e.id, metrics: byTask.get(e.id) ?? [] })) };
});

/** `events.get_multi_task_metrics`: the union of the entities' metrics, each with its sorted variants. */
export const getMultiTaskMetrics = defineHandler(events.get_multi_task_metrics, async (ctx, req) => {
  const modelEvents = !!req.model_events;
  const entities = await readableEntities(ctx, req.tasks, modelEvents);
  const rows = await entitiesEvents(ctx, entities, modelEvents, req.event_type ?? '*')
    .select(['metric', 'variant'])
    .distinct()
    .orderBy('metric')
    .orderBy('variant')
    .execute();
  const metrics: { metric: string; variants: string[] }[] = [];
  for (const row of rows) {
    const last = metrics[metrics.length - 1];
    if (last && last.metric === row.metric) last.variants.push(row.variant);
    else metrics.push({ metric: row.metric, variants: [row.variant] });
  }
  return { metrics };
});

/**
 * `events.get_task_single_value_metrics`: the scalars reported at iteration −2^31, per entity that
 * has any, sorted by metric and variant.
 */
export const getTaskSingleValueMetrics = defineHandler(events.get_task_single_value_metrics, async (ctx, req) => {
  const modelEvents = !!req.model_events;
  const entities = await readableEntities(ctx, req.tasks, modelEvents);
  let q = entitiesEvents(ctx, entities, modelEvents, 'training_stats_scalar')
    .select(['task', 'metric', 'variant', 'value', 'timestamp'])
    .where('iter', '=', SINGLE_VALUE_ITERATION);
  const filter = metricsCondition(req.metrics);
  if (filter) q = q.where(filter);
  const rows = await q.orderBy('task').orderBy('metric').orderBy('variant').execute();
  const values = new Map<string, { metric: string; variant: string; value: number | null; timestamp: number }[]>();
  for (const row of rows) {
    const list = values.get(row.task) ?? [];
    list.push({ metric: row.metric, variant: row.variant, value: row.value === null ? null : Number(row.value), timestamp: Number(row.timestamp) });
    values.set(row.task, list);
  }
  return {
    tasks: entities.filter((e) => values.has(e.id)).map((e) => ({ task: e.id, task_name: e.name, values: values.get(e.id)! })),
  };
});

/**
 * `events.get_task_latest_scalar_values` (tasks only): per metric and variant the value at the
 * highest iteration. `last_100_value` is that same value, as ClearML's answer has it (its query
 * takes the first of the last 100 hits). ClearML also skips values ≤ 0 here; Cairn does not.
 */
export const getTaskLatestScalarValues = defineHandler(events.get_task_latest_scalar_values, async (ctx, req) => {
  const entity = await readableEntity(ctx, req.task, false);
  const latest = entityEvents(ctx, entity, false, 'training_stats_scalar')
    .select(['metric', 'variant', 'value', 'written'])
    .select(sql<number>`row_number() over (partition by metric, variant order by iter desc nulls last, timestamp desc, seq desc)`.as('rn'));
  const rows = await ctx.db.kysely.selectFrom(latest.as('l')).selectAll().where('rn', '=', 1).orderBy('metric').orderBy('variant').execute();
  const stats = await entityEvents(ctx, entity, false)
    .select((eb) => [eb.fn.max('iter').as('last_iter')])
    .executeTakeFirst();
  const lastWritten = await entityEvents(ctx, entity, false, 'training_stats_scalar')
    .select((eb) => [eb.fn.max('written').as('written')])
    .executeTakeFirst();
  const metrics: { name: string; variants: { name: string; last_value: number | null; last_100_value: number | null }[] }[] = [];
  for (const row of rows) {
    const value = row.value === null ? null : Number(row.value);
    const last = metrics[metrics.length - 1];
    const variant = { name: row.variant, last_value: value, last_100_value: value };
    if (last && last.name === row.metric) last.variants.push(variant);
    else metrics.push({ name: row.metric, variants: [variant] });
  }
  const task = await ctx.db.kysely.selectFrom('tasks').select(['name', 'status']).where('id', '=', entity.id).executeTakeFirstOrThrow();
  return {
    metrics,
    last_iter: stats?.last_iter === null || stats?.last_iter === undefined ? 0 : Number(stats.last_iter),
    name: task.name,
    status: task.status,
    last_timestamp: lastWritten?.written === null || lastWritten?.written === undefined ? 0 : Number(lastWritten.written),
  };
});
