import { sql } from 'kysely';
import { projects } from '@cairn/protocol';
import { apiError } from '../../api/errors.js';
import { defineHandler } from '../../api/handler.js';
import type { Db } from '../../db/database.js';
import { fromJson, isPlainObject, toJson } from '../../util/json.js';
import { isoDate } from '../../util/time.js';
import { Dialect, type Sql } from '../../query/index.js';
import { ARCHIVED_TAG, DELETED_PREFIX } from '../models/common.js';
import { ownFileKey } from '../models/delete.js';
import { deleteEntitiesEvents } from '../events/index.js';
import { loadWritableProject } from './update.js';
import { withSubprojects } from './tree.js';

interface ModelEntry {
  model?: string;
}

/**
 * projects.delete (with its sub-projects). Without `force`, non-archived tasks (400/402) or models
 * (400/405) in the tree refuse the delete. Without `delete_contents` the contents move to the root;
 * with it they are deleted with their events, and tasks and models outside the tree that point at them are
 * fixed up as ClearML does (`__DELETED__` input models, detached creating tasks and parents).
 */
export const deleteProject = defineHandler(projects.delete, async (ctx, req) => {
  const result = await ctx.db.transaction(async (db) => {
    const project = await loadWritableProject(ctx, req.project, db);
    const ids = await withSubprojects(ctx, [project.id], db);
    const d = new Dialect(db.dialect);
    const inTree = sql`project in (${sql.join(ids)})`;
    const outsideTree = sql`(project is null or project not in (${sql.join(ids)}))`;
    if (!req.force) {
      const active = sql`company = ${ctx.company} and ${inTree} and not ${sql`coalesce(${d.anyOf({ kind: 'array', column: 'system_tags' }, [ARCHIVED_TAG])}, false)`}`;
      if (await exists(db, 'tasks', active)) throw apiError('project_has_tasks', 'use force=true to delete', { id: project.id });
      if (await exists(db, 'models', active)) throw apiError('project_has_models', 'use force=true to delete', { id: project.id });
    }
    let disassociated = 0;
    let deletedModels = 0;
    let deletedTasks = 0;
    const modelUrls: string[] = [];
    const artifactUrls: string[] = [];
    if (!req.delete_contents) {
      const tasks = await db.kysely.updateTable('tasks').set({ project: null }).where('company', '=', ctx.company).where('project', 'in', ids).executeTakeFirst();
      await db.kysely.updateTable('models').set({ project: null }).where('company', '=', ctx.company).where('project', 'in', ids).execute();
      disassociated = Number(tasks.numUpdatedRows);
    } else {
      const now = isoDate(ctx.services.clock.now());
      const models = await db.kysely.selectFrom('models').select(['id', 'uri', 'task']).where('company', '=', ctx.company).where('project', 'in', ids).execute();
      if (models.length) {
        const modelIds = new Set(models.map((m) => m.id));
        const inputs = d.anyOf({ kind: 'objectArray', column: 'models', path: ['input'], key: 'model' }, [...modelIds]);
        const users = await sql<{ id: string; models: unknown }>`select t.id, t.models from tasks as t where t.company = ${ctx.company} and ${outsideTree} and ${inputs}`.execute(db.kysely);
        for (const task of users.rows) {
          await rewriteModels(db, ctx.company, task.id, task.models, (v) => ({ ...v, input: (v.input ?? []).map((e) => (e.model && modelIds.has(e.model) ? { ...e, model: DELETED_PREFIX } : e)) }));
        }
        const creators = [...new Set(models.map((m) => m.task).filter((t): t is string => !!t))];
        if (creators.length) {
          const { rows } = await sql<{ id: string; status: string; models: unknown }>`select id, status, models from tasks where company = ${ctx.company} and id in (${sql.join(creators)}) and ${outsideTree}`.execute(db.kysely);
          for (const task of rows) {
            await rewriteModels(db, ctx.company, task.id, task.models, (v) => ({
              ...v,
              output:
                task.status === 'published'
                  ? (v.output ?? []).map((e) => (e.model && modelIds.has(e.model) ? { ...e, model: DELETED_PREFIX } : e))
                  : (v.output ?? []).filter((e) => !e.model || !modelIds.has(e.model)),
            }), now);
          }
        }
        const res = await db.kysely.deleteFrom('models').where('company', '=', ctx.company).where('project', 'in', ids).executeTakeFirst();
        deletedModels = Number(res.numDeletedRows);
        await deleteEntitiesEvents(db, ctx.company, models.map((m) => m.id), true);
        modelUrls.push(...models.map((m) => m.uri).filter(Boolean));
      }
      const tasks = await db.kysely.selectFrom('tasks').select(['id', 'execution']).where('company', '=', ctx.company).where('project', 'in', ids).execute();
      if (tasks.length) {
        const taskIds = sql`(select id from tasks where company = ${ctx.company} and ${inTree})`;
        await sql`update tasks set parent = null where company = ${ctx.company} and parent in ${taskIds} and ${outsideTree}`.execute(db.kysely);
        await sql`update models set task = null where company = ${ctx.company} and task in ${taskIds} and ${outsideTree}`.execute(db.kysely);
        for (const task of tasks) artifactUrls.push(...outputArtifactUrls(task.execution));
        const res = await db.kysely.deleteFrom('tasks').where('company', '=', ctx.company).where('project', 'in', ids).executeTakeFirst();
        deletedTasks = Number(res.numDeletedRows);
        await deleteEntitiesEvents(db, ctx.company, tasks.map((t) => t.id), false);
      }
    }
    const deleted = await db.kysely.deleteFrom('projects').where('company', '=', ctx.company).where('id', 'in', ids).executeTakeFirst();
    return {
      deleted: Number(deleted.numDeletedRows),
      disassociated_tasks: disassociated,
      deleted_models: deletedModels,
      deleted_tasks: deletedTasks,
      urls: { model_urls: modelUrls, event_urls: [] as string[], artifact_urls: artifactUrls },
    };
  });
  if (req.delete_contents && req.delete_external_artifacts !== false) {
    for (const url of [...result.urls.model_urls, ...result.urls.artifact_urls]) {
      const key = ownFileKey(ctx, url);
      if (!key) continue;
      try {
        await ctx.services.files.delete(key);
      } catch (err) {
        ctx.log.warn({ err, key }, 'could not delete a deleted project file');
      }
    }
  }
  return result;
});

async function exists(db: Db, table: 'tasks' | 'models', where: Sql): Promise<boolean> {
  const { rows } = await sql`select 1 as one from ${sql.table(table)} as t where ${where} limit 1`.execute(db.kysely);
  return rows.length > 0;
}

type TaskModels = { input?: ModelEntry[]; output?: ModelEntry[] } & Record<string, unknown>;

async function rewriteModels(db: Db, company: string, taskId: string, stored: unknown, change: (v: TaskModels) => TaskModels, now?: string): Promise<void> {
  const parsed = fromJson<unknown>(stored, {});
  const value = change(isPlainObject(parsed) ? (parsed as TaskModels) : {});
  await db.kysely.updateTable('tasks').set({ models: toJson(value), ...(now ? { last_change: now } : {}) }).where('id', '=', taskId).where('company', '=', company).execute();
}

/** URIs of a task's output artifacts (stored as a map keyed by artifact id). */
function outputArtifactUrls(execution: unknown): string[] {
  const parsed = fromJson<unknown>(execution, {});
  const artifacts = isPlainObject(parsed) ? parsed.artifacts : undefined;
  const list = Array.isArray(artifacts) ? artifacts : isPlainObject(artifacts) ? Object.values(artifacts) : [];
  return list.filter((a): a is { uri: string; mode?: string } => isPlainObject(a) && typeof a.uri === 'string' && !!a.uri && (a.mode ?? 'output') === 'output').map((a) => a.uri);
}
