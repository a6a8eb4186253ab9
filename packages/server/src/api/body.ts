import { apiError } from './errors.js';
import { isPlainObject } from '../util/json.js';

/** ClearML converts query values: all digits → int, digits with one dot → float, true/false words → booleans. */
function coerce(value: string): unknown {
  if (/^-?\d+$/.test(value)) return Number(value);
  if (/^-?\d+\.\d+$/.test(value)) return Number(value);
  if (value === 'true' || value === 'True' || value === 'TRUE') return true;
  if (value === 'false' || value === 'False' || value === 'FALSE') return false;
  return value;
}

/**
 * Merges query-string parameters into the body (clearml-api.md §1.2): `a.b` sets a nested key,
 * `k[]` or a repeated key makes a list.
 */
export function mergeQuery(body: Record<string, unknown>, search: URLSearchParams): Record<string, unknown> {
  const seen = new Map<string, unknown[]>();
  for (const [rawKey, rawValue] of search) {
    const isList = rawKey.endsWith('[]');
    const key = isList ? rawKey.slice(0, -2) : rawKey;
    if (!key) continue;
    const list = seen.get(key) ?? [];
    list.push(coerce(rawValue));
    seen.set(key, isList ? Object.assign(list, { forceList: true }) : list);
  }
  for (const [key, values] of seen) {
    const value = values.length > 1 || (values as { forceList?: boolean }).forceList ? [...values] : values[0];
    const parts = key.split('.');
    let target = body;
    for (const part of parts.slice(0, -1)) {
      if (part === '__proto__' || part === 'constructor' || part === 'prototype') throw apiError('validation_error', `invalid query parameter ${key}`);
      if (!isPlainObject(target[part])) target[part] = {};
      target = target[part] as Record<string, unknown>;
    }
    const last = parts[parts.length - 1]!;
    if (last === '__proto__' || last === 'constructor' || last === 'prototype') throw apiError('validation_error', `invalid query parameter ${key}`);
    target[last] = value;
  }
  return body;
}

export function parseJsonBody(raw: Buffer): Record<string, unknown> {
  const text = raw.toString('utf8').trim();
  if (!text) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw apiError('validation_error', `invalid JSON body: ${(err as Error).message}`);
  }
  if (!isPlainObject(parsed)) throw apiError('validation_error', 'the request body must be a JSON object');
  return parsed;
}

/** `application/json-lines`: one object per line; an empty batch is 400/17. A JSON array is accepted too. */
export function parseJsonLines(raw: Buffer): Record<string, unknown>[] {
  const text = raw.toString('utf8').trim();
  let items: unknown[];
  if (text.startsWith('[')) {
    try {
      items = JSON.parse(text) as unknown[];
    } catch (err) {
      throw apiError('validation_error', `invalid JSON body: ${(err as Error).message}`);
    }
  } else {
    items = [];
    for (const [index, line] of text.split('\n').entries()) {
      if (!line.trim()) continue;
      try {
        items.push(JSON.parse(line));
      } catch (err) {
        throw apiError('validation_error', `invalid JSON on line ${index + 1}: ${(err as Error).message}`);
      }
    }
  }
  if (!items.length) throw apiError('batch_contains_no_items');
  for (const [index, item] of items.entries()) {
    if (!isPlainObject(item)) throw apiError('validation_error', `batch item ${index + 1} is not a JSON object`);
  }
  return items as Record<string, unknown>[];
}
