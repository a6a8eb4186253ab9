import { sql, type Insertable, type Selectable } from 'kysely';
import type { CallContext } from '../../api/context.js';
import { apiError } from '../../api/errors.js';
import type { Db } from '../../db/database.js';
import type { ProjectsTable } from '../../db/schema.js';
import { newId } from '../../util/ids.js';
import { fromJson, toJson } from '../../util/json.js';
import { isoDate } from '../../util/time.js';
import { Dialect } from '../../query/index.js';

export type ProjectRow = Selectable<ProjectsTable>;

/** Project names are paths: `a/b/c` is project `c` under `b` under `a`. */
export const NAME_SEPARATOR = '/';
/** ClearML's document validation: names shorter than this are refused (400/800). */
export const MIN_PROJECT_NAME_LENGTH = 3;
/** Deepest nesting of projects (ClearML's `services.projects.sub_projects.max_depth` default). */
export const MAX_PROJECT_DEPTH = 10;

/** Drops redundant separators: `/a//b/` → `{name: "a/b", location: "a"}`. Nothing left → 400/407. */
export function splitProjectName(raw: string): { name: string; location: string; basename: string } {
  const parts = raw.split(NAME_SEPARATOR).map((p) => p.trim()).filter(Boolean);
  if (!parts.length) throw apiError('invalid_project_name', undefined, { name: raw });
  if (parts.length > MAX_PROJECT_DEPTH) throw apiError('invalid_project_name', `project path exceeds the maximum depth of ${MAX_PROJECT_DEPTH}`, { name: raw });
  const name = parts.join(NAME_SEPARATOR);
  if (name.length < MIN_PROJECT_NAME_LENGTH) {
    throw apiError('data_validation_error', `project name is shorter than ${MIN_PROJECT_NAME_LENGTH} characters`, { field: 'name', value: raw });
  }
  return { name, location: parts.slice(0, -1).join(NAME_SEPARATOR), basename: parts[parts.length - 1]! };
}

/** The given project ids and the ids of all their descendants (own and public projects). */
export async function withSubprojects(ctx: CallContext, ids: readonly string[], db: Db = ctx.db): Promise<string[]> {
  if (!ids.length) return [];
  const d = new Dialect(db.dialect);
  const { rows } = await sql<{ id: string }>`select t.id from projects as t where t.company in (${ctx.company}, '') and ${d.anyOf({ kind: 'array', column: 'path' }, ids)}`.execute(db.kysely);
  return [...new Set([...ids, ...rows.map((r) => r.id)])];
}

export interface NewProject {
  description?: string | null;
  tags?: string[];
  system_tags?: string[];
  default_output_destination?: string | null;
}

/**
 * Inserts project `name` below `parent` (already existing). Duplicate names are 400/801, checked before the
 * insert for ClearML's message; the unique index backs it up against races.
 */
export async function insertProject(ctx: CallContext, db: Db, name: string, parent: ProjectRow | undefined, fields: NewProject = {}): Promise<ProjectRow> {
  const existing = await db.kysely.selectFrom('projects').select('id').where('company', '=', ctx.company).where('name', '=', name).executeTakeFirst();
  if (existing) throw apiError('expected_unique_data', 'Project with the same name already exists', { name, company: ctx.company });
  const now = isoDate(ctx.services.clock.now());
  const row: Insertable<ProjectsTable> = {
    id: newId(),
    company: ctx.company,
    user: ctx.user,
    name,
    basename: name.split(NAME_SEPARATOR).pop()!,
    description: fields.description ?? '',
    tags: toJson(fields.tags ?? []),
    system_tags: toJson(fields.system_tags ?? []),
    default_output_destination: fields.default_output_destination ?? null,
    parent: parent?.id ?? null,
    path: toJson(parent ? [...pathOf(parent), parent.id] : []),
    featured: 9999,
    logo_url: null,
    created: now,
    last_update: now,
    company_origin: null,
  };
  await db.kysely.insertInto('projects').values(row).execute();
  if (parent) await db.kysely.updateTable('projects').set({ last_update: now }).where('id', '=', parent.id).execute();
  return row as ProjectRow;
}

/** The project called `name` in the caller's company, created with its missing parents when absent; root → undefined. */
export async function ensureProject(ctx: CallContext, db: Db, rawName: string): Promise<ProjectRow | undefined> {
  if (!rawName.split(NAME_SEPARATOR).some((p) => p.trim())) return undefined;
  const { name, location } = splitProjectName(rawName);
  const existing = await db.kysely.selectFrom('projects').selectAll().where('company', '=', ctx.company).where('name', '=', name).executeTakeFirst();
  if (existing) return existing;
  const parent = location ? await ensureProject(ctx, db, location) : undefined;
  return insertProject(ctx, db, name, parent);
}

export function pathOf(project: Pick<ProjectRow, 'path'>): string[] {
  const value = fromJson<unknown>(project.path, []);
  return Array.isArray(value) ? (value as string[]) : [];
}
