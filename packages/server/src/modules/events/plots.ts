import { sql } from 'kysely';
import { z } from 'zod';
import { events, type StoredEvent } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import { readableEntities, readableEntity } from './entities.js';
import { decodeScroll, encodeScroll, entitiesEvents, entityEvents, metricsCondition, type MetricFilter } from './query.js';
import { EVENT_COLUMNS, rowToEvent } from './store.js';

/**
 * `events.get_task_plots`: the plots of the last `iters` iterations of every metric/variant, ordered
 * by metric, variant and iteration (newest first). Everything is returned in one answer, as ClearML
 * does since 1.8, so `returned` equals `total` and there is no scroll.
 */
export const getTaskPlots = defineHandler(events.get_task_plots, async (ctx, req) => {
  const modelEvents = !!req.model_events;
  const entity = await readableEntity(ctx, req.task, modelEvents);
  const iters = req.iters ?? 1;
  let inner = entityEvents(ctx, entity, modelEvents, 'plot')
    .select([...EVENT_COLUMNS])
    .select(sql<number>`row_number() over (partition by metric, variant order by iter desc nulls last, seq desc)`.as('rn'));
  const filter = metricsCondition(req.metrics);
  if (filter) inner = inner.where(filter);
  const rows = await ctx.db.kysely
    .selectFrom(inner.as('p'))
    .selectAll()
    .where('rn', '<=', iters)
    .orderBy('metric')
    .orderBy('variant')
    .orderBy(sql`iter desc nulls last`)
    .execute();
  const plots = rows.map(rowToEvent);
  return { plots, returned: plots.length, total: plots.length, scroll_id: null };
});

/**
 * `events.get_multi_task_plots`: for each entity, the plots of its last `iters` iterations (per
 * metric with `last_iters_per_task_metric`, the default), grouped as
 * `plots[metric][variant][entity][iter] = {name, plots}`. As in ClearML, `returned` counts the
 * metrics and `total` the events.
 */
export const getMultiTaskPlots = defineHandler(events.get_multi_task_plots, async (ctx, req) => {
  const modelEvents = !!req.model_events;
  const entities = await readableEntities(ctx, req.tasks, modelEvents);
  const iters = req.iters ?? 1;
  const perMetric = req.last_iters_per_task_metric ?? true;
  const partition = perMetric ? sql`task, metric` : sql`task`;
  let inner = entitiesEvents(ctx, entities, modelEvents, 'plot')
    .select([...EVENT_COLUMNS])
    .select(sql<number>`dense_rank() over (partition by ${partition} order by iter desc nulls last)`.as('rank'));
  const filter = metricsCondition(req.metrics);
  if (filter) inner = inner.where(filter);
  const rows = await ctx.db.kysely
    .selectFrom(inner.as('p'))
    .selectAll()
    .where('rank', '<=', iters)
    .orderBy('metric', 'desc')
    .orderBy('variant', 'desc')
    .orderBy('task', 'desc')
    .orderBy(sql`iter desc nulls last`)
    .execute();
  const names = new Map(entities.map((e) => [e.id, e.name]));
  const plots: Record<string, Record<string, Record<string, Record<string, { name: string | null; plots: StoredEvent[] }>>>> = {};
  for (const row of rows) {
    const byTask = ((plots[row.metric] ??= {})[row.variant] ??= {});
    const byIter = (byTask[row.task] ??= {});
    (byIter[String(row.iter)] ??= { name: names.get(row.task) ?? null, plots: [] }).plots.push(rowToEvent(row));
  }
  return { plots, returned: Object.keys(plots).length, total: rows.length, scroll_id: null };
});

/** Per entity: the lowest and highest iteration returned so far. */
const PlotsScroll = z.record(z.string(), z.tuple([z.number(), z.number()]));

/**
 * `events.plots`: per entity, the iterations of the requested metrics, `iters` at a time: the newest
 * first, then earlier (`navigate_earlier`, the default) or later ones through the scroll id.
 * `refresh` starts again from the newest.
 */
export const plots = defineHandler(events.plots, async (ctx, req) => {
  const modelEvents = !!req.model_events;
  // entity → metric → variants; an entry without a metric means every metric of that entity.
  const wanted = new Map<string, Map<string, string[] | null> | null>();
  for (const m of req.metrics) {
    const metrics = wanted.get(m.task);
    if (metrics === null) continue;
    if (!m.metric) {
      wanted.set(m.task, null);
      continue;
    }
    const map = metrics ?? new Map<string, string[] | null>();
    map.set(m.metric, m.variants?.length ? m.variants : null);
    wanted.set(m.task, map);
  }
  const entities = await readableEntities(ctx, [...wanted.keys()], modelEvents);
  const state = req.scroll_id && !req.refresh ? decodeScroll('plots', req.scroll_id, PlotsScroll) : {};
  const iters = req.iters ?? 1;
  const earlier = req.navigate_earlier ?? true;

  const result: { task: string; iterations: { iter: number; events: StoredEvent[] }[] }[] = [];
  for (const entity of entities) {
    const metrics = wanted.get(entity.id);
    const filters: MetricFilter[] | undefined = metrics ? [...metrics].map(([metric, variants]) => ({ metric, variants })) : undefined;
    const filter = metricsCondition(filters);
    const seen = state[entity.id];
    // The first page is always the newest iterations.
    const goEarlier = earlier || !seen;
    let iterQuery = entityEvents(ctx, entity, modelEvents, 'plot').select('iter').distinct().where('iter', 'is not', null);
    if (filter) iterQuery = iterQuery.where(filter);
    if (seen) iterQuery = goEarlier ? iterQuery.where('iter', '<', seen[0]) : iterQuery.where('iter', '>', seen[1]);
    const iterRows = await iterQuery.orderBy('iter', goEarlier ? 'desc' : 'asc').limit(iters).execute();
    const chosen = iterRows.map((r) => Number(r.iter));
    const iterations: { iter: number; events: StoredEvent[] }[] = [];
    if (chosen.length) {
      let q = entityEvents(ctx, entity, modelEvents, 'plot').select([...EVENT_COLUMNS]).where('iter', 'in', chosen);
      if (filter) q = q.where(filter);
      const rows = await q.orderBy('iter', 'desc').orderBy('metric').orderBy('variant').orderBy('timestamp', 'desc').execute();
      for (const row of rows) {
        const last = iterations[iterations.length - 1];
        if (last && last.iter === Number(row.iter)) last.events.push(rowToEvent(row));
        else iterations.push({ iter: Number(row.iter), events: [rowToEvent(row)] });
      }
      const lo = Math.min(...chosen, seen?.[0] ?? Infinity);
      const hi = Math.max(...chosen, seen?.[1] ?? -Infinity);
      state[entity.id] = [lo, hi];
    }
    result.push({ task: entity.id, iterations });
  }
  return { scroll_id: encodeScroll('plots', state), metrics: result };
});
