/**
 * What one benchmark script reports: its figures, each with the reference measured in the same run, the
 * ratio, the target and whether it was met. `scripts/bench.mjs` collects these into `bench/results.json` and
 * the table in `bench/RESULTS.md`.
 */
import { summarize, type Summary } from './stats.js';

export interface Spread {
  low: number;
  high: number;
  /** Which quantiles `low`/`high` are. */
  kind: 'min-max' | 'p10-p90' | 'p50-max';
}

export interface Measured {
  label: string;
  value: number;
  unit: string;
  spread?: Spread;
  /** How many measurements the median was taken over. */
  samples?: number;
}

export interface Figure extends Measured {
  /** `P1.rate`: unique across the run. */
  id: string;
  reference?: Measured;
  /** `value / reference.value`: for rates, the fraction of the limit reached. */
  ratio?: number;
  /** The target in words, e.g. `≥ 50 % of the reference`; absent for figures that are only reported. */
  target?: string;
  met?: boolean;
}

export interface WorkloadResult {
  id: string;
  title: string;
  /** Sizes and counts the run used. */
  params: Record<string, unknown>;
  figures: Figure[];
  /** What limits a figure, how it was measured, what would lift it. */
  notes: string[];
  quick: boolean;
  durationMs: number;
  /** 1-minute load average when the workload started and ended. */
  load: { start: number; end: number };
  error?: string;
}

/** A measured value from a summary: its median, with min/max (few runs) or p10/p90 (many). */
export function measured(label: string, summary: Summary, unit: string): Measured {
  const kind = summary.n >= 10 ? 'p10-p90' : 'min-max';
  return {
    label,
    value: summary.median,
    unit,
    samples: summary.n,
    spread: kind === 'p10-p90' ? { low: summary.p10, high: summary.p90, kind } : { low: summary.min, high: summary.max, kind },
  };
}

/** The worst of several runs (a bound that must hold every time), with the range of all runs. */
export function worst(label: string, samples: readonly number[], unit: string): Measured {
  const summary = summarize(samples);
  return { label, value: summary.max, unit, samples: summary.n, spread: { low: summary.min, high: summary.max, kind: 'min-max' } };
}

/** A rate compared with the limit measured beside it: met when it reaches `minRatio` of it. */
export function ratioFigure(id: string, value: Measured, reference: Measured, minRatio: number, targetText?: string): Figure {
  const ratio = value.value / reference.value;
  return { id, ...value, reference, ratio, target: targetText ?? `≥ ${formatPercent(minRatio)} of the reference`, met: ratio >= minRatio };
}

/** The p99 of a summary, with its p50 and maximum as the spread. */
export function p99Of(label: string, summary: Summary, unit: string): Measured {
  return { label, value: summary.p99, unit, samples: summary.n, spread: { low: summary.median, high: summary.max, kind: 'p50-max' } };
}

/** A value that must stay at or below `max`. */
export function atMost(id: string, value: Measured, max: number, targetText: string): Figure {
  return { id, ...value, target: targetText, met: value.value <= max };
}

/** A figure that is reported without a target. */
export function reported(id: string, value: Measured, reference?: Measured): Figure {
  return { id, ...value, ...(reference ? { reference, ratio: value.value / reference.value } : {}) };
}

function formatPercent(ratio: number): string {
  return `${Math.round(ratio * 100)} %`;
}
