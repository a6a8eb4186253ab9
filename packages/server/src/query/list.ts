import { sql } from 'kysely';
import type { CallContext } from '../api/context.js';
import { decodeRow } from './documents.js';
import { compileFilters } from './filters.js';
import { expandReferences } from './joins.js';
import { compileOrder } from './order.js';
import { resolveWindow, saveScroll } from './paging.js';
import { applyProjection, compileProjection, type Doc } from './projection.js';
import type { EntitySpec } from './spec.js';
import { Dialect, and, column, type Sql } from './sql.js';

export interface ListOptions {
  /** Return reference fields as objects with joined sub-fields (the `_ex` calls). */
  expandRefs?: boolean;
  /** Include public objects (`company == ""`); default true. */
  allowPublic?: boolean;
  /** Extra conditions on alias `t`, AND-ed with the request's filters. */
  where?: readonly Sql[];
  /** Final touch on each projected document (unescape map keys, legacy shapes, ...). */
  present?: (doc: Doc) => Doc;
}

export interface ListResult {
  items: Doc[];
  /** Set in scroll mode. */
  scroll_id?: string;
}

/**
 * The get_all engine (clearml-api.md §4): filters, projection, ordering, paging or scroll, and the `_ex`
 * joins, done in SQL. Only the requested page is read.
 */
export async function listEntities(ctx: CallContext, entity: EntitySpec, request: Record<string, unknown>, options: ListOptions = {}): Promise<ListResult> {
  const d = new Dialect(ctx.db.dialect);
  const projection = compileProjection(entity, request.only_fields ?? request.projection);
  const order = compileOrder(d, entity, request.order_by);
  const where = await buildCondition(ctx, d, entity, request, options);
  const window = await resolveWindow(ctx, request);
  const query = sql<Record<string, unknown>>`select ${sql.join(projection.columns.map((c) => column(c)))} from ${sql.table(entity.table)} as t where ${where} order by ${sql.join(order)} limit ${window.limit} offset ${window.offset}`;
  const { rows } = await query.execute(ctx.db.kysely);
  let items = rows.map((row) => applyProjection(decodeRow(entity, row), projection));
  if (options.present) items = items.map(options.present);
  if (options.expandRefs) await expandReferences(ctx, entity, items, projection);
  const scrollId = await saveScroll(ctx, window, rows.length);
  return scrollId === undefined ? { items } : { items, scroll_id: scrollId };
}

async function buildCondition(ctx: CallContext, d: Dialect, entity: EntitySpec, request: Record<string, unknown>, options: Pick<ListOptions, 'allowPublic' | 'where'>): Promise<Sql> {
  const body = await expandSubprojects(ctx, d, entity, request);
  return and([
    await scopeCondition(ctx, entity, options.allowPublic ?? true),
    ...compileFilters(d, entity, body),
    ...(entity.hideHidden && !body.search_hidden && !hasIdFilter(body) ? [d.noneOf({ kind: 'array', column: 'system_tags' }, ['hidden'])] : []),
    ...(options.where ?? []),
  ]);
}

function hasIdFilter(body: Record<string, unknown>): boolean {
  const id = body.id;
  return typeof id === 'string' ? id !== '' : Array.isArray(id) && id.length > 0;
}

/**
 * The caller's company, plus public objects when allowed. Public rows are rare, so when there are none the
 * condition is a plain equality that lets the (company, <order field>) indexes serve ordered reads.
 */
async function scopeCondition(ctx: CallContext, entity: EntitySpec, allowPublic: boolean): Promise<Sql> {
  if (allowPublic) {
    const { rows } = await sql`select 1 as one from ${sql.table(entity.table)} where company = '' limit 1`.execute(ctx.db.kysely);
    if (rows.length) return sql`${column('company')} in (${ctx.company}, '')`;
  }
  return sql`${column('company')} = ${ctx.company}`;
}

/** `include_subprojects` with a project filter: each project id also stands for all its descendants. */
async function expandSubprojects(ctx: CallContext, d: Dialect, entity: EntitySpec, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const field = entity.projectField;
  if (!field || !body.include_subprojects || body[field] === null || body[field] === undefined) return body;
  const given = Array.isArray(body[field]) ? (body[field] as unknown[]) : [body[field]];
  const ids = given.filter((v): v is string => typeof v === 'string' && v !== '' && !v.startsWith('-') && !v.startsWith('__$'));
  if (!ids.length) return body;
  const { rows } = await sql<{ id: string }>`select t.id from projects as t where t.company in (${ctx.company}, '') and ${d.anyOf({ kind: 'array', column: 'path' }, ids)}`.execute(ctx.db.kysely);
  const extra = rows.map((r) => r.id).filter((id) => !given.includes(id));
  return { ...body, [field]: [...given, ...extra] };
}
