import { tasks } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import type { CallContext } from '../../api/context.js';
import { newId } from '../../util/ids.js';
import { toJson } from '../../util/json.js';
import { isoDate } from '../../util/time.js';
import { prepareTaskFields, validateReferences, type PreparedFields } from './prepare.js';
import { touchProject } from './status.js';

/** Inserts a task in status `created` from fields in storage form (`name` and `type` set); returns its id. */
export async function insertTask(ctx: CallContext, fields: PreparedFields): Promise<string> {
  const now = isoDate(ctx.services.clock.now());
  const id = newId();
  await ctx.db.kysely
    .insertInto('tasks')
    .values({
      id,
      company: ctx.company,
      user: ctx.user,
      name: fields.name!,
      type: fields.type!,
      status: 'created',
      status_reason: '',
      status_message: '',
      status_changed: now,
      comment: fields.comment ?? '',
      report: fields.report ?? null,
      created: now,
      last_update: now,
      last_change: now,
      last_changed_by: ctx.user,
      parent: fields.parent ?? null,
      project: fields.project ?? null,
      tags: toJson(fields.tags ?? []),
      system_tags: toJson(fields.system_tags ?? []),
      models: toJson(fields.models ?? { input: [], output: [] }),
      execution: toJson(fields.execution ?? {}),
      configuration: toJson(fields.configuration ?? {}),
      hyperparams: toJson(fields.hyperparams ?? {}),
      output: toJson(fields.output ?? {}),
      script: toJson(fields.script ?? {}),
      container: toJson(fields.container ?? {}),
      runtime: toJson(fields.runtime ?? {}),
      last_iteration: 0,
      last_metrics: toJson({}),
      metric_stats: toJson({}),
    })
    .execute();
  await touchProject(ctx, ctx.db, fields.project, now);
  return id;
}

/** tasks.create: a new task in status `created`; `output_dest` becomes `output.destination`. */
export const createTask = defineHandler(tasks.create, async (ctx, req) => {
  const fields = prepareTaskFields(ctx, req);
  await validateReferences(ctx, ctx.db, fields);
  return { id: await insertTask(ctx, fields) };
});
