import { sql } from 'kysely';
import { apiError } from '../api/errors.js';
import { isPlainObject } from '../util/json.js';
import { normalizeDate } from '../util/time.js';
import type { EntitySpec, FilterKind } from './spec.js';
import { operandOf, resolvePath, type ResolvedPath } from './paths.js';
import { FALSE, and, not, or, type Dialect, type Operand, type Sql } from './sql.js';

/**
 * Turns the field filters of a get_all body into SQL conditions on alias `t` (clearml-api.md §4.1).
 * Keys that match no filterable field are ignored, as ClearML does.
 */
export function compileFilters(d: Dialect, entity: EntitySpec, body: Record<string, unknown>): Sql[] {
  const conditions: Sql[] = [];
  // Pattern filters go last: on SQLite a regex is a JavaScript call per row, and SQLite tests conditions in
  // the order written, so the cheap ones (tags, ids, status) rule out most rows before any regex runs.
  const patterns: Sql[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (value === null || value === undefined) continue;
    if (key === '_any_' || key === '_or_' || key === '_all_' || key === '_and_') {
      const c = multiFieldCondition(d, entity, key, value);
      if (c) patterns.push(c);
      continue;
    }
    if (key === 'filters') {
      conditions.push(...filtersCondition(d, entity, value));
      continue;
    }
    if (key === 'search_text') {
      const c = searchTextCondition(d, entity, value);
      if (c) conditions.push(c);
      continue;
    }
    const path = resolvePath(entity, key);
    if (!path) continue;
    const kind: FilterKind | undefined = path.sub.length ? path.rule?.filter : path.spec.filter;
    if (!kind) continue;
    const c = fieldCondition(d, path, kind, key, value);
    if (c) (kind === 'pattern' ? patterns : conditions).push(c);
  }
  return [...conditions, ...patterns];
}

function fieldCondition(d: Dialect, path: ResolvedPath, kind: FilterKind, key: string, value: unknown): Sql | undefined {
  const op = operandOf(d, path);
  switch (kind) {
    case 'pattern':
      if (typeof value !== 'string') throw apiError('fields_value_error', 'a pattern must be a string', { field: key });
      return value === '' ? undefined : d.regex(op, value, false);
    case 'list':
      return listCondition(d, op, parseListTerms(key, value));
    case 'range':
      return rangeCondition(op, key, value, path.spec.type === 'date' && !path.sub.length);
    case 'datetime':
      return datetimeCondition(op, key, value);
    case 'equality':
      return equalityCondition(d, path, op, key, value);
  }
}

/** The buckets of a list filter (clearml-api.md §4.1 "List field"). */
export interface ListTerms {
  in: string[];
  all: string[];
  nin: string[];
  /** Some of these must be missing (the `filters` form's `any.exclude`). */
  notAll: string[];
  /** A `null` element: missing, null or empty values match too. */
  allowEmpty: boolean;
  /** How the buckets combine: set by the first operator seen, AND by default. */
  op: 'and' | 'or';
}

const OPERATOR_PREFIX = '__$';

/**
 * Reads `["a", "-b", "__$all", "c", "__$not", "d", null]`. Plain values and `-x` exclusions are the legacy
 * syntax, active until an operator appears and again after `__$nop`; `__$all`/`__$and` collect values that
 * must all be present, `__$any`/`__$or` values of which one must be, and `__$not` excludes the next value.
 */
export function parseListTerms(field: string, data: unknown): ListTerms {
  const values = Array.isArray(data) ? data : [data];
  const terms: ListTerms = { in: [], all: [], nin: [], notAll: [], allowEmpty: false, op: 'and' };
  let context: 'legacy' | 'and' | 'or' = 'legacy';
  let sawOperator = false;
  let negateNext = false;
  for (const raw of values) {
    if (raw === null) {
      if (negateNext) throw apiError('fields_value_error', 'Value is expected after', { field, operator: '__$not' });
      terms.allowEmpty = true;
      continue;
    }
    const value = scalarText(field, raw);
    if (value.startsWith(OPERATOR_PREFIX)) {
      if (negateNext) throw apiError('fields_value_error', 'Value is expected after', { field, operator: '__$not' });
      switch (value) {
        case '__$all':
        case '__$and':
        case '__$any':
        case '__$or': {
          context = value === '__$all' || value === '__$and' ? 'and' : 'or';
          if (!sawOperator) terms.op = context;
          sawOperator = true;
          break;
        }
        case '__$not':
          negateNext = true;
          break;
        case '__$nop':
          context = 'legacy';
          break;
        default:
          throw apiError('fields_value_error', 'Unsupported operator', { field, operator: value });
      }
      continue;
    }
    if (negateNext) {
      terms.nin.push(value);
      negateNext = false;
    } else if (context === 'legacy') {
      if (value.startsWith('-')) {
        if (value.length === 1) throw apiError('fields_value_error', 'Missing value after the exclude prefix -', { field });
        terms.nin.push(value.slice(1));
      } else {
        terms.in.push(value);
      }
    } else if (context === 'and') {
      terms.all.push(value);
    } else {
      terms.in.push(value);
    }
  }
  if (negateNext) throw apiError('fields_value_error', 'Value is expected after', { field, operator: '__$not' });
  return terms;
}

function scalarText(field: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw apiError('fields_value_error', 'invalid value type, string expected', { field, value: JSON.stringify(value) });
}

export function listCondition(d: Dialect, op: Operand, terms: ListTerms): Sql | undefined {
  const parts: Sql[] = [];
  if (terms.in.length) parts.push(d.anyOf(op, terms.in));
  if (terms.all.length) parts.push(d.allOf(op, terms.all));
  if (terms.nin.length) parts.push(d.noneOf(op, terms.nin));
  if (terms.notAll.length) parts.push(not(sql`coalesce(${d.allOf(op, terms.notAll)}, false)`));
  const combined = parts.length ? (terms.op === 'or' ? or(parts) : and(parts)) : undefined;
  if (!terms.allowEmpty) return combined;
  return combined ? or([combined, d.empty(op)]) : d.empty(op);
}

function rangeCondition(op: Operand, field: string, value: unknown, isDate: boolean): Sql {
  if (op.kind !== 'scalar') throw apiError('validation_error', `Range filters apply to single values: ${field}`);
  if (!Array.isArray(value) || value.length !== 2) {
    throw apiError('validation_error', `Min and max values should be specified for range field ${field}`);
  }
  const [min, max] = value.map((v) => (v === null || v === undefined ? null : isDate ? dateBound(field, v) : numberBound(field, v)));
  if (min === null && max === null) {
    throw apiError('validation_error', `At least one of min or max values should be provided for field ${field}`);
  }
  const parts: Sql[] = [];
  if (min !== null) parts.push(sql`${op.expr} >= ${min}`);
  if (max !== null) parts.push(sql`${op.expr} <= ${max}`);
  const bounded = and(parts);
  // A missing min also takes rows without a value (ClearML matches null there).
  return min === null ? or([bounded, sql`${op.expr} is null`]) : bounded;
}

function dateBound(field: string, value: unknown): string {
  const date = normalizeDate(value);
  if (date === undefined) throw apiError('validation_error', `Invalid date for range field ${field}`, { value: String(value) });
  return date;
}

function numberBound(field: string, value: unknown): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() ? Number(value) : NaN;
  if (!Number.isFinite(n)) throw apiError('validation_error', `Invalid number for range field ${field}`, { value: String(value) });
  return n;
}

const DATE_PREFIX = /^(>=|>|<=|<)?(.*)$/s;

/** `">=2025-01-01"`, `["<2025-02-01", ">2025-01-01"]`, or two plain values as a range. Unparsable dates are skipped. */
function datetimeCondition(op: Operand, field: string, value: unknown): Sql | undefined {
  if (op.kind !== 'scalar') return undefined;
  const values = (Array.isArray(value) ? value : [value]).filter((v) => v !== null && v !== undefined);
  const strings = values.map((v) => (typeof v === 'number' ? String(v) : v));
  if (strings.some((v) => typeof v !== 'string')) throw apiError('fields_value_error', 'datetime values must be strings', { field });
  const texts = strings as string[];
  if (texts.length === 2 && !texts.some((t) => /^[<>]/.test(t))) return rangeCondition(op, field, texts, true);
  const parts: Sql[] = [];
  for (const text of texts) {
    const m = DATE_PREFIX.exec(text.trim())!;
    const date = normalizeDate(m[2]);
    if (date === undefined) continue;
    switch (m[1]) {
      case '>=':
        parts.push(sql`${op.expr} >= ${date}`);
        break;
      case '>':
        parts.push(sql`${op.expr} > ${date}`);
        break;
      case '<=':
        parts.push(sql`${op.expr} <= ${date}`);
        break;
      case '<':
        parts.push(sql`${op.expr} < ${date}`);
        break;
      default:
        parts.push(sql`${op.expr} = ${date}`);
    }
  }
  return parts.length ? and(parts) : undefined;
}

function equalityCondition(d: Dialect, path: ResolvedPath, op: Operand, field: string, value: unknown): Sql {
  if (path.spec.type === 'bool' && !path.sub.length) {
    const b = value === true || value === 'true' || value === 1 ? 1 : value === false || value === 'false' || value === 0 ? 0 : undefined;
    if (b === undefined) throw apiError('fields_value_error', 'expected a boolean', { field, value: JSON.stringify(value) });
    return sql`${(op as { expr: Sql }).expr} = ${b}`;
  }
  if (path.sub.length && path.rule?.value === 'json') {
    const values = Array.isArray(value) ? value : [value];
    return or(values.map((v) => d.jsonEquals(path.column, path.sub, v)));
  }
  if (op.kind !== 'scalar') return d.anyOf(op, Array.isArray(value) ? value : [value]);
  return Array.isArray(value) ? d.anyOf(op, value) : sql`${op.expr} = ${value}`;
}

/** `_any_` / `_all_` (aliases `_or_` / `_and_`): one case-insensitive pattern, or one datetime condition, over several fields. */
function multiFieldCondition(d: Dialect, entity: EntitySpec, key: string, value: unknown): Sql | undefined {
  if (!isPlainObject(value) || (value.fields !== undefined && value.fields !== null && !Array.isArray(value.fields))) {
    throw apiError('validation_error', 'incorrect field format', { field: key });
  }
  const fields = (value.fields ?? []) as unknown[];
  const pattern = value.pattern ?? null;
  const datetime = value.datetime ?? null;
  if (pattern !== null && datetime !== null) throw apiError('validation_error', 'only one of pattern or datetime can be given', { field: key });
  if (!fields.length || (pattern === null && datetime === null)) return undefined;
  if (fields.some((f) => typeof f !== 'string')) throw apiError('validation_error', 'fields must be strings', { field: key });
  if (pattern !== null && typeof pattern !== 'string') throw apiError('validation_error', 'pattern must be a string', { field: key });
  const parts = (fields as string[]).map((f) => {
    const path = resolvePath(entity, f);
    if (!path) return FALSE;
    const op = operandOf(d, path);
    if (pattern !== null) return d.regex(op, pattern as string, true);
    return datetimeCondition(op, f, datetime) ?? FALSE;
  });
  return key === '_any_' || key === '_or_' ? or(parts) : and(parts);
}

/**
 * `filters: {tags: {any: {include, exclude}, all: {include, exclude}, op}}` (v2.27): `any.include` holds one,
 * `any.exclude` misses one, `all.include` holds all, `all.exclude` holds none. A null among the values means
 * empty (include) or not empty (exclude).
 */
function filtersCondition(d: Dialect, entity: EntitySpec, value: unknown): Sql[] {
  if (!isPlainObject(value)) throw apiError('validation_error', 'filters must be an object');
  const conditions: Sql[] = [];
  for (const [field, spec] of Object.entries(value)) {
    if (spec === null || spec === undefined) continue;
    const path = resolvePath(entity, field);
    const kind = path ? (path.sub.length ? path.rule?.filter : path.spec.filter) : undefined;
    if (!path || kind !== 'list') throw apiError('validation_error', 'filters apply to list fields only', { field });
    if (!isPlainObject(spec)) throw apiError('validation_error', 'a field filter must be an object', { field });
    const op = operandOf(d, path);
    const parts: Sql[] = [];
    for (const mode of ['any', 'all'] as const) {
      const group = spec[mode];
      if (group === null || group === undefined) continue;
      if (!isPlainObject(group)) throw apiError('validation_error', `filters.${field}.${mode} must be an object`);
      const include = valuesOf(field, group.include);
      const exclude = valuesOf(field, group.exclude);
      const conds: Sql[] = [];
      if (include.values.length) conds.push(mode === 'any' ? d.anyOf(op, include.values) : d.allOf(op, include.values));
      if (include.hasNull) conds.push(d.empty(op));
      if (exclude.values.length) conds.push(mode === 'any' ? not(sql`coalesce(${d.allOf(op, exclude.values)}, false)`) : d.noneOf(op, exclude.values));
      if (exclude.hasNull) conds.push(not(d.empty(op)));
      if (conds.length) parts.push(mode === 'any' ? or(conds) : and(conds));
    }
    const combine = spec.op ?? 'and';
    if (combine !== 'and' && combine !== 'or') throw apiError('validation_error', 'op must be "and" or "or"', { field });
    if (parts.length) conditions.push(combine === 'or' ? or(parts) : and(parts));
  }
  return conditions;
}

function valuesOf(field: string, list: unknown): { values: string[]; hasNull: boolean } {
  if (list === null || list === undefined) return { values: [], hasNull: false };
  if (!Array.isArray(list)) throw apiError('validation_error', 'include and exclude must be lists', { field });
  return { values: list.filter((v) => v !== null).map((v) => scalarText(field, v)), hasNull: list.includes(null) };
}

function searchTextCondition(d: Dialect, entity: EntitySpec, value: unknown): Sql | undefined {
  if (typeof value !== 'string') throw apiError('validation_error', 'search_text must be a string');
  const text = value.trim();
  if (!text) return undefined;
  return or(entity.searchText.map((f) => d.contains(sql.ref(`t.${entity.fields[f]?.column ?? f}`), text)));
}
