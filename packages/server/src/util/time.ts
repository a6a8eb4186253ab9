/**
 * Dates are stored and sent as ISO-8601 UTC with microseconds and an explicit offset,
 * `2025-01-01T10:00:00.123000+00:00`, as ClearML emits them. The fixed width keeps them
 * sortable as text in both databases.
 */
export function isoDate(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000+00:00');
}

export interface Clock {
  now(): number;
}
export const systemClock: Clock = { now: () => Date.now() };

/** Parses an ISO string (with or without offset; naive = UTC) or epoch seconds/milliseconds. */
export function parseDateInput(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value < 1e11 ? value * 1000 : value;
  if (typeof value !== 'string' || !value.trim()) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return parseDateInput(Number(text));
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(text);
  const ms = Date.parse(hasZone ? text : text + 'Z');
  return Number.isNaN(ms) ? undefined : ms;
}

/** Normalises a date input to the stored form, or undefined when it is not a date. */
export function normalizeDate(value: unknown): string | undefined {
  const ms = parseDateInput(value);
  return ms === undefined ? undefined : isoDate(ms);
}
