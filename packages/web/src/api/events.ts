import { events, projectMetrics, type ResponseOf } from '@cairn/protocol';
import { call } from './client';

/**
 * Reads of reported metrics and plots, for models (`model_events: true`) and tasks alike
 * (clearml-api.md §2.5.3).
 */

export type MetricVariant = ResponseOf<typeof projectMetrics.get_unique_metric_variants>['metrics'][number];
/** metric → variant → series */
export type ScalarHistogram = ResponseOf<typeof events.scalar_metrics_iter_histogram>;
export type SingleValue = ResponseOf<typeof events.get_task_single_value_metrics>['tasks'][number]['values'][number];
export type PlotEvent = ResponseOf<typeof events.get_task_plots>['plots'][number];
export type XAxis = 'iter' | 'timestamp';

/** Points per series: enough for a smooth chart a few thousand pixels wide. */
const SCALAR_SAMPLES = 2000;
/** A page shows at most this many plots; more would make the browser crawl. */
const MAX_PLOTS = 500;

export async function metricVariants(project: string | undefined, modelMetrics: boolean, signal?: AbortSignal): Promise<MetricVariant[]> {
  const res = await call(projectMetrics.get_unique_metric_variants, { project: project ?? null, include_subprojects: false, model_metrics: modelMetrics }, { signal });
  return res.metrics;
}

export function scalarHistogram(entity: string, modelEvents: boolean, key: XAxis, signal?: AbortSignal): Promise<ScalarHistogram> {
  return call(events.scalar_metrics_iter_histogram, { task: entity, model_events: modelEvents, key, samples: SCALAR_SAMPLES }, { signal });
}

export async function singleValues(entity: string, modelEvents: boolean, signal?: AbortSignal): Promise<SingleValue[]> {
  const res = await call(events.get_task_single_value_metrics, { tasks: [entity], model_events: modelEvents }, { signal });
  return res.tasks.find((t) => t.task === entity)?.values ?? [];
}

/** The latest plot of every metric/variant, paging with the scroll id until all are read. */
export async function latestPlots(entity: string, modelEvents: boolean, signal?: AbortSignal): Promise<PlotEvent[]> {
  const out: PlotEvent[] = [];
  let scrollId: string | null = null;
  for (;;) {
    const res: ResponseOf<typeof events.get_task_plots> = await call(events.get_task_plots, { task: entity, model_events: modelEvents, iters: 1, scroll_id: scrollId }, { signal });
    out.push(...res.plots);
    scrollId = res.scroll_id;
    if (!res.plots.length || !scrollId || out.length >= (res.total ?? 0) || out.length >= MAX_PLOTS) return out;
  }
}
