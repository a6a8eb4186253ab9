import { HoconParseError, parseHocon } from '@cairn/sdk/hocon';

/** The configuration text of a model's `design` (the SDKs store `{design: text}`; otherwise its first value). */
export function designText(design: unknown): string {
  if (!design) return '';
  if (typeof design === 'string') return design;
  if (typeof design !== 'object') return '';
  const record = design as Record<string, unknown>;
  const value = 'design' in record ? record.design : Object.values(record)[0];
  if (typeof value === 'string') return value;
  return value === undefined || value === null ? '' : JSON.stringify(value, null, 2);
}

/**
 * Why the text would not read back as a configuration (HOCON, of which JSON is a part), or undefined when
 * it parses. Substitutions are resolved without an environment, as the browser has none.
 */
export function configTextError(text: string): string | undefined {
  if (!text.trim()) return undefined;
  try {
    parseHocon(text, { env: {} });
    return undefined;
  } catch (err) {
    if (err instanceof HoconParseError) return `Not valid HOCON or JSON: ${err.reason} at line ${err.line}, column ${err.col}.`;
    return `The configuration cannot be read: ${(err as Error).message}`;
  }
}
