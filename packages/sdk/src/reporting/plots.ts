/**
 * Pure builders of the Plotly figures ClearML's report methods send (sdk-behaviour.md §3.6), so a
 * plot reported from TypeScript looks the same in the web app as one reported from Python. Where
 * Python's output is a plain bug, the builders emit the fixed form; DEVIATIONS.md lists each one.
 */
import { UsageError } from '../errors.js';

export type Vector = ArrayLike<number>;
/** Rows of numbers: nested arrays or an array of typed arrays. */
export type Matrix = ReadonlyArray<ArrayLike<number>>;
export type Layout = Record<string, unknown>;
export interface Figure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

export const HISTOGRAM_MODES = ['stack', 'group', 'relative'] as const;
export type HistogramMode = (typeof HISTOGRAM_MODES)[number];

/** Python's line plots thin out series above this many values in total (x and y counted). */
export const LINE_PLOT_MAX_VALUES = 800_000;
/** The same limit for a 2-D scatter. */
export const SCATTER_MAX_VALUES = 100_000;

/** ClearML's heat-map colour scale; its 0.9 stop reads `rgb(141, 314, 68)` in Python, a typo for 214. */
const COLOR_STOPS = [0, 0.1, 0.2, 0.6, 0.9, 1.0];
const COLORS = ['rgb(71, 17, 100)', 'rgb(53, 92, 140)', 'rgb(37, 139, 141)', 'rgb(66, 189, 112)', 'rgb(141, 214, 68)', 'rgb(221, 226, 24)'];
export function colorScale(): [number, string][] {
  return COLOR_STOPS.map((v, i) => [v, COLORS[i]!]);
}
export function colorBar(): Record<string, unknown> {
  return { tick0: 0, tickmode: 'array', tickvals: COLOR_STOPS.slice(1) };
}
/** The 3-D scatter marker outline; Python prints it as `rgba(217, 217, 217, 0.140000.2)`. */
export const SCATTER3D_LINE_COLOR = 'rgba(217, 217, 217, 0.14)';

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Recursive merge where `b` wins; values that are not both plain objects replace (Python's merge_dicts). */
export function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isPlainObject(out[k]) && isPlainObject(v) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  return out;
}

function titled(title: string, comment?: string): string {
  return comment ? `${title}<br><sup>${comment}</sup>` : title;
}

function toNumbers(values: ArrayLike<number>, what: string): number[] {
  const out = Array.from(values);
  for (const v of out) if (typeof v !== 'number') throw new UsageError(`${what} must hold numbers, got ${JSON.stringify(v)}`);
  return out;
}

function isRowLike(value: unknown): value is ArrayLike<number> {
  return Array.isArray(value) || ArrayBuffer.isView(value);
}

/** Rows of a matrix as number arrays; a vector becomes one row (numpy's atleast_2d). */
export function toRows(values: Vector | Matrix, what: string): number[][] {
  const items = values as ArrayLike<unknown>;
  if (!isRowLike(items)) throw new UsageError(`${what} must be a vector or a matrix of numbers`);
  if (items.length === 0) return [[]];
  if (isRowLike(items[0])) {
    const rows = Array.from(items, (row) => {
      if (!isRowLike(row)) throw new UsageError(`${what} must be a vector or a matrix of numbers`);
      return toNumbers(row, what);
    });
    if (rows.some((r) => r.length !== rows[0]!.length)) throw new UsageError(`${what} rows must all have the same length`);
    return rows;
  }
  return [toNumbers(items as ArrayLike<number>, what)];
}

export interface HistogramOptions {
  title: string;
  series: string;
  values: Vector | Matrix;
  labels?: string[];
  xlabels?: (string | number)[];
  xaxis?: string;
  yaxis?: string;
  mode?: HistogramMode;
  dataArgs?: Record<string, unknown>;
  extraLayout?: Layout;
  comment?: string;
}

/** H: a bar trace per row (report_histogram / report_vector). */
export function histogramFigure(o: HistogramOptions): Figure {
  const mode = o.mode ?? 'group';
  if (!HISTOGRAM_MODES.includes(mode)) throw new UsageError(`mode must be one of ${HISTOGRAM_MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  const rows = toRows(o.values, 'values');
  const columns = rows[0]!.length;
  let labels: (string | null)[];
  if (o.labels && !o.xlabels) {
    if (o.labels.length !== rows.length) throw new UsageError(`labels: give one label per data row (${rows.length} rows, ${o.labels.length} labels)`);
    labels = o.labels;
  } else if (!o.xlabels) {
    labels = rows.map(() => o.series || '');
  } else if (o.labels?.length) {
    labels = o.labels.length === 1 ? rows.map(() => o.labels![0]!) : o.labels;
    if (labels.length !== rows.length) throw new UsageError(`labels: give one label per data row (${rows.length} rows, ${o.labels.length} labels)`);
    if (o.xlabels.length !== columns) throw new UsageError(`xlabels: give one label per data column (${columns} columns, ${o.xlabels.length} labels)`);
  } else {
    // Python names only the first row here and fails on the others; every row gets the series name.
    labels = rows.map(() => o.series || '');
  }
  const data = rows.map((row, i) => {
    const trace: Record<string, unknown> = { name: labels[i] ?? null, y: row, x: o.xlabels ? [...o.xlabels] : row.map((_, k) => k), type: 'bar' };
    return o.dataArgs ? { ...trace, ...o.dataArgs } : trace;
  });
  const useSeries = !!o.labels?.length && !!o.series;
  let layout: Layout = {
    title: titled(useSeries ? o.series : o.title, o.comment),
    xaxis: { title: o.xaxis ?? null },
    yaxis: { title: o.yaxis ?? null },
    barmode: mode,
    bargap: 0.08,
    bargroupgap: 0,
  };
  if (o.extraLayout) layout = deepMerge(layout, o.extraLayout);
  return { data, layout };
}

export interface Table {
  header: unknown[];
  cells: unknown[][];
}

/** A list of rows: the first row is the header, the others become columns. */
export function tableFromRows(rows: ReadonlyArray<ReadonlyArray<unknown>>): Table {
  if (!rows.length || rows.every((r) => !r || r.length === 0)) return { header: [], cells: [] };
  const [header, ...body] = rows;
  // Columns are the rows transposed; like Python's zip, the shortest row decides how many.
  const columns = body.length ? Math.min(...body.map((r) => r.length)) : 0;
  const cells = Array.from({ length: columns }, (_, c) => body.map((r) => r[c]));
  return { header: [...header!], cells };
}

const INTEGER_RE = /^[+-]?\d+$/;
const FLOAT_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(inf|infinity|nan)$/i;
const BOOL_RE = /^(true|false)$/i;

/** One CSV column as pandas would type it: numbers, booleans or text; empty cells are "NaN". */
function typedColumn(values: string[]): unknown[] {
  const present = values.filter((v) => v !== '');
  const number = (v: string) => {
    const lower = v.toLowerCase().replace(/^\+/, '');
    if (lower === 'inf' || lower === 'infinity') return 'Inf';
    if (lower === '-inf' || lower === '-infinity') return '-Inf';
    if (lower === 'nan' || lower === '-nan') return 'NaN';
    return Number(v);
  };
  if (present.length && present.every((v) => INTEGER_RE.test(v) || FLOAT_RE.test(v))) return values.map((v) => (v === '' ? 'NaN' : number(v)));
  if (present.length && present.every((v) => BOOL_RE.test(v))) return values.map((v) => (v === '' ? 'NaN' : v.toLowerCase() === 'true'));
  return values.map((v) => (v === '' ? 'NaN' : v));
}

/**
 * Parsed CSV rows (first row = header) as pandas `read_csv(index_col=0)` shapes them for ClearML:
 * the first column is the index, so its header comes first as plain text and the other headers
 * as one-element lists; every column is typed.
 */
export function tableFromCsvRows(rows: string[][]): Table {
  if (!rows.length) return { header: [], cells: [] };
  const [header, ...body] = rows;
  const width = header!.length;
  const columns = Array.from({ length: width }, (_, c) => typedColumn(body.map((r) => r[c] ?? '')));
  return { header: [header![0] ?? '', ...header!.slice(1).map((h) => [h])], cells: columns };
}

/** T: a table trace (report_table). */
export function tableFigure(o: { title: string; series: string; table: Table; extraLayout?: Layout }): Figure {
  const font = (size: number, color: string) => ({ family: 'Heebo, verdana, arial, sans-serif', size, color });
  let layout: Layout = { 'title.text': o.title, title: o.series };
  if (o.extraLayout) layout = deepMerge(layout, o.extraLayout);
  return {
    data: [
      {
        type: 'table',
        header: { values: o.table.header, align: 'left', line: { width: 0.5, color: '#d4d6e0' }, fill: { color: '#fff' }, font: font(12, '#333') },
        cells: { height: 30, values: o.table.cells, align: 'left', line: { color: 'white', width: 1 }, font: font(14, '#384161') },
      },
    ],
    layout,
  };
}

export interface LineSeries {
  name: string;
  /** N rows of [x, y]. */
  data: Matrix;
  /** One text label per point. */
  labels?: string[];
}

function scatterLayout(title: string, xaxis: string | undefined, yaxis: string | undefined): Layout {
  const axis = (t: string | undefined) => ({ title: t ?? null, showspikes: true, spikethickness: 1, spikesnap: 'cursor', spikemode: 'toaxis+across' });
  return { title, xaxis: axis(xaxis), yaxis: axis(yaxis), name: null };
}

/** Moving average of `step` points centred as numpy's `convolve(..., mode="same")`, zero-padded. */
function movingAverage(y: number[], step: number): number[] {
  const prefix = [0];
  for (const v of y) prefix.push(prefix[prefix.length - 1]! + v);
  const offset = Math.floor((step - 1) / 2);
  return y.map((_, i) => {
    const hi = Math.min(y.length - 1, i + offset);
    const lo = Math.max(0, i + offset - step + 1);
    return (prefix[hi + 1]! - prefix[lo]!) / step;
  });
}

function roundTo(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/**
 * Python's thinning of long line plots: each series over its share of `maxValues` keeps every
 * step-th point counted from the end, of a moving average; then values are rounded to the digits
 * their magnitude needs.
 */
function thinSeries(series: { x: number[]; y: number[] }[], maxValues: number): void {
  const sizes = series.map((s) => s.x.length * 2);
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total <= maxValues) return;
  const base = maxValues / series.length;
  const baseUsed = sizes.reduce((a, s) => a + Math.min(s, base), 0);
  const leftover = maxValues - baseUsed;
  series.forEach((s, i) => {
    const size = sizes[i]!;
    if (size >= base) {
      let budget = base;
      if (leftover > 0) budget += Math.floor((leftover * size) / (total - baseUsed));
      const step = Math.ceil(size / budget);
      const smooth = movingAverage(s.y, step);
      const x: number[] = [];
      const y: number[] = [];
      for (let k = s.x.length - 1; k >= 0; k -= step) {
        x.unshift(s.x[k]!);
        y.unshift(smooth[k]!);
      }
      s.x = x;
      s.y = y;
    }
    const digits = (values: number[]) => {
      const max = Math.max(0.01, ...values.map(Math.abs));
      return Math.max(1, 6 - Math.floor(Math.abs(Math.log10(max))));
    };
    const dx = digits(s.x);
    const dy = digits(s.y);
    s.x = s.x.map((v) => roundTo(v, dx));
    s.y = s.y.map((v) => roundTo(v, dy));
  });
}

function pointsOf(data: Matrix, columns: number, what: string): number[][] {
  if (!isRowLike(data) || (data.length > 0 && !isRowLike(data[0]))) throw new UsageError(`Expected ${what} data to be a 2D array`);
  const rows = Array.from(data, (r) => toNumbers(r, `${what} data`));
  if (rows.some((r) => r.length !== columns)) throw new UsageError(`Expected ${what} data to have ${columns} columns`);
  return rows;
}

export interface LinePlotOptions {
  title: string;
  series: LineSeries[];
  xaxis?: string;
  yaxis?: string;
  mode?: string;
  reverseXaxis?: boolean;
  comment?: string;
  extraLayout?: Layout;
  /** The thinning limit (LINE_PLOT_MAX_VALUES; SCATTER_MAX_VALUES for a scatter). */
  maxValues?: number;
}

/** L: one scatter trace per series (report_line_plot, and report_scatter2d with one series). */
export function linePlotFigure(o: LinePlotOptions): Figure {
  const prepared = o.series.map((s) => {
    const rows = pointsOf(s.data, 2, 'series');
    if (s.labels && s.labels.length !== rows.length) throw new UsageError(`labels must have one entry per point (${rows.length} points, ${s.labels.length} labels)`);
    return { name: s.name, labels: s.labels ?? null, x: rows.map((r) => r[0]!), y: rows.map((r) => r[1]!) };
  });
  thinSeries(prepared, o.maxValues ?? LINE_PLOT_MAX_VALUES);
  let layout = scatterLayout(titled(o.title, o.comment), o.xaxis, o.yaxis);
  if (o.reverseXaxis) (layout.xaxis as Layout).autorange = 'reversed';
  if (o.extraLayout) layout = deepMerge(layout, o.extraLayout);
  return {
    data: prepared.map((s) => ({ name: s.name, x: s.x, y: s.y, mode: o.mode ?? 'lines', text: s.labels, type: 'scatter' })),
    layout,
  };
}

export interface Scatter3dOptions {
  title: string;
  series: string;
  /** N rows of [x, y, z]. */
  scatter: Matrix;
  xaxis?: string;
  yaxis?: string;
  zaxis?: string;
  labels?: string[];
  mode?: string;
  comment?: string;
  extraLayout?: Layout;
}

/** S3: one scatter3d trace, named after the series (Python leaves the name null). */
export function scatter3dFigure(o: Scatter3dOptions): Figure {
  const rows = pointsOf(o.scatter, 3, 'scatter3d');
  if (o.labels && o.labels.length !== rows.length) throw new UsageError(`labels must have one entry per point (${rows.length} points, ${o.labels.length} labels)`);
  let layout: Layout = {
    showlegend: true,
    title: titled(o.title, o.comment),
    scene: { xaxis: { title: o.xaxis ?? null }, yaxis: { title: o.yaxis ?? null }, zaxis: { title: o.zaxis ?? null } },
    name: null,
  };
  if (o.extraLayout) layout = deepMerge(layout, o.extraLayout);
  return {
    data: [
      {
        name: o.series,
        x: rows.map((r) => r[0]),
        y: rows.map((r) => r[1]),
        z: rows.map((r) => r[2]),
        text: o.labels ?? null,
        type: 'scatter3d',
        mode: o.mode ?? 'markers',
        marker: { size: 5, line: { color: SCATTER3D_LINE_COLOR, width: 0.8 }, opacity: 0.8 },
      },
    ],
    layout,
  };
}

export interface HeatmapOptions {
  title: string;
  series: string;
  matrix: Matrix;
  xaxis?: string;
  yaxis?: string;
  xlabels?: string[];
  ylabels?: string[];
  yaxisReversed?: boolean;
  comment?: string;
  extraLayout?: Layout;
}

/**
 * CM: a heatmap (report_confusion_matrix, report_matrix) with ClearML's colour scale. `extraLayout`
 * goes into the layout only and the colour scale stays (Python drops it and merges the layout into
 * the trace as well).
 */
export function heatmapFigure(o: HeatmapOptions): Figure {
  const z = toRows(o.matrix, 'matrix');
  let layout: Layout = {
    showlegend: true,
    title: titled(o.title, o.comment),
    xaxis: { title: o.xaxis ?? null },
    yaxis: { title: o.yaxis ?? null },
    name: o.series,
  };
  if (o.yaxisReversed) (layout.yaxis as Layout).autorange = 'reversed';
  if (o.extraLayout) layout = deepMerge(layout, o.extraLayout);
  return {
    data: [{ x: o.xlabels ?? null, y: o.ylabels ?? null, z, type: 'heatmap', colorscale: colorScale(), colorbar: colorBar() }],
    layout,
  };
}

export interface SurfaceOptions {
  title: string;
  series: string;
  matrix: Matrix;
  xaxis?: string;
  yaxis?: string;
  zaxis?: string;
  xlabels?: string[];
  ylabels?: string[];
  /** The camera eye position (x, y, z). */
  camera?: readonly [number, number, number];
  comment?: string;
  extraLayout?: Layout;
}

/** SF: a surface (report_surface), titled `title/series`. */
export function surfaceFigure(o: SurfaceOptions): Figure {
  const z = toRows(o.matrix, 'matrix');
  const axis = (title: string | undefined, labels: string[] | undefined) => ({
    title: title ?? null,
    showgrid: false,
    nticks: 10,
    ticktext: labels ?? null,
    tickvals: labels?.length ? labels.map((_, i) => i) : null,
  });
  const scene: Layout = { xaxis: axis(o.xaxis, o.xlabels), yaxis: axis(o.yaxis, o.ylabels), zaxis: { title: o.zaxis ?? null, nticks: 5 } };
  if (o.camera) scene.camera = { eye: { x: o.camera[0], y: o.camera[1], z: o.camera[2] } };
  let layout: Layout = { scene, showlegend: false, title: titled(`${o.title}/${o.series}`, o.comment), name: o.series };
  if (o.extraLayout) layout = deepMerge(layout, o.extraLayout);
  return {
    data: [
      {
        z,
        type: 'surface',
        contours: { y: { show: false, highlightcolor: '#fff4ff', project: { y: true } } },
        showscale: false,
        colorscale: colorScale(),
        colorbar: colorBar(),
      },
    ],
    layout,
  };
}

/** NaN and ±Infinity have no JSON form: they are sent as "nan", "inf" and "-inf", wherever they sit. */
function nonFinite(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return Number.isNaN(value) ? 'nan' : value > 0 ? 'inf' : '-inf';
  return value;
}

/** The `plot_str` of a figure. */
export function plotString(figure: Figure): string {
  return JSON.stringify(figure, nonFinite);
}
