/**
 * How commands answer: results on stdout (text for people, `--json` for scripts), messages and progress on
 * stderr, and a failure as its message on stderr with exit code 1.
 */

/** `1.5 MiB` style sizes (binary units, one decimal above bytes). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** Rows under a header, each column as wide as its widest cell. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** `label:  value` lines, labels aligned; a value's further lines are indented under its first. */
export function formatFields(fields: [string, string][]): string {
  const width = Math.max(...fields.map(([k]) => k.length)) + 1;
  const indent = '\n' + ' '.repeat(width + 1);
  return fields.map(([k, v]) => `${`${k}:`.padEnd(width)} ${v.replaceAll('\n', indent)}`.trimEnd()).join('\n') + '\n';
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function printText(text: string): void {
  process.stdout.write(text);
}

/**
 * Wraps a command's action: a failure prints its message (the SDK's typed errors name what failed and why) on
 * stderr and makes the process exit with 1.
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (err) {
      process.stderr.write(`error: ${err instanceof Error ? err.message || err.name : String(err)}\n`);
      process.exitCode = 1;
    }
  };
}
