import { sql } from 'kysely';
import { projects, TASK_STATUSES, type ParsedRequestOf } from '@cairn/protocol';
import type { CallContext } from '../../api/context.js';
import { apiError } from '../../api/errors.js';
import { defineHandler } from '../../api/handler.js';
import { fromJson } from '../../util/json.js';
import { Dialect, column, listEntities, projectsEntity, type Doc, type Sql } from '../../query/index.js';
import { ARCHIVED_TAG } from '../models/common.js';

/** projects.get_by_id: a company or public project; unknown → 400/401. */
export const getProjectById = defineHandler(projects.get_by_id, async (ctx, req) => {
  const { items } = await listEntities(ctx, projectsEntity, { id: [req.project] });
  if (!items[0]) throw apiError('invalid_project_id', undefined, { id: req.project });
  return { project: items[0] as { id: string } };
});

/** `shallow_search`: only the top level, or the children of the `parent` filter when given. */
function shallowCondition(req: { shallow_search?: boolean | null; parent?: unknown }): Sql[] {
  return req.shallow_search && (req.parent === undefined || req.parent === null) ? [sql`${column('parent')} is null`] : [];
}

/** projects.get_all: §4 filters (the SDK finds a project by `name: "^<escaped>$"`). */
export const getAllProjects = defineHandler(projects.get_all, async (ctx, req) => {
  const { items, scroll_id } = await listEntities(ctx, projectsEntity, req, { where: shallowCondition(req) });
  return { projects: items as { id: string }[], ...(scroll_id ? { scroll_id } : {}) };
});

/**
 * projects.get_all_ex: reference fields joined; with `check_own_contents` or `include_stats`, each project
 * gets `sub_projects` and its own task and model counts; `include_stats` adds task counts per status over
 * the project and its sub-projects.
 */
export const getAllProjectsEx = defineHandler(projects.get_all_ex, async (ctx, req) => {
  const allowPublic = req.non_public ? false : (req.allow_public ?? true);
  const state = req.stats_for_state === undefined ? 'active' : req.stats_for_state || null;
  if (state !== null && state !== 'active' && state !== 'archived') throw apiError('fields_value_error', undefined, { stats_for_state: state });
  const { items, scroll_id } = await listEntities(ctx, projectsEntity, req, { expandRefs: true, allowPublic, where: shallowCondition(req) });
  if (items.length && (req.check_own_contents || req.include_stats)) await addContents(ctx, items, req, state);
  return { projects: items as { id: string }[], ...(scroll_id ? { scroll_id } : {}) };
});

type ExRequest = ParsedRequestOf<typeof projects.get_all_ex>;
type Section = 'active' | 'archived';

interface Counts {
  status: Record<string, number>;
  runtime: number;
  models: number;
}

/**
 * Counts for the page's projects, in three grouped queries: the projects' descendants, then tasks and
 * models grouped by project (and status, and archived-ness). Subtree totals are summed here.
 */
async function addContents(ctx: CallContext, items: Doc[], req: ExRequest, state: Section | null): Promise<void> {
  const d = new Dialect(ctx.db.dialect);
  const ids = items.map((p) => p.id as string);
  const { rows: descendants } = await sql<{ id: string; name: string; path: unknown }>`select t.id, t.name, t.path from projects as t where t.company in (${ctx.company}, '') and ${d.anyOf({ kind: 'array', column: 'path' }, ids)} order by t.name`.execute(ctx.db.kysely);
  const all = [...new Set([...ids, ...descendants.map((r) => r.id)])];
  const archived = d.anyOf({ kind: 'array', column: 'system_tags' }, [ARCHIVED_TAG]);
  const archivedFlag = sql`(case when ${archived} then 1 else 0 end)`;
  // Only training and testing tasks count toward run time (as in ClearML).
  const runtime =
    ctx.db.dialect === 'postgres'
      ? sql`sum(case when t.type in ('training', 'testing') and t.started is not null and t.completed > t.started then floor(extract(epoch from (t.completed::timestamptz - t.started::timestamptz))) else 0 end)`
      : sql`sum(case when t.type in ('training', 'testing') and t.started is not null and t.completed > t.started then cast((julianday(substr(t.completed, 1, 26)) - julianday(substr(t.started, 1, 26))) * 86400 as integer) else 0 end)`;
  const { rows: taskRows } = await sql<{ project: string; status: string; archived: number; n: number; runtime: number | null }>`select t.project, t.status, ${archivedFlag} as archived, count(*) as n, ${runtime} as runtime from tasks as t where t.company in (${ctx.company}, '') and t.project in (${sql.join(all)}) group by 1, 2, 3`.execute(ctx.db.kysely);
  const { rows: modelRows } = await sql<{ project: string; archived: number; n: number }>`select t.project, ${archivedFlag} as archived, count(*) as n from models as t where t.company in (${ctx.company}, '') and t.project in (${sql.join(all)}) group by 1, 2`.execute(ctx.db.kysely);

  const own = new Map<string, Record<Section, Counts>>();
  const countsOf = (project: string) => {
    let c = own.get(project);
    if (!c) own.set(project, (c = { active: emptyCounts(), archived: emptyCounts() }));
    return c;
  };
  for (const r of taskRows) {
    const c = countsOf(r.project)[Number(r.archived) ? 'archived' : 'active'];
    c.status[r.status] = (c.status[r.status] ?? 0) + Number(r.n);
    c.runtime += Number(r.runtime ?? 0);
  }
  for (const r of modelRows) countsOf(r.project)[Number(r.archived) ? 'archived' : 'active'].models += Number(r.n);

  const childrenOf = new Map<string, { id: string; name: string }[]>();
  for (const row of descendants) {
    for (const ancestor of fromJson<string[]>(row.path, [])) {
      if (!ids.includes(ancestor)) continue;
      const list = childrenOf.get(ancestor) ?? [];
      list.push({ id: row.id, name: row.name });
      childrenOf.set(ancestor, list);
    }
  }
  const sections: Section[] = state === 'archived' ? ['archived'] : state === 'active' ? ['active'] : ['active', 'archived'];
  for (const item of items) {
    const id = item.id as string;
    const subtree = [id, ...(childrenOf.get(id) ?? []).map((c) => c.id)];
    item.sub_projects = childrenOf.get(id) ?? [];
    const mine = own.get(id);
    item.own_tasks = mine ? sum(Object.values(mine.active.status)) : 0;
    item.own_models = mine?.active.models ?? 0;
    if (!req.include_stats) continue;
    const stats: Record<string, unknown> = {};
    for (const section of sections) {
      const total = emptyCounts();
      for (const p of subtree) {
        const c = own.get(p)?.[section];
        if (!c) continue;
        for (const [status, n] of Object.entries(c.status)) total.status[status] = (total.status[status] ?? 0) + n;
        total.runtime += c.runtime;
        total.models += c.models;
      }
      stats[section] = {
        status_count: total.status,
        total_tasks: sum(Object.values(total.status)),
        total_runtime: total.runtime,
        total_models: total.models,
      };
    }
    item.stats = stats;
  }
}

function emptyCounts(): Counts {
  return { status: Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])), runtime: 0, models: 0 };
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
