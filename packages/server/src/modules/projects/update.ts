import { sql } from 'kysely';
import { projects } from '@cairn/protocol';
import type { CallContext } from '../../api/context.js';
import { apiError } from '../../api/errors.js';
import { defineHandler } from '../../api/handler.js';
import type { Db } from '../../db/database.js';
import { toJson } from '../../util/json.js';
import { isoDate } from '../../util/time.js';
import { Dialect } from '../../query/index.js';
import { conformTags } from '../models/common.js';
import { splitProjectName, type ProjectRow } from './tree.js';

/** A project of the caller's company for writing: unknown → 400/401, public → 403/21. */
export async function loadWritableProject(ctx: CallContext, id: string, db: Db = ctx.db): Promise<ProjectRow> {
  const row = await db.kysely.selectFrom('projects').selectAll().where('id', '=', id).where('company', 'in', [ctx.company, '']).executeTakeFirst();
  if (!row) throw apiError('invalid_project_id', undefined, { id });
  if (row.company !== ctx.company) throw apiError('no_write_permission', `cannot modify public project(s), ids=(${id},)`);
  return row;
}

/**
 * projects.update. A rename may change only the last path segment (moving is 400/408); sub-projects are
 * renamed with it.
 */
export const updateProject = defineHandler(projects.update, (ctx, req) =>
  ctx.db.transaction(async (db) => {
    const project = await loadWritableProject(ctx, req.project, db);
    const fields: Record<string, unknown> = {};
    if (req.description !== undefined && req.description !== null) fields.description = req.description;
    if (req.default_output_destination !== undefined && req.default_output_destination !== null) fields.default_output_destination = req.default_output_destination;
    if (req.tags) fields.tags = conformTags('tags', req.tags);
    if (req.system_tags) fields.system_tags = conformTags('system_tags', req.system_tags);
    let rename: { name: string; basename: string } | undefined;
    if (req.name) {
      const next = splitProjectName(req.name);
      const current = splitProjectName(project.name);
      if (next.location !== current.location) throw apiError('cannot_update_project_location', undefined, { name: next.name });
      if (next.name !== project.name) {
        const clash = await db.kysely.selectFrom('projects').select('id').where('company', '=', ctx.company).where('name', '=', next.name).executeTakeFirst();
        if (clash) throw apiError('expected_unique_data', 'Project with the same name already exists', { name: next.name });
        rename = { name: next.name, basename: next.basename };
      }
      fields.name = next.name;
      fields.basename = next.basename;
    }
    const now = isoDate(ctx.services.clock.now());
    const set: Record<string, unknown> = { last_update: now };
    for (const [k, v] of Object.entries(fields)) set[k] = k === 'tags' || k === 'system_tags' ? toJson(v) : v;
    await db.kysely.updateTable('projects').set(set).where('id', '=', project.id).execute();
    if (rename) {
      const d = new Dialect(db.dialect);
      // Every descendant's full name starts with the old name: swap that prefix.
      await sql`update projects set name = ${rename.name} || substr(name, ${project.name.length + 1}) where id in (select t.id from projects as t where t.company = ${ctx.company} and ${d.anyOf({ kind: 'array', column: 'path' }, [project.id])})`.execute(db.kysely);
    }
    return { updated: 1, fields: { ...fields, last_update: now } };
  }),
);
