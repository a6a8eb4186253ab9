import { tasks } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import type { CallContext } from '../../api/context.js';
import { ensureProject } from '../projects/tree.js';
import { ARCHIVED_TAG } from './archive.js';
import { insertTask } from './create.js';
import { prepareTaskFields, validateReferences, type PreparedFields, type TaskFieldsInput } from './prepare.js';
import { readDict, readModels, readTags, taskToWire, type ModelItem } from './record.js';
import { DEVELOPMENT_TAG, loadTask } from './status.js';

type Dict = Record<string, unknown>;

/** System tags a clone does not inherit: it is neither a local run nor archived. */
const NOT_INHERITED = new Set([DEVELOPMENT_TAG, ARCHIVED_TAG]);

/**
 * tasks.clone (clearml-api.md §2.3.2): a new `created` task in the caller's company with the source's type,
 * script, execution (without its queue and output artifacts, with `execution_overrides` merged in),
 * hyperparameters, configuration, input models, container and output destination; its parent is the source
 * task. Each `new_task_*` field replaces what it names. The source may be a public task. References are checked
 * when given explicitly or with `validate_references`.
 */
export const cloneTask = defineHandler(tasks.clone, async (ctx, req) =>
  ctx.db.transaction(async (db) => {
    const tx: CallContext = { ...ctx, db };
    const source = await loadTask(tx, req.task);
    const wire = taskToWire(source, tx) as Dict;

    let project = req.new_task_project ?? source.project ?? undefined;
    let newProject: { id: string; name: string } | undefined;
    if (!req.new_task_project && req.new_project_name) {
      const created = await ensureProject(tx, db, req.new_project_name);
      if (created) {
        project = created.id;
        newProject = { id: created.id, name: created.name };
      }
    }

    const { queue: _queue, ...execution } = readDict(wire.execution);
    execution.artifacts = (Array.isArray(execution.artifacts) ? (execution.artifacts as Dict[]) : []).filter((a) => (a.mode ?? 'output') !== 'output');
    const inputModels: ModelItem[] = req.new_task_input_models ?? readModels(source.models).input.map(({ name, model }) => ({ name, model }));
    const input: TaskFieldsInput = {
      name: req.new_task_name || source.name,
      type: source.type,
      comment: req.new_task_comment || source.comment,
      tags: req.new_task_tags?.length ? req.new_task_tags : readTags(source.tags),
      system_tags: req.new_task_system_tags ?? readTags(source.system_tags).filter((t) => !NOT_INHERITED.has(t)),
      parent: req.new_task_parent ?? source.id,
      project: project ?? null,
      script: readDict(wire.script),
      execution: { ...execution, ...(req.execution_overrides ?? {}) },
      hyperparams: (req.new_task_hyperparams ?? wire.hyperparams ?? {}) as TaskFieldsInput['hyperparams'],
      configuration: (req.new_task_configuration ?? wire.configuration ?? {}) as TaskFieldsInput['configuration'],
      models: { input: inputModels, output: [] },
      container: (req.new_task_container ?? wire.container ?? {}) as TaskFieldsInput['container'],
      output: { destination: readDict(wire.output).destination ?? null },
    };
    const fields = prepareTaskFields(tx, input);

    const check: PreparedFields = {};
    if (req.validate_references || req.new_task_project) check.project = fields.project;
    if (req.validate_references || req.new_task_parent) check.parent = fields.parent;
    if (req.validate_references || req.new_task_input_models) check.models = fields.models;
    await validateReferences(tx, db, check);

    const id = await insertTask(tx, fields);
    return newProject ? { id, new_project: newProject } : { id };
  }),
);
