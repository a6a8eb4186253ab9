import { createHash } from 'node:crypto';
import { TASK_TYPES } from '@cairn/protocol';
import type { CallContext } from '../../api/context.js';
import { apiError } from '../../api/errors.js';
import type { Db } from '../../db/database.js';
import { isPlainObject } from '../../util/json.js';
import { escapeKey } from '../../util/keys.js';
import { isoDate } from '../../util/time.js';
import {
  DELETED_PREFIX,
  LEGACY_MODEL_NAMES,
  LEGACY_PARAM_TYPE,
  LEGACY_PARAMS_SECTION,
  TF_DEFINE_SECTION,
  readDict,
  readModels,
  taskToWire,
  type ModelItem,
  type TaskModelsValue,
  type TaskRow,
} from './record.js';

type Dict = Record<string, unknown>;

/** ClearML's document validation: names are stripped and need at least this many characters. */
export const MIN_NAME_LENGTH = 3;
/** Tags may not start with the list-filter operator prefix, or filters could not tell them apart. */
const TAG_OPERATOR_PREFIX = '__$';
/** Script fields ClearML strips of surrounding whitespace, so paths and names stay usable. */
const STRIPPED_SCRIPT_FIELDS = ['binary', 'repository', 'tag', 'branch', 'version_num', 'entry_point', 'working_dir'];
/** Embedded documents that `tasks.edit` merges key by key instead of replacing. */
const MERGED_ON_EDIT = ['execution', 'script', 'output', 'models'] as const;

/** The task fields a create or edit request may carry, as parsed by the protocol. */
export interface TaskFieldsInput {
  name?: string | null;
  type?: string | null;
  tags?: string[] | null;
  system_tags?: string[] | null;
  comment?: string | null;
  report?: string | null;
  parent?: string | null;
  project?: string | null;
  output_dest?: string | null;
  output?: Dict | null;
  execution?: Dict | null;
  script?: Dict | null;
  hyperparams?: Record<string, Record<string, Dict>> | null;
  configuration?: Record<string, Dict> | null;
  models?: { input?: ModelItem[]; output?: ModelItem[] } | null;
  container?: Record<string, string | null> | null;
  runtime?: Dict | null;
}

/** Task fields in storage form (escaped keys, artifacts as a map), ready to be written. */
export type PreparedFields = Partial<{
  name: string;
  type: string;
  comment: string;
  report: string;
  parent: string;
  project: string;
  tags: string[];
  system_tags: string[];
  output: Dict;
  execution: Dict;
  script: Dict;
  hyperparams: Record<string, Record<string, Dict>>;
  configuration: Record<string, Dict>;
  models: TaskModelsValue;
  container: Record<string, string | null>;
  runtime: Dict;
}>;

export function validateName(name: string): string {
  const stripped = name.trim();
  if (stripped.length < MIN_NAME_LENGTH) {
    throw apiError('data_validation_error', `name must be at least ${MIN_NAME_LENGTH} characters`, { name });
  }
  return stripped;
}

export function validateType(type: string): string {
  if (!(TASK_TYPES as readonly string[]).includes(type)) {
    throw apiError('data_validation_error', `type must be one of ${TASK_TYPES.join(', ')}`, { type });
  }
  return type;
}

/** Tags are stored sorted and without duplicates; operator-prefixed tags are refused (400/16). */
export function conformTags(tags: string[]): string[] {
  const unsupported = tags.filter((t) => t.startsWith(TAG_OPERATOR_PREFIX));
  if (unsupported.length) throw apiError('fields_value_error', 'unsupported tag prefix', { values: unsupported });
  return [...new Set(tags)].sort();
}

/** Escapes a user-supplied map key for storage; an empty key cannot be stored (400/12). */
export function storedKey(key: string, field: string): string {
  if (!key) throw apiError('validation_error', `empty keys are not allowed in ${field}`);
  return escapeKey(key);
}

function escapeMap<T>(map: Record<string, T>, field: string): Record<string, T> {
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [storedKey(k, field), v]));
}

/** Python's `str()` of a legacy parameter value, so old clients read back what they wrote. */
function pythonStr(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (value === null || value === undefined) return 'None';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** Hyperparameter items keyed by (unescaped) section and name; each item names its own section and name. */
function hyperparamsItems(input: Record<string, Record<string, Dict>>): Record<string, Record<string, Dict>> {
  return Object.fromEntries(
    Object.entries(input).map(([section, params]) => [
      section,
      Object.fromEntries(Object.entries(params).map(([name, item]) => [name, { ...item, section: item.section ?? section, name: item.name ?? name, value: item.value ?? '' }])),
    ]),
  );
}

function configurationItems(input: Record<string, Dict>): Record<string, Dict> {
  return Object.fromEntries(Object.entries(input).map(([name, item]) => [name, { ...item, name: item.name ?? name, value: item.value ?? '' }]));
}

/**
 * Legacy `execution.parameters` and `execution.model_desc` become hyperparameters (section `Args`, or
 * `TF_DEFINE` for `TF_DEFINE/<name>`) and configuration items of type `legacy`. When the request carries
 * no new hyperparameters, the task's other ones are kept and its earlier legacy ones are replaced.
 */
function applyLegacyParams(fields: TaskFieldsInput, previous: TaskRow | undefined, ctx: CallContext): void {
  const execution = fields.execution;
  if (!execution) return;
  for (const [legacyKey, target, defaultSection] of [
    ['parameters', 'hyperparams', LEGACY_PARAMS_SECTION],
    ['model_desc', 'configuration', undefined],
  ] as const) {
    const legacy = execution[legacyKey];
    delete execution[legacyKey];
    if (!isPlainObject(legacy)) continue;
    let current: Dict = (fields[target] as Dict | null | undefined) ?? {};
    if (!Object.keys(current).length && previous) {
      const stored = taskToWire({ [target]: previous[target] }, ctx)[target] as Dict;
      const kept = withoutLegacyItems(stored, !!defaultSection);
      if (!Object.keys(legacy).length && kept.removed === 0) continue;
      current = kept.value;
    }
    for (const [fullName, value] of Object.entries(legacy)) {
      if (defaultSection) {
        const isTf = fullName.startsWith(`${TF_DEFINE_SECTION}/`);
        const section = isTf ? TF_DEFINE_SECTION : defaultSection;
        const name = isTf ? fullName.slice(TF_DEFINE_SECTION.length + 1) : fullName;
        if (!name) throw apiError('validation_error', 'Parameter name cannot be empty');
        const sectionItems = (current[section] as Dict | undefined) ?? {};
        current[section] = { ...sectionItems, [name]: { section, name, type: LEGACY_PARAM_TYPE, value: pythonStr(value) } };
      } else {
        current[fullName] = { name: fullName, type: LEGACY_PARAM_TYPE, value: pythonStr(value) };
      }
    }
    (fields as Dict)[target] = current;
  }
}

function withoutLegacyItems(data: Dict, withSections: boolean): { value: Dict; removed: number } {
  let removed = 0;
  const strip = (items: Dict): Dict =>
    Object.fromEntries(
      Object.entries(items).filter(([, item]) => {
        const legacy = isPlainObject(item) && item.type === LEGACY_PARAM_TYPE;
        if (legacy) removed++;
        return !legacy;
      }),
    );
  if (!withSections) return { value: strip(data), removed };
  const value: Dict = {};
  for (const [section, items] of Object.entries(data)) {
    const kept = strip(isPlainObject(items) ? items : {});
    if (Object.keys(kept).length) value[section] = kept;
  }
  return { value, removed };
}

/** API < 2.13 wrote the input model as `execution.model`, the output model as `output.model`, and `execution.docker_cmd`. */
function applyLegacyModelFields(fields: TaskFieldsInput, ctx: CallContext, now: string): void {
  if (ctx.versionAtLeast('2.13')) {
    if (fields.execution) {
      delete fields.execution.model;
      delete fields.execution.docker_cmd;
    }
    if (fields.output) delete fields.output.model;
    return;
  }
  const legacy: [keyof typeof LEGACY_MODEL_NAMES, Dict | null | undefined][] = [
    ['input', fields.execution],
    ['output', fields.output],
  ];
  for (const [type, holder] of legacy) {
    if (!holder || holder.model === undefined || holder.model === null) continue;
    const model = String(holder.model);
    delete holder.model;
    fields.models = { ...fields.models, [type]: model ? [{ name: LEGACY_MODEL_NAMES[type], model, updated: now }] : [] };
  }
  const dockerCmd = fields.execution?.docker_cmd;
  if (fields.execution) delete fields.execution.docker_cmd;
  if (typeof dockerCmd === 'string') {
    const [image = '', ...args] = dockerCmd.split(' ');
    fields.container = { ...fields.container, image, arguments: args.join(' ') };
  }
}

/**
 * Turns the create/edit fields of a request into storage form: legacy fields converted, map keys
 * escaped, artifacts keyed, script fields stripped, model entries stamped with `updated` = now.
 * For an edit, embedded documents are merged over the stored ones (the given top-level keys win).
 */
export function prepareTaskFields(ctx: CallContext, request: TaskFieldsInput, previous?: TaskRow): PreparedFields {
  const now = isoDate(ctx.services.clock.now());
  const fields: TaskFieldsInput = structuredClone(
    Object.fromEntries(Object.entries(request).filter(([, v]) => v !== undefined && v !== null)),
  );
  applyLegacyModelFields(fields, ctx, now);
  applyLegacyParams(fields, previous, ctx);

  const out: PreparedFields = {};
  if (fields.name !== undefined) out.name = validateName(fields.name!);
  if (fields.type !== undefined) out.type = validateType(fields.type!);
  if (fields.comment !== undefined) out.comment = fields.comment!;
  if (fields.report !== undefined) out.report = fields.report!;
  if (fields.parent !== undefined) out.parent = fields.parent!;
  if (fields.project !== undefined) out.project = fields.project!;
  if (fields.tags) out.tags = conformTags(fields.tags);
  if (fields.system_tags) out.system_tags = conformTags(fields.system_tags);
  if (fields.runtime) out.runtime = fields.runtime;
  if (fields.container) out.container = escapeMap(fields.container, 'container');
  if (fields.hyperparams) {
    out.hyperparams = Object.fromEntries(
      Object.entries(hyperparamsItems(fields.hyperparams)).map(([section, items]) => [storedKey(section, 'hyperparams'), escapeMap(items, 'hyperparams')]),
    );
  }
  if (fields.configuration) out.configuration = escapeMap(configurationItems(fields.configuration), 'configuration');

  if (fields.output || fields.output_dest !== undefined) {
    out.output = { ...fields.output, ...(fields.output_dest !== undefined ? { destination: fields.output_dest } : {}) };
  }
  if (fields.execution) {
    const execution: Dict = { ...fields.execution };
    if (isPlainObject(execution.model_labels)) execution.model_labels = escapeMap(execution.model_labels, 'execution.model_labels');
    if (Array.isArray(execution.artifacts)) execution.artifacts = artifactsMap(execution.artifacts as Dict[]);
    out.execution = execution;
  }
  if (fields.script) {
    const script: Dict = { ...fields.script };
    for (const key of STRIPPED_SCRIPT_FIELDS) if (typeof script[key] === 'string') script[key] = (script[key] as string).trim();
    out.script = script;
  }
  if (fields.models) {
    const stamp = (items: ModelItem[] | undefined) => items?.map((m) => ({ name: m.name, model: m.model, updated: now }));
    const models: Partial<TaskModelsValue> = {};
    const input = stamp(fields.models.input);
    const output = stamp(fields.models.output);
    if (input) models.input = input;
    if (output) models.output = output;
    out.models = models as TaskModelsValue;
  }

  if (previous) {
    for (const key of MERGED_ON_EDIT) {
      if (!out[key]) continue;
      const stored = key === 'models' ? readModels(previous.models) : readDict(previous[key]);
      (out as Dict)[key] = { ...stored, ...out[key] };
    }
  } else if (out.models) {
    out.models = { input: out.models.input ?? [], output: out.models.output ?? [] };
  }
  return out;
}

/** An artifact's storage key: md5 of its key, then its mode (output by default). */
export function artifactId(artifact: Dict): string {
  return `${md5(String(artifact.key))}_${artifact.mode ?? 'output'}`;
}

export function artifactsMap(artifacts: Dict[]): Record<string, Dict> {
  return Object.fromEntries(artifacts.map((a) => [artifactId(a), { ...a, mode: a.mode ?? 'output' }]));
}

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

/**
 * The references a task makes must exist: its project (in the caller's company), its parent task and
 * its input models (the caller's or public). `__DELETED__` placeholders left by forced deletes are tolerated.
 */
export async function validateReferences(ctx: CallContext, db: Db, fields: PreparedFields): Promise<void> {
  if (fields.project) {
    const project = await db.kysely.selectFrom('projects').select('id').where('id', '=', fields.project).where('company', '=', ctx.company).executeTakeFirst();
    if (!project) throw apiError('fields_value_error', 'expecting Project id', { project: fields.project });
  }
  if (fields.parent && !fields.parent.startsWith(DELETED_PREFIX)) {
    const parent = await db.kysely.selectFrom('tasks').select('id').where('id', '=', fields.parent).where('company', 'in', [ctx.company, '']).executeTakeFirst();
    if (!parent) throw apiError('fields_value_error', 'expecting Task id', { parent: fields.parent });
  }
  const inputIds = [...new Set((fields.models?.input ?? []).map((m) => m.model).filter((id) => id && !id.startsWith(DELETED_PREFIX)))];
  if (inputIds.length) {
    const found = await db.kysely.selectFrom('models').select('id').where('id', 'in', inputIds).where('company', 'in', [ctx.company, '']).execute();
    const missing = inputIds.filter((id) => !found.some((f) => f.id === id));
    if (missing.length) throw apiError('invalid_model_id', undefined, { model: missing[0] });
  }
}
