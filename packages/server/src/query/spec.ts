/**
 * How one table is seen by the get_all engine (clearml-api.md §4): its document fields, which of them
 * filter how, the JSON paths that take wildcard filters, and what the `_ex` calls join.
 */

/** How a column is stored and decoded. */
export type FieldType =
  /** text */
  | 'string'
  /** fixed-width ISO text (`isoDate`) */
  | 'date'
  /** integer or real */
  | 'number'
  /** 0/1 integer, returned as a boolean */
  | 'bool'
  /** JSON array of strings (tags, system_tags, path) */
  | 'stringList'
  /** any other JSON value */
  | 'json';

/** The filter kinds of clearml-api.md §4.1. */
export type FilterKind = 'pattern' | 'list' | 'range' | 'datetime' | 'equality';

/** Tables an `_ex` reference joins to. */
export type RefTarget = 'users' | 'projects' | 'tasks' | 'models' | 'companies';

export interface FieldSpec {
  /** The column holding the field (defaults to the field name). */
  column?: string;
  type: FieldType;
  filter?: FilterKind;
  /** False for NOT NULL columns: ordering on them needs no nulls-last key, so index walks stay possible. */
  nullable?: boolean;
  /** A reference to another entity, returned as an object by the `_ex` calls. */
  ref?: RefTarget;
  /** Returned only when named in `only_fields`. */
  defaultExcluded?: boolean;
}

/**
 * A rule for dotted paths inside a JSON column, e.g. `metadata.<key>.value` or `last_metrics.<m>.<v>.value`.
 * `sub` fixes the path below the field (exact match); without it the rule covers every path below it.
 */
export interface PathRule {
  field: string;
  sub?: readonly string[];
  filter?: FilterKind;
  /** How the value at the path compares: as text, as a number, or as a JSON value. */
  value: 'text' | 'number' | 'json';
  /** Positions (0 = first segment below the field) that are escaped map keys (clearml-api.md §7 item 7). */
  escaped?: readonly number[];
  /** Order text values numerically when they are numbers ("10" after "9"). */
  numericOrder?: boolean;
  /** The path runs through an array of objects: `models.input.model` is `key` of each element of `array`. */
  elementsOf?: { array: readonly string[]; key: string };
}

export interface EntitySpec {
  /** Singular name used in messages ("model"). */
  readonly name: string;
  readonly table: 'models' | 'tasks' | 'projects' | 'queues';
  readonly fields: Readonly<Record<string, FieldSpec>>;
  readonly paths: readonly PathRule[];
  /** Fields computed by the handler (`stats`, `sub_projects`, ...): accepted in `only_fields`, never selected. */
  readonly virtualFields?: readonly string[];
  /** Fields `search_text` looks in (case-insensitive substring). */
  readonly searchText: readonly string[];
  /** Rows with system tag `hidden` are left out unless `search_hidden` or an `id` filter is given. */
  readonly hideHidden?: boolean;
  /** The project reference that `include_subprojects` expands. */
  readonly projectField?: string;
  /** Order when the request gives none; `id` is always appended. */
  readonly defaultOrder: readonly string[];
}

export function columnOf(spec: EntitySpec, field: string): string {
  const f = spec.fields[field];
  if (!f) throw new Error(`${spec.name} has no field ${field}`);
  return f.column ?? field;
}

/** The rule covering `field.sub...`, most specific first. */
export function pathRuleFor(spec: EntitySpec, field: string, sub: readonly string[]): PathRule | undefined {
  let best: PathRule | undefined;
  for (const rule of spec.paths) {
    if (rule.field !== field) continue;
    if (rule.sub) {
      if (rule.sub.length === sub.length && rule.sub.every((s, i) => s === sub[i])) return rule;
    } else if (!best) {
      best = rule;
    }
  }
  return best;
}
