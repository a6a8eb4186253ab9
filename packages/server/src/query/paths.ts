import { apiError } from '../api/errors.js';
import { escapeKey, unescapeKey } from '../util/keys.js';
import { pathRuleFor, type EntitySpec, type FieldSpec, type PathRule } from './spec.js';
import { column, type Dialect, type Operand } from './sql.js';

/** A dotted field path resolved against an entity: its top-level field and the stored (escaped) path below it. */
export interface ResolvedPath {
  field: string;
  spec: FieldSpec;
  column: string;
  /** Segments below the field, with map keys escaped as stored. */
  sub: string[];
  rule: PathRule | undefined;
}

/**
 * Splits `metadata.my key.value` and escapes the segments that are map keys. Clients may send those keys
 * escaped, half-escaped or plain (the web app half-escapes), so each is unescaped and then fully escaped.
 * Undefined when the top-level field is unknown, or when a path goes below a field that is not JSON.
 */
export function resolvePath(entity: EntitySpec, path: string): ResolvedPath | undefined {
  const [field, ...rest] = path.split('.');
  const spec = entity.fields[field!];
  if (!spec) return undefined;
  if (rest.length && spec.type !== 'json') return undefined;
  if (rest.some((s) => s === '')) return undefined;
  const rule = rest.length ? pathRuleFor(entity, field!, rest) : undefined;
  const sub = rest.map((s, i) => (rule?.escaped?.includes(i) ? escapeKey(unescapeKey(s)) : s));
  return { field: field!, spec, column: spec.column ?? field!, sub, rule };
}

/** Like `resolvePath`, but an unknown top-level field is the client's error (400/14). */
export function requirePath(entity: EntitySpec, path: string, what: string): ResolvedPath {
  const resolved = resolvePath(entity, path);
  if (!resolved) throw apiError('invalid_fields', `unknown ${what} field`, { field: path });
  return resolved;
}

/** What a filter tests for the path. */
export function operandOf(d: Dialect, p: ResolvedPath): Operand {
  if (!p.sub.length) {
    if (p.spec.type === 'stringList') return { kind: 'array', column: p.column };
    return { kind: 'scalar', expr: column(p.column), text: p.spec.type === 'string' || p.spec.type === 'date' };
  }
  const elementsOf = p.rule?.elementsOf;
  if (elementsOf) return { kind: 'objectArray', column: p.column, path: elementsOf.array, key: elementsOf.key };
  if (p.rule?.value === 'number') return { kind: 'scalar', expr: d.jsonNumber(p.column, p.sub), text: false };
  return { kind: 'scalar', expr: d.jsonText(p.column, p.sub), text: true };
}
