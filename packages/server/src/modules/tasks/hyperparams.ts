import { tasks } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import { apiError } from '../../api/errors.js';
import { isPlainObject } from '../../util/json.js';
import { storedKey } from './prepare.js';
import { loadTasksColumn } from './configuration.js';
import { requireUpdatable, withTaskLocked, writeTask } from './update.js';
import { compareText, readDict, type TaskRow } from './record.js';

type Dict = Record<string, unknown>;
type Sections = Record<string, Record<string, Dict>>;

/** The hyperparameter section that holds task properties: editable in any status, whatever its case. */
const PROPERTIES_SECTION = 'properties';

function normalizeSection(section: string): string {
  return section.toLowerCase() === PROPERTIES_SECTION ? PROPERTIES_SECTION : section;
}

/** Only a change confined to the properties section is allowed in every status. */
function requireEditable(task: TaskRow, sections: string[], force: boolean | null | undefined): void {
  if (sections.length && sections.every((s) => s === PROPERTIES_SECTION)) return;
  requireUpdatable(task, force);
}

function readSections(task: TaskRow): Sections {
  const stored = readDict(task.hyperparams);
  return Object.fromEntries(Object.entries(stored).map(([k, v]) => [k, isPlainObject(v) ? (v as Record<string, Dict>) : {}]));
}

/** tasks.get_hyper_params: each task's parameters as a list sorted by section, then name. */
export const getHyperParams = defineHandler(tasks.get_hyper_params, async (ctx, req) => {
  const rows = await loadTasksColumn(ctx, req.tasks, 'hyperparams');
  return {
    params: rows.map(({ id, value }) => ({
      task: id,
      hyperparams: Object.values(value)
        .flatMap((section) => (isPlainObject(section) ? (Object.values(section) as Dict[]) : []))
        .sort((a, b) => compareText(a.section, b.section) || compareText(a.name, b.name)),
    })),
  };
});

/**
 * tasks.edit_hyper_params: upserts parameters (`replace_hyperparams: none`), replaces the given
 * sections (`section`) or all of them (`all`). Status as for configuration, except that the
 * `properties` section may be edited in any status.
 */
export const editHyperParams = defineHandler(tasks.edit_hyper_params, async (ctx, req) =>
  withTaskLocked(ctx, req.task, async (tx, task) => {
    const items = req.hyperparams.map((p) => ({ ...p, section: normalizeSection(p.section) }));
    requireEditable(task, items.map((p) => p.section), req.force);
    const given: Sections = {};
    for (const item of items) {
      const section = storedKey(item.section, 'hyperparams');
      given[section] = { ...given[section], [storedKey(item.name, 'hyperparams')]: item };
    }
    const mode = req.replace_hyperparams ?? 'none';
    let hyperparams: Sections;
    if (mode === 'all') hyperparams = given;
    else if (mode === 'section') hyperparams = { ...readSections(task), ...given };
    else {
      hyperparams = readSections(task);
      for (const [section, params] of Object.entries(given)) hyperparams[section] = { ...hyperparams[section], ...params };
    }
    return { updated: await writeTask(tx, task, { hyperparams }) };
  }),
);

/** tasks.delete_hyper_params: removes parameters, or whole sections when no name is given. */
export const deleteHyperParams = defineHandler(tasks.delete_hyper_params, async (ctx, req) =>
  withTaskLocked(ctx, req.task, async (tx, task) => {
    const items = req.hyperparams.map((p) => ({ ...p, section: normalizeSection(p.section) }));
    requireEditable(task, items.map((p) => p.section), req.force);
    const wholeSections = new Set(items.filter((p) => !p.name).map((p) => p.section));
    const hyperparams = readSections(task);
    for (const section of wholeSections) delete hyperparams[storedKey(section, 'hyperparams')];
    for (const item of items) {
      if (!item.name) continue;
      if (wholeSections.has(item.section)) {
        throw apiError('fields_conflict', 'Cannot delete section field if the whole section was scheduled for deletion', { section: item.section });
      }
      const section = hyperparams[storedKey(item.section, 'hyperparams')];
      if (section) delete section[storedKey(item.name, 'hyperparams')];
    }
    return { deleted: await writeTask(tx, task, { hyperparams }) };
  }),
);
