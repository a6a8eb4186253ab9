/** The part of plotly.js the app uses; plotly is loaded from its own file the first time a chart is drawn. */
export interface PlotlyApi {
  newPlot(el: HTMLElement, data: unknown[], layout?: Record<string, unknown>, config?: Record<string, unknown>): Promise<unknown>;
  react(el: HTMLElement, data: unknown[], layout?: Record<string, unknown>, config?: Record<string, unknown>): Promise<unknown>;
  purge(el: HTMLElement): void;
  Plots: { resize(el: HTMLElement): void };
}

/**
 * plotly comes in two files: its cartesian bundle (2D traces, a third of the size and of the start-up time, which
 * is what a page of charts waits for) and the full one, loaded only for figures the cartesian bundle cannot draw
 * (3D scatter, surface, table, ...).
 */
export type PlotlyBundle = 'cartesian' | 'full';

declare const __PLOTLY_URLS__: Record<PlotlyBundle, string>;
declare global {
  interface Window {
    Plotly?: PlotlyApi;
  }
}

/** The trace types the cartesian bundle holds (its README lists them). */
const CARTESIAN_TRACES = new Set(['bar', 'box', 'contour', 'heatmap', 'histogram', 'histogram2d', 'histogram2dcontour', 'image', 'pie', 'scatter', 'scatterternary', 'violin']);

/** The bundle that can draw every trace of `data` (a trace without a type is a scatter). */
export function bundleFor(data: unknown[]): PlotlyBundle {
  const drawable = data.every((trace) => {
    const type = trace && typeof trace === 'object' ? (trace as { type?: unknown }).type : undefined;
    return CARTESIAN_TRACES.has(typeof type === 'string' ? type : 'scatter');
  });
  return drawable ? 'cartesian' : 'full';
}

const bundles: Partial<Record<PlotlyBundle, Promise<PlotlyApi>>> = {};
/** Both files assign `window.Plotly`: they are loaded one after the other, each taken from it as soon as it ran. */
let lastScript: Promise<unknown> = Promise.resolve();

/** Loads plotly's `bundle` (once); the full bundle serves cartesian charts too once it is there. */
export function loadPlotly(bundle: PlotlyBundle): Promise<PlotlyApi> {
  const full = bundles.full;
  if (bundle === 'cartesian' && full && !bundles.cartesian) return full;
  let loading = bundles[bundle];
  if (!loading) {
    loading = lastScript.catch(() => undefined).then(() => injectScript(__PLOTLY_URLS__[bundle]));
    loading.catch(() => {
      // A failed load is tried again on the next chart.
      if (bundles[bundle] === loading) delete bundles[bundle];
    });
    bundles[bundle] = loading;
    lastScript = loading;
  }
  return loading;
}

function injectScript(url: string): Promise<PlotlyApi> {
  return new Promise<PlotlyApi>((resolve, reject) => {
    delete window.Plotly;
    const script = document.createElement('script');
    script.src = url;
    script.async = true;
    script.onload = () => (window.Plotly ? resolve(window.Plotly) : reject(new Error(`plotly.js did not load from ${url}`)));
    script.onerror = () => reject(new Error(`plotly.js could not be loaded from ${url}`));
    document.head.appendChild(script);
  });
}

/** Charts waiting to be drawn. They are drawn one per task, in the order they asked, so that the page
 * answers input and paints between two charts instead of freezing until a page of large charts is done. */
const drawQueue: (() => Promise<void>)[] = [];
let drawing = false;

/** Runs `draw` (a Plotly call) once the charts queued before it are drawn. */
export function queueDraw(draw: () => Promise<unknown> | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    drawQueue.push(() => Promise.resolve().then(draw).then(() => resolve(), reject));
    if (!drawing) void drainDrawQueue();
  });
}

async function drainDrawQueue(): Promise<void> {
  drawing = true;
  while (drawQueue.length) {
    await drawQueue.shift()!();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  drawing = false;
}

const LEGACY_TITLE_KEYS: Record<string, string> = { titlefont: 'font', titleside: 'side', titleposition: 'position' };

/**
 * Figures reported by ClearML's SDKs use plotly 1.x attributes that plotly 3 dropped: `title` as a
 * plain string (for the figure, axes, colour bars, legends) and `titlefont`/`titleside`. They become
 * `title: {text, font, side}`, everywhere in the figure, so the titles still show.
 */
export function upgradeTitles<T>(value: T): T {
  if (Array.isArray(value)) return value.map(upgradeTitles) as T;
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    if (key === 'title' && (typeof child === 'string' || typeof child === 'number')) out.title = { ...(out.title as object), text: String(child) };
    else if (key in LEGACY_TITLE_KEYS) out.title = { ...(out.title as object), [LEGACY_TITLE_KEYS[key]!]: upgradeTitles(child) };
    else if (key === 'title' && child && typeof child === 'object') out.title = { ...(out.title as object), ...upgradeTitles(child) };
    else out[key] = upgradeTitles(child);
  }
  return out as T;
}

/**
 * Layout keys written as paths (`"title.text": "x"`, as ClearML's table plots send them) become
 * nested objects, which is how `newPlot` expects them. Nested values win over flat ones they collide with.
 */
export function expandLayout(layout: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const paths: [string, unknown][] = [];
  for (const [key, value] of Object.entries(layout)) {
    if (key.includes('.')) paths.push([key, value]);
    else out[key] = value;
  }
  for (const [key, value] of paths) {
    const parts = key.split('.');
    let node = out;
    for (const part of parts.slice(0, -1)) {
      const next = node[part];
      if (next && typeof next === 'object' && !Array.isArray(next)) node = next as Record<string, unknown>;
      else {
        const created: Record<string, unknown> = typeof next === 'string' ? { text: next } : {};
        node[part] = created;
        node = created;
      }
    }
    node[parts[parts.length - 1]!] = value;
  }
  return out;
}
