/**
 * The report methods shared by a model's reporter and a task's logger (sdk-behaviour.md §3.6): each
 * builds one event and queues it on the pipeline. A call returns nothing, or a Promise when the
 * queue is full and the caller should wait for room; tables read from a CSV file or a URL always
 * return a Promise.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse as parseCsv } from 'csv-parse/sync';
import { SINGLE_VALUE_ITERATION } from '@cairn/protocol';
import { UsageError } from '../errors.js';
import { EntityRef, type EventPipeline } from './pipeline.js';
import {
  heatmapFigure,
  histogramFigure,
  linePlotFigure,
  plotString,
  scatter3dFigure,
  surfaceFigure,
  tableFigure,
  tableFromCsvRows,
  tableFromRows,
  SCATTER_MAX_VALUES,
  type Figure,
  type HistogramMode,
  type Layout,
  type LineSeries,
  type Matrix,
  type SurfaceOptions,
  type Table,
  type Vector,
} from './plots.js';

export interface HistogramReportOptions {
  iteration?: number;
  labels?: string[];
  xlabels?: (string | number)[];
  xaxis?: string;
  yaxis?: string;
  mode?: HistogramMode;
  dataArgs?: Record<string, unknown>;
  extraLayout?: Layout;
}
export type VectorReportOptions = Omit<HistogramReportOptions, 'dataArgs'>;

export interface TableReportOptions {
  iteration?: number;
  /** Rows; the first row is the header. */
  tablePlot?: ReadonlyArray<ReadonlyArray<unknown>>;
  /** Path of a CSV file (first row header, first column index). */
  csv?: string;
  /** URL of a CSV file (http(s) or file://). */
  url?: string;
  extraLayout?: Layout;
}

export interface LinePlotReportOptions {
  xaxis?: string;
  yaxis?: string;
  mode?: string;
  iteration?: number;
  reverseXaxis?: boolean;
  comment?: string;
  extraLayout?: Layout;
}

export interface Scatter2dReportOptions {
  iteration?: number;
  xaxis?: string;
  yaxis?: string;
  labels?: string[];
  mode?: string;
  comment?: string;
  extraLayout?: Layout;
}

export interface Scatter3dReportOptions extends Scatter2dReportOptions {
  zaxis?: string;
  /** Accepted for parity with Python, where it has no effect either. */
  fill?: boolean;
}

export interface MatrixReportOptions {
  iteration?: number;
  xaxis?: string;
  yaxis?: string;
  xlabels?: string[];
  ylabels?: string[];
  yaxisReversed?: boolean;
  extraLayout?: Layout;
}
export interface ConfusionMatrixReportOptions extends MatrixReportOptions {
  comment?: string;
}

/** The figure's own options, and the iteration it is reported at. */
export type SurfaceReportOptions = Omit<SurfaceOptions, 'title' | 'series' | 'matrix'> & { iteration?: number };

export interface ReporterOptions {
  pipeline: EventPipeline;
  /** The id of the task or model reported to; awaited in the background, never by a report call. */
  entityId: () => Promise<string> | string;
  modelEvent: boolean;
}

function name(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new UsageError(`${what} must be a string, got ${JSON.stringify(value)}`);
  return value;
}

/** Plots default to iteration 0 (Python's `iteration or 0`). */
function plotIteration(iteration: number | undefined): number {
  if (iteration === undefined || iteration === null) return 0;
  if (!Number.isInteger(iteration)) throw new UsageError(`iteration must be an integer, got ${iteration}`);
  return iteration;
}

/** NaN and ±Infinity have no JSON form: a scalar reports them as 0, as Python's default replacement does. */
function finite(value: number): number {
  return Number.isFinite(value) ? value : 0;
}

async function readCsv(source: { csv?: string; url?: string }): Promise<Table> {
  let text: string;
  if (source.csv !== undefined) {
    text = await readFile(source.csv, 'utf8');
  } else {
    const url = source.url!;
    if (url.startsWith('file://')) {
      text = await readFile(fileURLToPath(url), 'utf8');
    } else {
      const res = await fetch(url);
      if (!res.ok) throw new UsageError(`reading the table at ${url} failed: HTTP ${res.status}`);
      text = await res.text();
    }
  }
  return tableFromCsvRows(parseCsv(text, { relax_column_count: true, skip_empty_lines: true }) as string[][]);
}

export class Reporter {
  protected readonly pipeline: EventPipeline;
  protected readonly entity: EntityRef;
  protected readonly modelEvent: boolean;

  constructor(options: ReporterOptions) {
    this.pipeline = options.pipeline;
    this.entity = new EntityRef(options.entityId);
    this.modelEvent = options.modelEvent;
  }

  /** A scalar point: `title` is the metric (chart), `series` the variant (line). NaN and ±Infinity are sent as 0. */
  reportScalar(title: string, series: string, value: number, iteration: number): void | Promise<void> {
    if (typeof title !== 'string' || typeof series !== 'string') throw new UsageError('title and series must be strings');
    if (typeof value !== 'number') throw new UsageError(`value must be a number, got ${JSON.stringify(value)}`);
    if (!Number.isInteger(iteration)) throw new UsageError(`iteration must be an integer, got ${iteration}`);
    return this.pipeline.enqueue({
      timestamp: Date.now(),
      type: 'training_stats_scalar',
      task: this.entity.id ?? this.entity,
      iter: iteration,
      metric: title,
      variant: series,
      value: Number.isFinite(value) ? value : 0,
      model_event: this.modelEvent,
    });
  }

  /** A single value, shown in the "Summary" table: metric "Summary", iteration −2^31. */
  reportSingleValue(name_: string, value: number): void | Promise<void> {
    if (typeof value !== 'number') throw new UsageError(`value must be a number, got ${JSON.stringify(value)}`);
    return this.pipeline.enqueue({
      timestamp: Date.now(),
      type: 'training_stats_scalar',
      task: this.entity.id ?? this.entity,
      iter: SINGLE_VALUE_ITERATION,
      metric: 'Summary',
      variant: name(name_, 'name'),
      value: finite(value),
      model_event: this.modelEvent,
    });
  }

  reportHistogram(title: string, series: string, values: Vector | Matrix, options: HistogramReportOptions = {}): void | Promise<void> {
    const figure = histogramFigure({ title: name(title, 'title'), series: name(series, 'series'), values, ...options });
    return this.plot(title, series, options.iteration, figure);
  }

  /** The same bars as a histogram. */
  reportVector(title: string, series: string, values: Vector | Matrix, options: VectorReportOptions = {}): void | Promise<void> {
    const figure = histogramFigure({ title: name(title, 'title'), series: name(series, 'series'), values, ...options, dataArgs: undefined });
    return this.plot(title, series, options.iteration, figure);
  }

  /** A table from rows (`tablePlot`, first row = header), a CSV file (`csv`) or a CSV URL (`url`): exactly one. */
  reportTable(title: string, series: string, options: TableReportOptions): void | Promise<void> {
    const sources = [options.tablePlot, options.csv, options.url].filter((s) => s !== undefined && s !== null).length;
    if (sources === 0) throw new UsageError('At least one of (tablePlot, csv, url) is required');
    if (sources > 1) throw new UsageError('Only one of (tablePlot, csv, url) is allowed');
    name(title, 'title');
    name(series, 'series');
    const iteration = plotIteration(options.iteration);
    const send = (table: Table) => this.plot(title, series, iteration, tableFigure({ title, series, table, extraLayout: options.extraLayout }));
    if (options.tablePlot) {
      if (!Array.isArray(options.tablePlot) || !options.tablePlot.every((row) => Array.isArray(row))) throw new UsageError('tablePlot must be a list of rows (lists), the first row being the header');
      return send(tableFromRows(options.tablePlot));
    }
    return readCsv(options).then(send);
  }

  /** Several lines in one chart; the event's variant is empty, as in ClearML. */
  reportLinePlot(title: string, series: LineSeries[], options: LinePlotReportOptions = {}): void | Promise<void> {
    if (!Array.isArray(series)) throw new UsageError('series must be a list of { name, data, labels? }');
    const figure = linePlotFigure({ title: name(title, 'title'), series, ...options });
    return this.plot(title, '', options.iteration, figure);
  }

  /** One series of [x, y] points. The default mode is "lines" (Python sends "line", which plotly does not know). */
  reportScatter2d(title: string, series: string, scatter: Matrix, options: Scatter2dReportOptions = {}): void | Promise<void> {
    const figure = linePlotFigure({
      title: name(title, 'title'),
      series: [{ name: name(series, 'series'), data: scatter, labels: options.labels }],
      xaxis: options.xaxis,
      yaxis: options.yaxis,
      mode: options.mode ?? 'lines',
      comment: options.comment,
      extraLayout: options.extraLayout,
      maxValues: SCATTER_MAX_VALUES,
    });
    return this.plot(title, series, options.iteration, figure);
  }

  /** One series of [x, y, z] points. */
  reportScatter3d(title: string, series: string, scatter: Matrix, options: Scatter3dReportOptions = {}): void | Promise<void> {
    const figure = scatter3dFigure({ title: name(title, 'title'), series: name(series, 'series'), scatter, ...options });
    return this.plot(title, series, options.iteration, figure);
  }

  reportConfusionMatrix(title: string, series: string, matrix: Matrix, options: ConfusionMatrixReportOptions = {}): void | Promise<void> {
    const figure = heatmapFigure({ title: name(title, 'title'), series: name(series, 'series'), matrix, ...options });
    return this.plot(title, series, options.iteration, figure);
  }

  /** A heatmap, like a confusion matrix without a comment. */
  reportMatrix(title: string, series: string, matrix: Matrix, options: MatrixReportOptions = {}): void | Promise<void> {
    const figure = heatmapFigure({ title: name(title, 'title'), series: name(series, 'series'), matrix, ...options, comment: undefined });
    return this.plot(title, series, options.iteration, figure);
  }

  reportSurface(title: string, series: string, matrix: Matrix, options: SurfaceReportOptions = {}): void | Promise<void> {
    const figure = surfaceFigure({ title: name(title, 'title'), series: name(series, 'series'), matrix, ...options });
    return this.plot(title, series, options.iteration, figure);
  }

  /** Waits until everything reported so far is stored; rejects when the server refused any of it. */
  flush(): Promise<void> {
    return this.pipeline.flush();
  }

  protected plot(title: string, series: string, iteration: number | undefined, figure: Figure): void | Promise<void> {
    return this.pipeline.enqueue({
      timestamp: Date.now(),
      type: 'plot',
      task: this.entity.id ?? this.entity,
      iter: plotIteration(iteration),
      metric: title,
      variant: series,
      plot_str: plotString(figure),
      model_event: this.modelEvent,
    });
  }
}
