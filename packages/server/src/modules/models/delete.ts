import { sql } from 'kysely';
import { models } from '@cairn/protocol';
import type { CallContext } from '../../api/context.js';
import type { Services } from '../../services.js';
import { apiError } from '../../api/errors.js';
import { defineHandler } from '../../api/handler.js';
import { safeKey } from '../../files/store.js';
import { deleteExternalObject } from '../../files/external.js';
import { fromJson, isPlainObject, toJson } from '../../util/json.js';
import { isoDate } from '../../util/time.js';
import { Dialect } from '../../query/index.js';
import { deleteEntityEvents } from '../events/index.js';
import { runBatch } from './batch.js';
import { DELETED_PREFIX, loadWritableModel, type ModelRow } from './common.js';

interface ModelEntry {
  name?: string;
  model?: string;
  updated?: string;
}
type TaskModels = { input?: ModelEntry[]; output?: ModelEntry[] } & Record<string, unknown>;

interface DeleteOptions {
  force?: boolean | null;
  deleteExternalArtifacts?: boolean | null;
}

/**
 * Deletes a model with ClearML's rules (clearml-api.md §2.4 "Delete rules"):
 * - tasks using it as input: 400/205 without force; with force their entries become `__DELETED__<id>`;
 * - a published creating task: 400/206 without force; with force its output entry becomes `__DELETED__<id>`
 *   and `output.error` says when the model was deleted;
 * - an unpublished creating task: the output entry is removed.
 * The model's events go in the same transaction.
 * The weights are deleted too when they live on this server's file server or in an object store (`delete_external_artifacts`).
 */
export async function deleteModel(ctx: CallContext, id: string, options: DeleteOptions): Promise<{ deleted: boolean; url: string }> {
  const force = options.force ?? false;
  const model = await ctx.db.transaction(async (db) => {
    const model = await loadWritableModel(ctx, id, db);
    const now = isoDate(ctx.services.clock.now());
    const placeholder = `${DELETED_PREFIX}${id}`;
    const d = new Dialect(db.dialect);

    const users = await sql<{ id: string; models: unknown }>`select t.id, t.models from tasks as t where t.company = ${ctx.company} and ${d.anyOf({ kind: 'objectArray', column: 'models', path: ['input'], key: 'model' }, [id])}`.execute(db.kysely);
    if (users.rows.length) {
      if (!force) throw apiError('model_in_use', 'as execution model, use force=True to delete', { num_tasks: users.rows.length });
      for (const task of users.rows) {
        const value = readTaskModels(task.models);
        value.input = (value.input ?? []).map((e) => (e.model === id ? { ...e, model: placeholder } : e));
        await db.kysely.updateTable('tasks').set({ models: toJson(value) }).where('id', '=', task.id).where('company', '=', ctx.company).execute();
      }
    }

    if (model.task) {
      const task = await db.kysely.selectFrom('tasks').select(['id', 'status', 'models', 'output']).where('id', '=', model.task).where('company', '=', ctx.company).executeTakeFirst();
      if (task) {
        const value = readTaskModels(task.models);
        if (task.status === 'published') {
          if (!force) throw apiError('model_creating_task_exists', 'and published, use force=True to delete', { task: model.task });
          value.output = (value.output ?? []).map((e) => (e.model === id ? { ...e, model: placeholder } : e));
          const output = fromJson<unknown>(task.output, {});
          const error = `model deleted on ${now}`;
          await db.kysely
            .updateTable('tasks')
            .set({ models: toJson(value), output: toJson({ ...(isPlainObject(output) ? output : {}), error }), last_change: now })
            .where('id', '=', task.id)
            .where('company', '=', ctx.company)
            .execute();
        } else {
          value.output = (value.output ?? []).filter((e) => e.model !== id);
          await db.kysely.updateTable('tasks').set({ models: toJson(value), last_change: now }).where('id', '=', task.id).where('company', '=', ctx.company).execute();
        }
      }
    }
    await db.kysely.deleteFrom('models').where('id', '=', id).where('company', '=', ctx.company).execute();
    await deleteEntityEvents(db, ctx.company, id, true);
    return model;
  });
  if (options.deleteExternalArtifacts !== false) await deleteOwnWeights(ctx, model);
  return { deleted: true, url: model.uri };
}

function readTaskModels(value: unknown): TaskModels {
  const parsed = fromJson<unknown>(value, {});
  return isPlainObject(parsed) ? (parsed as TaskModels) : {};
}

/** Deletes the weights file when the model's URI is on this server's file server or in an object store (s3, gs, azure). */
async function deleteOwnWeights(ctx: CallContext, model: Pick<ModelRow, 'uri'>): Promise<void> {
  const key = ownFileKey(ctx, model.uri);
  try {
    if (key) await ctx.services.files.delete(key);
    else if (model.uri) await deleteExternalObject(model.uri, ctx.services);
  } catch (err) {
    // The model is gone either way; a file that cannot be removed is logged, not the caller's failure.
    ctx.log.warn({ err, key, uri: model.uri }, 'could not delete model weights');
  }
}

/** What tells this server's URLs: its own base URLs and the host the current caller used. */
type OwnUrls = { services: Pick<Services, 'baseUrls'>; requestHost?: string };

/**
 * The file-store key of a URI served by this server's file server (`<base>/files/<key>`), else undefined.
 * The bases are the server's own URLs (its public URL, the address it listens on) and the host the
 * current caller reached it at, so a file of another server on the same machine never matches.
 */
export function ownFileKey(ctx: OwnUrls, uri: string | null | undefined): string | undefined {
  if (!uri) return undefined;
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  for (const base of ownFilesBases(ctx)) {
    if (url.origin !== base.origin || !url.pathname.startsWith(base.pathname)) continue;
    try {
      return safeKey(url.pathname.slice(base.pathname.length));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** `<base>/files/` for each URL this server is reached at; the caller's host with either scheme (a proxy may end TLS). */
function ownFilesBases(ctx: OwnUrls): URL[] {
  const bases = [...ctx.services.baseUrls];
  if (ctx.requestHost) bases.push(`http://${ctx.requestHost}`, `https://${ctx.requestHost}`);
  const out: URL[] = [];
  for (const base of bases) {
    try {
      out.push(new URL(`${base.replace(/\/+$/, '')}/files/`));
    } catch {
      // A malformed Host header or public URL names no base.
    }
  }
  return out;
}

/** models.delete */
export const deleteModelHandler = defineHandler(models.delete, (ctx, req) =>
  deleteModel(ctx, req.model, { force: req.force, deleteExternalArtifacts: req.delete_external_artifacts }),
);

/** models.delete_many (the web app always sends force). */
export const deleteModels = defineHandler(models.delete_many, (ctx, req) =>
  runBatch(req.ids, (id) => deleteModel(ctx, id, { force: req.force, deleteExternalArtifacts: req.delete_external_artifacts })),
);
