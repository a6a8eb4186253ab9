/**
 * Exponential moving average with debiasing (as TensorBoard smooths): weight 0 leaves the series as
 * it is, weight close to 1 smooths strongly. Non-finite points are kept and skipped.
 */
export function smooth(values: readonly (number | null)[], weight: number): (number | null)[] {
  if (weight <= 0) return values.slice();
  let last = 0;
  let count = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return v;
    last = last * weight + (1 - weight) * v;
    count++;
    return last / (1 - Math.pow(weight, count));
  });
}
