import { sql } from 'kysely';
import { projects } from '@cairn/protocol';
import type { CallContext } from '../../api/context.js';
import { defineHandler } from '../../api/handler.js';
import { escapeKey, unescapeKey } from '../../util/keys.js';
import { Dialect, MAX_PAGE_SIZE, and, column, compileFilters, modelsEntity, type Sql } from '../../query/index.js';
import { withSubprojects } from './tree.js';

/** Models of the caller's company (and public ones), optionally within projects and their sub-projects. */
async function modelScope(ctx: CallContext, projectIds: readonly string[] | null | undefined, includeSubprojects: boolean): Promise<Sql[]> {
  const scope: Sql[] = [sql`${column('company')} in (${ctx.company}, '')`];
  if (projectIds?.length) {
    const ids = includeSubprojects ? await withSubprojects(ctx, projectIds) : [...projectIds];
    scope.push(sql`${column('project')} in (${sql.join(ids)})`);
  }
  return scope;
}

/** Rows of `v`, one per element of a JSON array column of `t`, for a lateral read over many rows. */
function arrayValues(d: Dialect, col: string): Sql {
  return d.pg ? sql`cross join lateral jsonb_array_elements_text(case when jsonb_typeof(${column(col)}) = 'array' then ${column(col)} else '[]'::jsonb end) as e(v)` : sql`join json_each(${column(col)}) as e`;
}

/** projects.get_model_tags: distinct tags (and system tags when asked) of the models, sorted. */
export const getModelTags = defineHandler(projects.get_model_tags, async (ctx, req) => {
  const d = new Dialect(ctx.db.dialect);
  const where = and([...(await modelScope(ctx, req.projects, true)), ...compileFilters(d, modelsEntity, { tags: req.filter?.tags, system_tags: req.filter?.system_tags })]);
  const distinct = async (col: string) => {
    const value = d.pg ? sql`e.v` : sql`e.value`;
    const { rows } = await sql<{ v: string }>`select distinct ${value} as v from models as t ${arrayValues(d, col)} where ${where} order by 1`.execute(ctx.db.kysely);
    return rows.map((r) => r.v);
  };
  const tags = await distinct('tags');
  return req.include_system ? { tags, system_tags: await distinct('system_tags') } : { tags };
});

function pageOf(page: number | null | undefined, pageSize: number | null | undefined) {
  const size = Math.min(pageSize ?? MAX_PAGE_SIZE, MAX_PAGE_SIZE);
  return { offset: (page ?? 0) * size, size };
}

/** projects.get_model_metadata_keys: distinct metadata keys of a project's models (a page of them, with the total). */
export const getModelMetadataKeys = defineHandler(projects.get_model_metadata_keys, async (ctx, req) => {
  const d = new Dialect(ctx.db.dialect);
  const where = and(await modelScope(ctx, [req.project], req.include_subprojects ?? true));
  const keys = d.pg ? sql`select distinct k from models as t cross join lateral jsonb_object_keys(case when jsonb_typeof(t.metadata) = 'object' then t.metadata else '{}'::jsonb end) as k where ${where}` : sql`select distinct e.key as k from models as t join json_each(t.metadata) as e where ${where}`;
  const { offset, size } = pageOf(req.page, req.page_size);
  const { rows } = await sql<{ k: string }>`select k from (${keys}) as keys order by k limit ${size} offset ${offset}`.execute(ctx.db.kysely);
  const { rows: count } = await sql<{ n: number }>`select count(*) as n from (${keys}) as keys`.execute(ctx.db.kysely);
  const total = Number(count[0]?.n ?? 0);
  return { keys: rows.map((r) => unescapeKey(r.k)), remaining: Math.max(0, total - offset - rows.length), total };
});

/** projects.get_model_metadata_values: distinct values of one metadata key (a page of them, with the total). */
export const getModelMetadataValues = defineHandler(projects.get_model_metadata_values, async (ctx, req) => {
  const d = new Dialect(ctx.db.dialect);
  const scope = await modelScope(ctx, req.projects, req.include_subprojects ?? true);
  if (req.allow_public === false) scope[0] = sql`${column('company')} = ${ctx.company}`;
  const value = d.jsonText('metadata', [escapeKey(req.key), 'value']);
  const values = sql`select distinct ${value} as v from models as t where ${and(scope)} and ${value} is not null`;
  const { offset, size } = pageOf(req.page, req.page_size);
  const { rows } = await sql<{ v: string }>`select v from (${values}) as vals order by v limit ${size} offset ${offset}`.execute(ctx.db.kysely);
  const { rows: count } = await sql<{ n: number }>`select count(*) as n from (${values}) as vals`.execute(ctx.db.kysely);
  return { total: Number(count[0]?.n ?? 0), values: rows.map((r) => String(r.v)) };
});
