import { useMemo, useState } from 'react';
import { scalarHistogram, singleValues, type ScalarHistogram, type XAxis } from '../api/events';
import { formatNumber } from '../lib/format';
import { smooth } from '../lib/smoothing';
import { useQuery } from '../lib/useApi';
import { ErrorBox, Loading } from './ui';
import { PlotlyChart } from './PlotlyChart';

/** The unsmoothed line stays visible behind the smoothed one, faintly. */
const RAW_OPACITY = 0.3;

function chartsOf(histogram: ScalarHistogram, xAxis: XAxis, weight: number) {
  return Object.keys(histogram)
    .sort((a, b) => a.localeCompare(b))
    .map((metric) => {
      const variants = histogram[metric] ?? {};
      const data: unknown[] = [];
      let colorIndex = 0;
      for (const variant of Object.keys(variants).sort((a, b) => a.localeCompare(b))) {
        const series = variants[variant]!;
        const x = xAxis === 'timestamp' ? series.x.map((t) => (typeof t === 'number' ? new Date(t).toISOString() : t)) : series.x;
        const color = `hsl(${(colorIndex++ * 137) % 360}, 60%, 42%)`;
        if (weight > 0) {
          data.push({ type: 'scatter', mode: 'lines', x, y: series.y, name: variant, line: { color }, opacity: RAW_OPACITY, showlegend: false, hoverinfo: 'skip' });
        }
        data.push({ type: 'scatter', mode: 'lines', x, y: weight > 0 ? smooth(series.y, weight) : series.y, name: variant, line: { color } });
      }
      const first = Object.values(variants)[0];
      const layout = {
        showlegend: true,
        legend: { orientation: 'h', y: -0.25 },
        xaxis: { title: { text: xAxis === 'timestamp' ? 'Time' : (first?.x_axis_label ?? 'Iteration') }, type: xAxis === 'timestamp' ? 'date' : 'linear' },
        yaxis: { title: { text: '' } },
        height: 320,
      };
      return { metric, data, layout };
    });
}

/** Scalar charts (one per metric, variants as lines) and the single values, for a model or a task. */
export function ScalarsView({ entity, modelEvents }: { entity: string; modelEvents: boolean }) {
  const [xAxis, setXAxis] = useState<XAxis>('iter');
  const [weight, setWeight] = useState(0);
  // The fetched series remembers its axis: until the refetch for a new axis lands, the old series keeps its own axis
  // (iterations drawn as dates would show 1970).
  const histogram = useQuery(
    async (signal) => ({ xAxis, series: await scalarHistogram(entity, modelEvents, xAxis, signal) }),
    [entity, modelEvents, xAxis],
  );
  const values = useQuery((signal) => singleValues(entity, modelEvents, signal), [entity, modelEvents]);
  const charts = useMemo(() => (histogram.data ? chartsOf(histogram.data.series, histogram.data.xAxis, weight) : []), [histogram.data, weight]);

  return (
    <div className="scalars">
      <div className="toolbar">
        <label className="inline">
          X axis
          <select value={xAxis} onChange={(e) => setXAxis(e.target.value as XAxis)}>
            <option value="iter">Iterations</option>
            <option value="timestamp">Wall time</option>
          </select>
        </label>
        <label className="inline">
          Smoothing
          <input type="range" min={0} max={0.99} step={0.01} value={weight} onChange={(e) => setWeight(Number(e.target.value))} />
          <output>{weight.toFixed(2)}</output>
        </label>
      </div>

      {values.loading && !values.data && <Loading />}
      <ErrorBox error={values.error} onRetry={values.reload} />
      {values.data && values.data.length > 0 && (
        <section aria-labelledby="single-values">
          <h2 id="single-values">Single values</h2>
          <table className="grid compact single-values">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Value</th>
              </tr>
            </thead>
            <tbody>
              {values.data.map((v) => (
                <tr key={`${v.metric}/${v.variant}`} data-name={v.variant}>
                  <td>{v.metric && v.metric !== 'Summary' ? `${v.metric} / ${v.variant}` : v.variant}</td>
                  <td className="num">{formatNumber(v.value)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}

      {histogram.loading && !histogram.data && <Loading label="Loading scalars…" />}
      <ErrorBox error={histogram.error} onRetry={histogram.reload} />
      {histogram.data && charts.length === 0 && <p className="empty">No scalars reported.</p>}
      <div className="charts">
        {charts.map((chart) => (
          <figure key={chart.metric} className="chart" data-metric={chart.metric}>
            <figcaption>{chart.metric}</figcaption>
            <PlotlyChart data={chart.data} layout={chart.layout} label={`Chart of ${chart.metric}`} />
          </figure>
        ))}
      </div>
    </div>
  );
}
