import { useEffect, useMemo } from 'react';
import { latestPlots, type PlotEvent } from '../api/events';
import { expandLayout, loadPlotly, upgradeTitles } from '../lib/plotly';
import { useQuery } from '../lib/useApi';
import { ErrorBox, Loading } from './ui';
import { PlotlyChart } from './PlotlyChart';

interface Figure {
  key: string;
  event: PlotEvent;
  data?: unknown[];
  layout?: Record<string, unknown>;
  error?: string;
}

function figureOf(event: PlotEvent): Figure {
  const key = `${event.metric}/${event.variant}`;
  try {
    const parsed = JSON.parse(event.plot_str ?? '') as { data?: unknown; layout?: unknown };
    const data = Array.isArray(parsed.data) ? upgradeTitles(parsed.data) : [];
    const layout = parsed.layout && typeof parsed.layout === 'object' ? upgradeTitles(expandLayout(parsed.layout as Record<string, unknown>)) : {};
    return { key, event, data, layout };
  } catch {
    return { key, event, error: 'This plot could not be read.' };
  }
}

/** Every reported plot figure (latest iteration of each), drawn as reported, layout included. */
export function PlotsView({ entity, modelEvents }: { entity: string; modelEvents: boolean }) {
  const plots = useQuery((signal) => latestPlots(entity, modelEvents, signal), [entity, modelEvents]);
  // plotly (a large script) loads while the plots do, not after them; a failure shows on each chart. Most
  // figures are 2D: the cartesian bundle is the likely one.
  useEffect(() => void loadPlotly('cartesian').catch(() => undefined), []);
  const figures = useMemo(
    () => (plots.data ?? []).map(figureOf).sort((a, b) => a.event.metric.localeCompare(b.event.metric) || a.event.variant.localeCompare(b.event.variant)),
    [plots.data],
  );
  return (
    <div className="plots">
      {plots.loading && !plots.data && <Loading label="Loading plots…" />}
      <ErrorBox error={plots.error} onRetry={plots.reload} />
      {plots.data && figures.length === 0 && <p className="empty">No plots reported.</p>}
      <div className="charts">
        {figures.map((f) => (
          <figure key={f.key} className="chart" data-metric={f.event.metric} data-variant={f.event.variant}>
            <figcaption>
              {f.event.metric}
              {f.event.variant ? ` / ${f.event.variant}` : ''} <span className="muted">iteration {f.event.iter}</span>
            </figcaption>
            {f.error ? <p className="error">{f.error}</p> : <PlotlyChart data={f.data!} layout={f.layout!} label={`Plot ${f.key}`} />}
          </figure>
        ))}
      </div>
    </div>
  );
}
