import { useEffect, useRef, useState } from 'react';
import { loadPlotly, queueDraw } from '../lib/plotly';
import { ErrorBox } from './ui';

/** Draws one plotly figure; the graph div keeps plotly's own `data`/`layout` so tests can read them. */
export function PlotlyChart({ data, layout, label }: { data: unknown[]; layout: Record<string, unknown>; label: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    let cancelled = false;
    const el = ref.current;
    loadPlotly()
      .then((Plotly) =>
        queueDraw(() => {
          if (cancelled || !el) return;
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
      if (el && window.Plotly) window.Plotly.purge(el);
    };
  }, []);
  return (
    <>
      <div ref={ref} className="plot" role="img" aria-label={label} />
      <ErrorBox error={error} />
    </>
  );
}
