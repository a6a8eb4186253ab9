import { fromJson } from '../util/json.js';
import type { Doc } from './projection.js';
import type { EntitySpec } from './spec.js';

/** Tag lists are always returned sorted (clearml-api.md §7 item 9). */
const SORTED_LISTS = new Set(['tags', 'system_tags']);

/**
 * A database row as a stored document: JSON columns parsed, booleans as booleans, unset (null) fields
 * left out as ClearML leaves them out.
 */
export function decodeRow(entity: EntitySpec, row: Record<string, unknown>): Doc {
  const doc: Doc = {};
  for (const [field, spec] of Object.entries(entity.fields)) {
    const col = spec.column ?? field;
    if (!(col in row)) continue;
    const value = row[col];
    if (value === null || value === undefined) continue;
    switch (spec.type) {
      case 'json':
        doc[field] = fromJson(value, null);
        break;
      case 'stringList': {
        const list = fromJson<unknown[]>(value, []);
        doc[field] = SORTED_LISTS.has(field) && Array.isArray(list) ? [...list].sort() : list;
        break;
      }
      case 'bool':
        doc[field] = value === 1 || value === true || value === '1';
        break;
      case 'number':
        doc[field] = Number(value);
        break;
      default:
        doc[field] = value;
    }
    if (doc[field] === null) delete doc[field];
  }
  return doc;
}
