import { z } from 'zod';
import { op } from '../operation.js';
import { Id, StringList } from '../common.js';

/** The event types a server stores (clearml-api.md §2.5.1). */
export const EVENT_TYPES = ['training_stats_scalar', 'training_stats_vector', 'training_debug_image', 'plot', 'log'] as const;
export type EventType = (typeof EVENT_TYPES)[number];
/** `event_type` filters also accept `*`, ClearML's "all types". */
export const EventTypeFilter = z.enum([...EVENT_TYPES, '*']);

/** `iter` of a single-value metric (`report_single_value`): −2^31. */
export const SINGLE_VALUE_ITERATION = -2147483648;
/** Plot strings of this many characters and more are stored compressed. */
export const PLOT_COMPRESSION_THRESHOLD = 100_000;

export const LOG_LEVELS = ['notset', 'debug', 'verbose', 'info', 'warn', 'warning', 'error', 'fatal', 'critical'] as const;

/**
 * One event as a client sends it in `events.add` / `events.add_batch`. `task` is the task id, or
 * the model id when `model_event` is true (`model` is accepted as an alias then). The server
 * counts an item that does not fit here in `errors_info` instead of refusing the whole batch, so
 * the requests below accept any object and the server checks each item against this.
 */
export const EventInput = z.looseObject({
  type: z.string(),
  task: z.string().optional(),
  model: z.string().optional(),
  iter: z.number().nullish(),
  metric: z.string().nullish(),
  variant: z.string().nullish(),
  timestamp: z.number().optional(),
  ts: z.number().optional(),
  worker: z.string().nullish(),
  model_event: z.boolean().optional(),
  allow_locked: z.boolean().optional(),
  /** training_stats_scalar: the value; training_stats_vector: the values. */
  value: z.union([z.number(), z.array(z.number())]).nullish(),
  values: z.array(z.number()).optional(),
  x_axis_label: z.string().nullish(),
  /** plot: Plotly figure JSON. */
  plot_str: z.string().optional(),
  skip_validation: z.boolean().optional(),
  /** training_debug_image */
  key: z.string().optional(),
  url: z.string().optional(),
  /** log */
  level: z.string().optional(),
  msg: z.string().optional(),
});
export type EventInput = z.infer<typeof EventInput>;

/** An event as the read endpoints return it. Plot strings come back expanded. */
export const StoredEvent = z.looseObject({
  type: z.string(),
  task: z.string(),
  iter: z.number().int().optional(),
  metric: z.string(),
  variant: z.string(),
  timestamp: z.number(),
  worker: z.string().nullish(),
  model_event: z.boolean(),
  '@timestamp': z.string(),
  value: z.union([z.number(), z.array(z.number())]).nullish(),
  plot_str: z.string().optional(),
  plot_len: z.number().int().optional(),
  source_urls: StringList.optional(),
  key: z.string().optional(),
  url: z.string().optional(),
  level: z.string().optional(),
  msg: z.string().optional(),
});
export type StoredEvent = z.infer<typeof StoredEvent>;

/** `metrics: [{metric, variants}]`: restricts a read to these metrics (all variants when none are given). */
export const MetricVariants = z.object({ metric: z.string(), variants: StringList.nullish() });
const MetricsFilter = z.array(MetricVariants).nullish();

export const AddEventsResponse = z.object({
  added: z.number().int(),
  errors: z.number().int(),
  errors_info: z.record(z.string(), z.number().int()),
});

/** Request items are checked one by one on the server (see EventInput). */
const AnyEvent = z.record(z.string(), z.unknown());
const ModelEvents = { model_events: z.boolean().nullish() };
const ScalarKey = z.enum(['iter', 'timestamp', 'iso_time']);
/** The histogram's `samples`: ClearML's apimodel default is 2000, its range 1–6000. */
const Samples = z.number().int().min(1).max(6000).nullish();

const HistogramSeries = z.object({ name: z.string(), x: z.array(z.union([z.number(), z.string()])), y: z.array(z.number().nullable()), x_axis_label: z.string().optional() });
const ScrollPage = { returned: z.number().int(), total: z.number().int().nullable(), scroll_id: z.string().nullable() };

export const events = {
  add: op({
    endpoint: 'events.add',
    summary: 'Add one event. The same (entity, iter, metric, variant[, key]) overwrites the earlier event; log events are always added.',
    request: AnyEvent,
    response: AddEventsResponse,
  }),
  add_batch: op({
    endpoint: 'events.add_batch',
    summary: 'Add events, one JSON object per line. Bad items are counted in errors_info; 400/131 when none was added.',
    batch: true,
    request: z.array(AnyEvent),
    response: AddEventsResponse,
  }),
  get_task_plots: op({
    endpoint: 'events.get_task_plots',
    summary: 'The plots of the last `iters` iterations of each metric/variant of a task or model.',
    request: z.object({
      task: Id,
      iters: z.number().int().min(1).nullish(),
      scroll_id: z.string().nullish(),
      metrics: MetricsFilter,
      no_scroll: z.boolean().nullish(),
      ...ModelEvents,
    }),
    response: z.object({ plots: z.array(StoredEvent), ...ScrollPage }),
  }),
  get_multi_task_plots: op({
    endpoint: 'events.get_multi_task_plots',
    summary: 'The last plots of several tasks or models, grouped by metric, variant, entity and iteration.',
    request: z.object({
      tasks: z.array(Id).min(1),
      iters: z.number().int().min(1).nullish(),
      scroll_id: z.string().nullish(),
      no_scroll: z.boolean().nullish(),
      last_iters_per_task_metric: z.boolean().nullish(),
      metrics: MetricsFilter,
      ...ModelEvents,
    }),
    response: z.object({
      plots: z.record(z.string(), z.record(z.string(), z.record(z.string(), z.record(z.string(), z.object({ name: z.string().nullable(), plots: z.array(StoredEvent) }))))),
      ...ScrollPage,
    }),
  }),
  plots: op({
    endpoint: 'events.plots',
    minVersion: '2.20',
    summary: 'Plots per task and iteration, navigating to earlier or later iterations with scroll_id.',
    request: z.object({
      metrics: z.array(z.object({ task: Id, metric: z.string().nullish(), variants: StringList.nullish() })).min(1),
      iters: z.number().int().min(1).nullish(),
      navigate_earlier: z.boolean().nullish(),
      refresh: z.boolean().nullish(),
      scroll_id: z.string().nullish(),
      ...ModelEvents,
    }),
    response: z.object({
      scroll_id: z.string(),
      metrics: z.array(z.object({ task: z.string(), iterations: z.array(z.object({ iter: z.number().int(), events: z.array(StoredEvent) })) })),
    }),
  }),
  scalar_metrics_iter_histogram: op({
    endpoint: 'events.scalar_metrics_iter_histogram',
    summary: 'Scalar series per metric and variant, averaged into at most `samples` x buckets. Single values are excluded.',
    request: z.object({ task: Id, samples: Samples, key: ScalarKey.nullish(), metrics: MetricsFilter, ...ModelEvents }),
    response: z.record(z.string(), z.record(z.string(), HistogramSeries)),
  }),
  multi_task_scalar_metrics_iter_histogram: op({
    endpoint: 'events.multi_task_scalar_metrics_iter_histogram',
    summary: 'The scalar histograms of several tasks or models, by metric, variant and entity.',
    request: z.object({ tasks: z.array(Id).min(1).max(100), samples: Samples, key: ScalarKey.nullish(), metrics: MetricsFilter, ...ModelEvents }),
    response: z.object({
      metrics: z.record(z.string(), z.record(z.string(), z.record(z.string(), HistogramSeries))),
    }),
  }),
  get_scalar_metrics_and_variants: op({
    endpoint: 'events.get_scalar_metrics_and_variants',
    summary: 'The scalar metrics of a task or model with their variants.',
    request: z.object({ task: Id, ...ModelEvents }),
    response: z.object({ metrics: z.record(z.string(), StringList) }),
  }),
  get_task_metrics: op({
    endpoint: 'events.get_task_metrics',
    minVersion: '2.7',
    summary: 'The metric names of each task or model that has events of `event_type`.',
    request: z.object({ tasks: z.array(Id).min(1), event_type: EventTypeFilter, ...ModelEvents }),
    response: z.object({ metrics: z.array(z.object({ task: z.string(), metrics: StringList })) }),
  }),
  get_multi_task_metrics: op({
    endpoint: 'events.get_multi_task_metrics',
    minVersion: '2.28',
    summary: 'The metrics of several tasks or models, each with its sorted variants.',
    request: z.object({ tasks: z.array(Id).min(1), event_type: EventTypeFilter.nullish(), ...ModelEvents }),
    response: z.object({ metrics: z.array(z.object({ metric: z.string(), variants: StringList })) }),
  }),
  get_task_single_value_metrics: op({
    endpoint: 'events.get_task_single_value_metrics',
    minVersion: '2.20',
    summary: 'The single values (scalars at iteration −2^31) of tasks or models.',
    request: z.object({ tasks: z.array(Id).min(1), metrics: MetricsFilter, ...ModelEvents }),
    response: z.object({
      tasks: z.array(
        z.object({
          task: z.string(),
          task_name: z.string().nullable(),
          values: z.array(z.object({ metric: z.string(), variant: z.string(), value: z.number().nullable(), timestamp: z.number() })),
        }),
      ),
    }),
  }),
  get_task_events: op({
    endpoint: 'events.get_task_events',
    summary: 'The events of a task or model, ordered by iteration, page by page through scroll_id.',
    request: z.object({
      task: Id,
      batch_size: z.number().int().min(1).nullish(),
      event_type: EventTypeFilter.nullish(),
      order: z.enum(['asc', 'desc']).nullish(),
      scroll_id: z.string().nullish(),
      count_total: z.boolean().nullish(),
      metrics: MetricsFilter,
      ...ModelEvents,
    }),
    response: z.object({ events: z.array(StoredEvent), ...ScrollPage }),
  }),
  scalar_metrics_iter_raw: op({
    endpoint: 'events.scalar_metrics_iter_raw',
    minVersion: '2.16',
    summary: 'Every point of one scalar metric, page by page (for CSV export).',
    request: z.object({
      task: Id,
      metric: MetricVariants,
      key: ScalarKey.nullish(),
      batch_size: z.number().int().min(0).nullish(),
      count_total: z.boolean().nullish(),
      scroll_id: z.string().nullish(),
      ...ModelEvents,
    }),
    response: z.object({
      variants: z.record(z.string(), z.record(z.string(), z.array(z.union([z.number(), z.string(), z.null()])))),
      ...ScrollPage,
    }),
  }),
  get_task_latest_scalar_values: op({
    endpoint: 'events.get_task_latest_scalar_values',
    summary: 'The latest value of every scalar of a task (tasks only).',
    request: z.object({ task: Id }),
    response: z.object({
      metrics: z.array(z.object({ name: z.string(), variants: z.array(z.object({ name: z.string(), last_value: z.number().nullable(), last_100_value: z.number().nullable() })) })),
      last_iter: z.number().int(),
      name: z.string(),
      status: z.string(),
      last_timestamp: z.number(),
    }),
  }),
  get_task_log: op({
    endpoint: 'events.get_task_log',
    summary: 'Log lines of a task, newest first by default, page by page from a timestamp.',
    request: z.object({
      task: Id,
      batch_size: z.number().int().min(1).nullish(),
      navigate_earlier: z.boolean().nullish(),
      from_timestamp: z.number().nullish(),
      order: z.enum(['asc', 'desc']).nullish(),
      metrics: MetricsFilter,
    }),
    response: z.object({ events: z.array(StoredEvent), returned: z.number().int(), total: z.number().int() }),
  }),
  delete_for_task: op({
    endpoint: 'events.delete_for_task',
    summary: 'Delete every event of a task (refused for published tasks unless allow_locked).',
    request: z.object({ task: Id, allow_locked: z.boolean().nullish() }),
    response: z.object({ deleted: z.number().int() }),
  }),
  delete_for_model: op({
    endpoint: 'events.delete_for_model',
    minVersion: '2.22',
    summary: 'Delete every event of a model (refused for published models unless allow_locked).',
    request: z.object({ model: Id, allow_locked: z.boolean().nullish() }),
    response: z.object({ deleted: z.number().int() }),
  }),
  clear_scroll: op({
    endpoint: 'events.clear_scroll',
    minVersion: '2.18',
    summary: 'Release a scroll. Scrolls hold no server state, so this only checks the id.',
    request: z.object({ scroll_id: z.string() }),
    response: z.object({}),
  }),
};

/** Served by the events module: it reads the metric summaries events leave on tasks and models. */
export const projectMetrics = {
  get_unique_metric_variants: op({
    endpoint: 'projects.get_unique_metric_variants',
    summary: 'Distinct metric/variant pairs of the tasks (or models, with model_metrics) of a project, with their md5 hashes.',
    request: z.object({
      project: z.string().nullish(),
      include_subprojects: z.boolean().nullish(),
      model_metrics: z.boolean().nullish(),
      ids: StringList.nullish(),
    }),
    response: z.object({ metrics: z.array(z.object({ metric: z.string(), metric_hash: z.string(), variant: z.string(), variant_hash: z.string() })) }),
  }),
};
