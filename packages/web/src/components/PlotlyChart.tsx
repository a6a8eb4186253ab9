import { useEffect, useRef, useState } from 'react';
import { bundleFor, loadPlotly, queueDraw, type PlotlyApi } from '../lib/plotly';
import { ErrorBox } from './ui';

/** Draws one plotly figure; the graph div keeps plotly's own `data`/`layout` so tests can read them. */
export function PlotlyChart({ data, layout, label }: { data: unknown[]; layout: Record<string, unknown>; label: string }) {
  const ref = useRef<HTMLDivElement>(null);
  // The plotly that drew this chart (cartesian or full bundle) is the one that redraws and purges it.
  const drawnWith = useRef<PlotlyApi>(undefined);
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    let cancelled = false;
    const el = ref.current;
    const bundle = drawnWith.current && bundleFor(data) === 'cartesian' ? drawnWith.current : loadPlotly(bundleFor(data));
    Promise.resolve(bundle)
      .then((Plotly) =>
        queueDraw(() => {
          if (cancelled || !el) return;
          if (drawnWith.current && drawnWith.current !== Plotly) drawnWith.current.purge(el);
          drawnWith.current = Plotly;
          return Plotly.react(el, data, { autosize: true, margin: { t: 40, r: 20, b: 50, l: 60 }, ...layout }, { responsive: true, displaylogo: false });
        }),
      )
      .then(() => !cancelled && el?.setAttribute('data-rendered', 'true'))
      .catch((err: unknown) => !cancelled && setError(err));
    return () => {
      cancelled = true;
    };
  }, [data, layout]);
  useEffect(() => {
    const el = ref.current;
    return () => {
      if (el && drawnWith.current) drawnWith.current.purge(el);
    };
  }, []);
  return (
    <>
      <div ref={ref} className="plot" role="img" aria-label={label} />
      <ErrorBox error={error} />
    </>
  );
}
