/** Summaries of repeated measurements: a median and a spread, never a single lucky run. */

export interface Summary {
  n: number;
  median: number;
  min: number;
  max: number;
  p10: number;
  p90: number;
  p99: number;
}

/** The value below which `q` (0..1) of the sorted samples fall, interpolated between neighbours. */
function quantile(sorted: readonly number[], q: number): number {
  if (!sorted.length) return NaN;
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    median: quantile(sorted, 0.5),
    min: sorted[0] ?? NaN,
    max: sorted[sorted.length - 1] ?? NaN,
    p10: quantile(sorted, 0.1),
    p90: quantile(sorted, 0.9),
    p99: quantile(sorted, 0.99),
  };
}

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** Bytes per second as MB/s (10^6), the unit disks and links are quoted in. */
export function mbPerSecond(bytes: number, ms: number): number {
  return bytes / 1e6 / (ms / 1000);
}
