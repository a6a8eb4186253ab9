/**
 * A model's configuration ("design") on the wire is an object wrapping text: `{design: "<text>"}`
 * (sdk-behaviour.md §2.1, §2.2). These helpers convert between that object, text and a config dict.
 */
import { UsageError } from '../errors.js';
import { configDictToText } from './hocon.js';

export type Design = Record<string, unknown>;

/** Text → `{design: text}`; an object must already carry a `design` key. */
export function wrapDesign(design: string | Design | null | undefined): Design {
  if (design === null || design === undefined || design === '') return { design: '' };
  if (typeof design === 'string') return { design };
  if (typeof design === 'object' && !Array.isArray(design)) {
    if (!('design' in design)) throw new UsageError("design dictionary must have 'design' key in it");
    return design;
  }
  throw new UsageError("design must be a string or a dictionary with at least one value");
}

/** `{design: text}` → text; an object without `design` gives its first value; nothing gives "". */
export function unwrapDesign(design: unknown): string {
  if (design === null || design === undefined || design === '') return '';
  if (typeof design === 'string') return design;
  if (typeof design === 'object' && !Array.isArray(design)) {
    const values = Object.values(design);
    if (!values.length) return '';
    const value = 'design' in design ? (design as Design).design : values[0];
    return value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  }
  throw new UsageError('design must be a string or a dictionary with at least one value');
}

function isEmptyDict(value: unknown): boolean {
  if (value instanceof Map) return value.size === 0;
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;
}

/**
 * `configText` or `configDict` → text (or undefined when neither is given). An empty text and an empty dict
 * count as absent; giving both is an error.
 */
export function resolveConfig(configText?: string | null, configDict?: unknown): string | undefined {
  const hasText = typeof configText === 'string' ? configText !== '' : configText !== null && configText !== undefined;
  const hasDict = configDict !== null && configDict !== undefined && !isEmptyDict(configDict);
  if (hasText && hasDict) throw new UsageError('Only one of (config_text, config_dict) is allowed');
  if (hasDict) return configDictToText(configDict);
  if (configText !== null && configText !== undefined && typeof configText !== 'string') {
    throw new UsageError('Model configuration only supports dictionary or string objects');
  }
  return configText ?? undefined;
}
