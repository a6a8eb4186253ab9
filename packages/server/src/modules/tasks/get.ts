import { tasks, type ParsedRequestOf } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import type { CallContext } from '../../api/context.js';
import { listEntities, tasksEntity, type Doc } from '../../query/index.js';
import { taskToWire, visibleTask, type TaskRow } from './record.js';
import { loadTask } from './status.js';

/** tasks.get_by_id: the caller's task or a public one; anything else is 400/101. */
export const getTaskById = defineHandler(tasks.get_by_id, async (ctx, req) => ({ task: visibleTask(await loadTask(ctx, req.task), ctx) as { id: string } }));

/** API < 2.13 asks for the model fields by their old names; they are read from `models` and `container`. */
const LEGACY_PROJECTIONS: Readonly<Record<string, string>> = {
  'execution.model': 'models.input',
  'output.model': 'models.output',
  'execution.docker_cmd': 'container',
};

type ListRequest = ParsedRequestOf<typeof tasks.get_all> & { allow_public?: boolean | null };

async function listTasks(ctx: CallContext, req: ListRequest, ex: boolean) {
  let onlyFields = req.only_fields ?? req.projection ?? undefined;
  if (onlyFields && !ctx.versionAtLeast('2.13')) onlyFields = onlyFields.map((f) => LEGACY_PROJECTIONS[f] ?? f);
  const request: Record<string, unknown> = { ...req, only_fields: onlyFields, projection: undefined };
  const full = !onlyFields?.length;
  const { items, scroll_id } = await listEntities(ctx, tasksEntity, request, {
    expandRefs: ex,
    allowPublic: ex ? (req.allow_public ?? true) : true,
    present: (doc: Doc) => taskToWire(doc as Partial<TaskRow>, ctx, { defaults: full, omitNull: true }),
  });
  const found = items as { id: string }[];
  return scroll_id === undefined ? { tasks: found } : { tasks: found, scroll_id };
}

/**
 * tasks.get_all: the list engine's filters, projection, order and paging over the caller's and public
 * tasks; tasks with system tag `hidden` only with `search_hidden` or an `id` filter.
 */
export const getAllTasks = defineHandler(tasks.get_all, async (ctx, req) => listTasks(ctx, req, false));

/** tasks.get_all_ex: the same, with reference fields returned as objects (web app). */
export const getAllTasksEx = defineHandler(tasks.get_all_ex, async (ctx, req) => listTasks(ctx, req, true));
