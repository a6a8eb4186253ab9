const pad = (n: number) => String(n).padStart(2, '0');

/** `2025-01-31 14:05:09` in the browser's time zone; '' for no date. */
export function formatDate(value: string | null | undefined): string {
  if (!value) return '';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return value;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** `1.5 MiB (1,572,864 bytes)`: readable and exact. */
export function formatBytes(size: number | null | undefined): string {
  if (size === null || size === undefined) return '';
  let value = size;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const short = unit === 0 ? `${size} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${UNITS[unit]}`;
  return unit === 0 ? short : `${short} (${size.toLocaleString('en-US')} bytes)`;
}

/** A metric value for a table cell: integers as they are, other numbers with at most 6 significant digits. */
export function formatNumber(value: unknown): string {
  if (typeof value !== 'number') return value === null || value === undefined ? '' : String(value);
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(6)));
}

/** Escapes text for use inside a regular expression sent to the server. */
export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Only http(s) links are followed: a stored URL like `javascript:...` is shown as text, never as a link. */
export function safeHref(url: string | null | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url, window.location.href);
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

/** The id of a reference field, whether it came as an id string or as a joined object. */
export function refId(ref: unknown): string | undefined {
  if (!ref) return undefined;
  if (typeof ref === 'string') return ref;
  if (typeof ref === 'object' && 'id' in ref && typeof (ref as { id: unknown }).id === 'string') return (ref as { id: string }).id;
  return undefined;
}

/** A joined field of a reference (`user.name`, `project.name`). */
export function refField(ref: unknown, field: string): string | undefined {
  if (!ref || typeof ref !== 'object') return undefined;
  const value = (ref as Record<string, unknown>)[field];
  return typeof value === 'string' ? value : undefined;
}
