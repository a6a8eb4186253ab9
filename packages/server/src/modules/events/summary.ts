/**
 * The summaries events leave on their task or model (clearml-api.md §2.5.2): `last_metrics`,
 * `last_iteration` and, for tasks, `metric_stats`. A request's events are folded into a per-entity
 * batch summary first, then merged into the stored one, with ClearML's rules: `value` is the latest
 * (iter, timestamp) of the request, `first_value` is kept once set, min/max keep their iteration,
 * `count` counts received events and `mean_value` is rounded to 2 places.
 */
import { isPlainObject } from '../../util/json.js';
import { md5 } from './store.js';

/** `services.tasks.max_last_metrics`: metric/variant pairs tracked per task or model. */
export const MAX_LAST_METRICS = 2000;

interface ScalarFold {
  metric: string;
  variant: string;
  count: number;
  total: number;
  value: number;
  iter: number;
  timestamp: number;
  xAxisLabel: string | undefined;
  first: number;
  firstIter: number;
  min: number;
  minIter: number;
  max: number;
  maxIter: number;
}

export class EntitySummary {
  /** The highest iteration seen (ClearML starts from 0), or undefined when no event had one. */
  iterMax: number | undefined;
  readonly scalars = new Map<string, ScalarFold>();
  /** metric → event type → latest event timestamp (tasks' `metric_stats`). */
  readonly metricStats = new Map<string, Map<string, number>>();

  addIteration(iter: number): void {
    this.iterMax = Math.max(this.iterMax ?? 0, iter);
  }

  addMetricEvent(metric: string, type: string, timestamp: number): void {
    let byType = this.metricStats.get(metric);
    if (!byType) this.metricStats.set(metric, (byType = new Map()));
    byType.set(type, Math.max(byType.get(type) ?? timestamp, timestamp));
  }

  addScalar(metric: string, variant: string, value: number, iter: number, timestamp: number, xAxisLabel: string | undefined): void {
    const key = `${metric}\u0000${variant}`;
    const s = this.scalars.get(key);
    if (!s) {
      this.scalars.set(key, { metric, variant, count: 1, total: value, value, iter, timestamp, xAxisLabel, first: value, firstIter: iter, min: value, minIter: iter, max: value, maxIter: iter });
      return;
    }
    s.count += 1;
    s.total += value;
    if (iter > s.iter || (iter === s.iter && timestamp >= s.timestamp)) {
      s.value = value;
      s.iter = iter;
      s.timestamp = timestamp;
      if (xAxisLabel !== undefined) s.xAxisLabel = xAxisLabel;
    }
    if (iter < s.firstIter) {
      s.first = value;
      s.firstIter = iter;
    }
    if (value < s.min) {
      s.min = value;
      s.minIter = iter;
    }
    if (value > s.max) {
      s.max = value;
      s.maxIter = iter;
    }
  }
}

type MetricEntry = Record<string, unknown>;
export type LastMetrics = Record<string, Record<string, MetricEntry>>;

/** Merges a request's scalars into stored `last_metrics`; returns the new map and its pair list. */
export function mergeLastMetrics(stored: unknown, summary: EntitySummary): { lastMetrics: LastMetrics; unique: string[] } {
  const lastMetrics: LastMetrics = isPlainObject(stored) ? (structuredClone(stored) as LastMetrics) : {};
  const unique = new Set<string>();
  for (const variants of Object.values(lastMetrics)) {
    if (!isPlainObject(variants)) continue;
    for (const entry of Object.values(variants)) {
      if (isPlainObject(entry)) unique.add(`${String(entry.metric ?? '')}/${String(entry.variant ?? '')}`);
    }
  }
  for (const s of summary.scalars.values()) {
    const pair = `${s.metric}/${s.variant}`;
    if (!unique.has(pair) && unique.size >= MAX_LAST_METRICS) continue;
    unique.add(pair);
    const metricHash = md5(s.metric);
    const variantHash = md5(s.variant);
    const variants = isPlainObject(lastMetrics[metricHash]) ? lastMetrics[metricHash]! : (lastMetrics[metricHash] = {});
    const old: MetricEntry = isPlainObject(variants[variantHash]) ? variants[variantHash]! : {};
    const entry: MetricEntry = { ...old, metric: s.metric, variant: s.variant, value: s.value };
    if (s.xAxisLabel !== undefined) entry.x_axis_label = s.xAxisLabel;
    if (typeof old.first_value !== 'number') {
      entry.first_value = s.first;
      entry.first_value_iteration = s.firstIter;
    }
    if (typeof old.min_value !== 'number' || old.min_value > s.min) {
      entry.min_value = s.min;
      entry.min_value_iteration = s.minIter;
    }
    if (typeof old.max_value !== 'number' || old.max_value < s.max) {
      entry.max_value = s.max;
      entry.max_value_iteration = s.maxIter;
    }
    const oldCount = typeof old.count === 'number' ? old.count : 0;
    const oldMean = typeof old.mean_value === 'number' ? old.mean_value : 0;
    entry.count = oldCount + s.count;
    entry.mean_value = Math.round(((oldMean * oldCount + s.total) / (oldCount + s.count)) * 100) / 100;
    variants[variantHash] = entry;
  }
  return { lastMetrics, unique: [...unique] };
}

export type MetricStats = Record<string, { metric: string; event_stats_by_type: Record<string, { last_update: number }> }>;

/** Merges a request's per-metric event types into a task's stored `metric_stats`. */
export function mergeMetricStats(stored: unknown, summary: EntitySummary): MetricStats {
  const stats: MetricStats = isPlainObject(stored) ? (structuredClone(stored) as MetricStats) : {};
  for (const [metric, byType] of summary.metricStats) {
    const hash = md5(metric);
    const entry = isPlainObject(stats[hash]) ? stats[hash]! : (stats[hash] = { metric, event_stats_by_type: {} });
    if (!isPlainObject(entry.event_stats_by_type)) entry.event_stats_by_type = {};
    for (const [type, lastUpdate] of byType) {
      const previous = entry.event_stats_by_type[type]?.last_update;
      entry.event_stats_by_type[type] = { last_update: typeof previous === 'number' ? Math.max(previous, lastUpdate) : lastUpdate };
    }
  }
  return stats;
}
