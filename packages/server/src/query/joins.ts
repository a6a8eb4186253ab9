import { sql } from 'kysely';
import type { CallContext } from '../api/context.js';
import { decodeRow } from './documents.js';
import { modelsEntity, projectsEntity, tasksEntity } from './entities.js';
import { applyProjection, type Doc, type Projection } from './projection.js';
import type { EntitySpec, RefTarget } from './spec.js';

/** Columns of the tables without an entity spec that a join may return. */
const PLAIN_COLUMNS: Readonly<Record<'users' | 'companies', readonly string[]>> = {
  users: ['id', 'name', 'given_name', 'family_name', 'avatar', 'created', 'role'],
  companies: ['id', 'name'],
};

const ENTITY_OF: Readonly<Record<Exclude<RefTarget, 'users' | 'companies'>, EntitySpec>> = {
  projects: projectsEntity,
  tasks: tasksEntity,
  models: modelsEntity,
};

/**
 * The `_ex` form (clearml-api.md §4.4): every reference field becomes an object, `{id}` plus the sub-fields
 * asked for (`user.name` → `{id, name}`). One batched lookup per reference field for the whole page;
 * references that resolve to nothing stay `{id}`.
 */
export async function expandReferences(ctx: CallContext, entity: EntitySpec, docs: Doc[], projection: Projection): Promise<void> {
  for (const [field, subs] of projection.refs) {
    const target = entity.fields[field]?.ref;
    if (!target) continue;
    const ids = [...new Set(docs.map((d) => d[field]).filter((v): v is string => typeof v === 'string' && v !== ''))];
    const found = subs.length && ids.length ? await lookup(ctx, target, ids, subs) : new Map<string, Doc>();
    for (const doc of docs) {
      const id = doc[field];
      if (typeof id !== 'string') continue;
      doc[field] = { ...found.get(id), id };
    }
  }
}

async function lookup(ctx: CallContext, target: RefTarget, ids: string[], subs: string[][]): Promise<Map<string, Doc>> {
  const out = new Map<string, Doc>();
  if (target === 'users' || target === 'companies') {
    const allowed = PLAIN_COLUMNS[target];
    const cols = [...new Set(subs.map((s) => s[0]!).filter((c) => allowed.includes(c)))];
    const scope = target === 'users' ? sql`and r.company = ${ctx.company}` : sql`and r.id = ${ctx.company}`;
    const { rows } = await sql<Record<string, unknown>>`select ${sql.join(['id', ...cols].map((c) => sql.ref(`r.${c}`)))} from ${sql.table(target)} as r where r.id in (${sql.join(ids)}) ${scope}`.execute(ctx.db.kysely);
    for (const row of rows) {
      const doc: Doc = {};
      for (const c of cols) if (row[c] !== null && row[c] !== undefined) doc[c] = row[c];
      out.set(String(row.id), doc);
    }
    return out;
  }
  const entity = ENTITY_OF[target];
  const include = subs.filter((s) => entity.fields[s[0]!]);
  if (!include.length) return out;
  const projection: Projection = {
    include,
    exclude: [],
    columns: [...new Set(['id', ...include.map((s) => entity.fields[s[0]!]!.column ?? s[0]!)])],
    virtual: new Set(),
    refs: new Map(),
  };
  const { rows } = await sql<Record<string, unknown>>`select ${sql.join(projection.columns.map((c) => sql.ref(`r.${c}`)))} from ${sql.table(target)} as r where r.id in (${sql.join(ids)}) and r.company in (${ctx.company}, '')`.execute(ctx.db.kysely);
  for (const row of rows) {
    const doc = applyProjection(decodeRow(entity, row), projection);
    delete doc.id;
    out.set(String(row.id), doc);
  }
  return out;
}
