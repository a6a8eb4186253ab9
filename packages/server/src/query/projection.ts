import { apiError } from '../api/errors.js';
import { isPlainObject } from '../util/json.js';
import { resolvePath } from './paths.js';
import type { EntitySpec } from './spec.js';

export type Doc = Record<string, unknown>;

/** `only_fields` / `projection` resolved against an entity (clearml-api.md §4.2). */
export interface Projection {
  /** Stored paths to keep (`[field, ...sub]`); empty means every field not excluded by default. */
  include: string[][];
  /** Stored paths to drop. */
  exclude: string[][];
  /** Columns to select. */
  columns: string[];
  /** Virtual fields (computed by the handler) that were asked for. */
  virtual: Set<string>;
  /** Per reference field, the sub-fields asked for (`user.name` → user: [["name"]]); `[]` for the bare field. */
  refs: Map<string, string[][]>;
}

/** Parses `only_fields`; an unknown top-level field is the client's error (400/14). */
export function compileProjection(entity: EntitySpec, onlyFields: unknown): Projection {
  if (onlyFields !== null && onlyFields !== undefined && !Array.isArray(onlyFields)) throw apiError('validation_error', 'only_fields must be a list of field names');
  const include: string[][] = [];
  const exclude: string[][] = [];
  const virtual = new Set<string>();
  const refs = new Map<string, string[][]>();
  for (const raw of (onlyFields ?? []) as unknown[]) {
    if (typeof raw !== 'string') throw apiError('invalid_fields', 'only_fields must be strings');
    const excluded = raw.startsWith('-');
    const name = excluded ? raw.slice(1) : raw;
    if (!name) continue;
    const [field, ...rest] = name.split('.');
    const spec = entity.fields[field!];
    if (!spec) {
      if (entity.virtualFields?.includes(field!)) {
        if (!excluded) virtual.add(field!);
        continue;
      }
      throw apiError('invalid_fields', 'unknown field in only_fields', { field: name });
    }
    let path: string[];
    if (rest.length && spec.type === 'json') {
      const resolved = resolvePath(entity, name);
      path = resolved ? [field!, ...resolved.sub] : [field!];
    } else {
      path = [field!];
      if (spec.ref && !excluded) {
        const subs = refs.get(field!) ?? [];
        if (rest.length) subs.push(rest);
        refs.set(field!, subs);
      }
    }
    (excluded ? exclude : include).push(path);
  }
  const selected = new Set<string>(['id']);
  if (include.length) {
    for (const p of include) selected.add(p[0]!);
  } else {
    for (const [field, spec] of Object.entries(entity.fields)) if (!spec.defaultExcluded) selected.add(field);
  }
  for (const p of exclude) if (p.length === 1 && p[0] !== 'id') selected.delete(p[0]!);
  const columns = [...selected].map((f) => entity.fields[f]!.column ?? f);
  if (!include.length) {
    // With no include list, every reference field is returned (as `{id}` in the `_ex` calls).
    for (const [field, spec] of Object.entries(entity.fields)) if (spec.ref && selected.has(field) && !refs.has(field)) refs.set(field, []);
  }
  return { include, exclude, columns, virtual, refs };
}

/** Keeps the included paths of a decoded document and drops the excluded ones. */
export function applyProjection(doc: Doc, projection: Projection): Doc {
  let out: Doc = doc;
  if (projection.include.length) {
    out = { id: doc.id };
    // Shorter paths first: a path already taken makes its sub-paths redundant.
    const taken: string[][] = [];
    for (const path of [...projection.include].sort((a, b) => a.length - b.length)) {
      if (taken.some((t) => t.every((s, i) => path[i] === s))) continue;
      taken.push(path);
      pick(doc, out, path);
    }
  }
  for (const path of projection.exclude) drop(out, path);
  return out;
}

function pick(src: unknown, dst: Doc, path: readonly string[]): void {
  const [head, ...rest] = path;
  if (!isPlainObject(src) || !(head! in src)) return;
  const value = src[head!];
  if (!rest.length) {
    dst[head!] = value;
    return;
  }
  if (Array.isArray(value)) {
    // A path through an array of objects projects each element (`models.output.model`).
    const existing = Array.isArray(dst[head!]) ? (dst[head!] as unknown[]) : value.map(() => ({}));
    value.forEach((el, i) => {
      if (isPlainObject(el) && isPlainObject(existing[i])) pick(el, existing[i] as Doc, rest);
    });
    dst[head!] = existing;
    return;
  }
  if (!isPlainObject(value)) return;
  const target = isPlainObject(dst[head!]) ? (dst[head!] as Doc) : {};
  pick(value, target, rest);
  if (Object.keys(target).length) dst[head!] = target;
}

function drop(doc: unknown, path: readonly string[]): void {
  if (Array.isArray(doc)) {
    for (const el of doc) drop(el, path);
    return;
  }
  if (!isPlainObject(doc)) return;
  const [head, ...rest] = path;
  if (!rest.length) {
    if (head !== 'id') delete doc[head!];
    return;
  }
  drop(doc[head!], rest);
}
