import { tasks } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import type { CallContext } from '../../api/context.js';
import { apiError } from '../../api/errors.js';
import { unescapeKey } from '../../util/keys.js';
import { compareText, readDict } from './record.js';
import { storedKey } from './prepare.js';
import { requireUpdatable, withTaskLocked, writeTask } from './update.js';

type Dict = Record<string, unknown>;

/** Reads one JSON column of several tasks (the caller's or public); any unknown id is 400/101. */
export async function loadTasksColumn(ctx: CallContext, ids: string[], column: 'configuration' | 'hyperparams'): Promise<{ id: string; value: Dict }[]> {
  const unique = [...new Set(ids)];
  if (!unique.length) return [];
  const rows = await ctx.db.kysely
    .selectFrom('tasks')
    .select(['id', column])
    .where('id', 'in', unique)
    .where('company', 'in', [ctx.company, ''])
    .execute();
  if (rows.length !== unique.length) throw apiError('invalid_task_id', undefined, { ids: unique.filter((id) => !rows.some((r) => r.id === id)) });
  const byId = new Map(rows.map((r) => [r.id, readDict(r[column as keyof typeof r])]));
  return unique.map((id) => ({ id, value: byId.get(id)! }));
}

const byName = (a: Dict, b: Dict) => compareText(a.name, b.name);

/** tasks.get_configurations: each task's configuration items (optionally only `names`), sorted by name. */
export const getConfigurations = defineHandler(tasks.get_configurations, async (ctx, req) => {
  const names = req.names?.length ? new Set(req.names) : undefined;
  const rows = await loadTasksColumn(ctx, req.tasks, 'configuration');
  return {
    configurations: rows.map(({ id, value }) => ({
      task: id,
      configuration: Object.entries(value)
        .filter(([key]) => !names || names.has(unescapeKey(key)))
        .map(([, item]) => item as Dict)
        .sort(byName),
    })),
  };
});

/** tasks.get_configuration_names: item names per task; `skip_empty` (default) leaves out items without a value. */
export const getConfigurationNames = defineHandler(tasks.get_configuration_names, async (ctx, req) => {
  const skipEmpty = req.skip_empty ?? true;
  const rows = await loadTasksColumn(ctx, req.tasks, 'configuration');
  return {
    configurations: rows
      .map(({ id, value }) => ({
        task: id,
        names: Object.entries(value)
          .filter(([, item]) => !skipEmpty || !!(item as Dict)?.value)
          .map(([key]) => unescapeKey(key))
          .sort(),
      }))
      .filter((c) => c.names.length),
  };
});

/**
 * tasks.edit_configuration: adds or replaces items by name (or replaces the whole configuration).
 * The task must be created, or in_progress with force (400/110).
 */
export const editConfiguration = defineHandler(tasks.edit_configuration, async (ctx, req) =>
  withTaskLocked(ctx, req.task, async (tx, task) => {
    requireUpdatable(task, req.force);
    const items = Object.fromEntries(req.configuration.map((c) => [storedKey(c.name, 'configuration'), { ...c }]));
    const configuration = req.replace_configuration ? items : { ...readDict(task.configuration), ...items };
    return { updated: await writeTask(tx, task, { configuration }) };
  }),
);

/** tasks.delete_configuration: removes items by name; same status rule. */
export const deleteConfiguration = defineHandler(tasks.delete_configuration, async (ctx, req) =>
  withTaskLocked(ctx, req.task, async (tx, task) => {
    requireUpdatable(task, req.force);
    const configuration = readDict(task.configuration);
    for (const name of req.configuration) delete configuration[storedKey(name, 'configuration')];
    return { deleted: await writeTask(tx, task, { configuration }) };
  }),
);
