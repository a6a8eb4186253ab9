import { sql } from 'kysely';
import { apiError } from '../api/errors.js';
import type { EntitySpec } from './spec.js';
import { resolvePath } from './paths.js';
import { column, type Dialect, type Sql } from './sql.js';

/**
 * `order_by: ["-last_update", "name"]` → ORDER BY keys (clearml-api.md §4.3): `-` means descending, `id`
 * is appended so paging is stable, rows without a value sort last, and `metadata.*`, `hyperparams.*` and
 * `last_metrics.*` sort numbers numerically. An unknown field is the client's error (400/14).
 */
export function compileOrder(d: Dialect, entity: EntitySpec, orderBy: unknown): Sql[] {
  const given = orderBy === null || orderBy === undefined ? [] : Array.isArray(orderBy) ? orderBy : [orderBy];
  if (given.some((o) => typeof o !== 'string')) throw apiError('invalid_fields', 'order_by must hold field names');
  let fields = (given as string[]).filter((f) => f && f !== '@text_score' && f !== '-@text_score');
  if (!fields.length) fields = [...entity.defaultOrder];
  // `id` makes the order total, so pages never overlap. It follows the first key's direction, so one
  // (company, <field>, id) index serves the whole ORDER BY in either direction.
  if (!fields.some((f) => f === 'id' || f === '-id')) fields.push(fields[0]!.startsWith('-') ? '-id' : 'id');
  const keys: Sql[] = [];
  for (const entry of fields) {
    const desc = entry.startsWith('-');
    const name = desc ? entry.slice(1) : entry;
    const dir = desc ? sql`desc` : sql`asc`;
    const { exprs, nullable } = orderExpressions(d, entity, name);
    if (nullable) keys.push(sql`(${exprs[exprs.length - 1]!} is null) asc`);
    for (const e of exprs) keys.push(sql`${e} ${dir}`);
  }
  return keys;
}

function orderExpressions(d: Dialect, entity: EntitySpec, name: string): { exprs: Sql[]; nullable: boolean } {
  const [field, ...rest] = name.split('.');
  const spec = entity.fields[field!];
  if (spec?.ref && rest.length === 1 && rest[0] === 'name') {
    return { exprs: [sql`(select r.name from ${sql.table(spec.ref)} as r where r.id = ${column(spec.column ?? field!)})`], nullable: true };
  }
  const path = resolvePath(entity, name);
  if (!path) throw apiError('invalid_fields', 'unknown field in order_by', { field: name });
  if (!path.sub.length) return { exprs: [column(path.column)], nullable: path.spec.nullable !== false };
  if (path.rule?.value === 'number') return { exprs: [d.jsonNumber(path.column, path.sub)], nullable: true };
  const text = d.jsonText(path.column, path.sub);
  return { exprs: path.rule?.numericOrder ? d.numericAwareKeys(text) : [text], nullable: true };
}
