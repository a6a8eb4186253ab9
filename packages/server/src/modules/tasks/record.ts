import type { Selectable } from 'kysely';
import type { TasksTable } from '../../db/schema.js';
import type { CallContext } from '../../api/context.js';
import { fromJson, isPlainObject } from '../../util/json.js';
import { unescapeKey, unescapeKeys } from '../../util/keys.js';

export type TaskRow = Selectable<TasksTable>;
type Dict = Record<string, unknown>;

export interface ModelItem {
  name: string;
  model: string;
  updated?: string | null;
}
export interface TaskModelsValue {
  input: ModelItem[];
  output: ModelItem[];
}

/** Columns stored as JSON (text on SQLite, jsonb on PostgreSQL). */
export const JSON_COLUMNS = new Set<keyof TasksTable>([
  'tags',
  'system_tags',
  'models',
  'execution',
  'configuration',
  'hyperparams',
  'output',
  'script',
  'container',
  'runtime',
  'last_metrics',
  'metric_stats',
]);

/** Internal columns that reads leave out unless asked for (ClearML's exclude-by-default fields). */
export const EXCLUDED_BY_DEFAULT = new Set<string>(['enqueue_status', 'company_origin']);

/** The `name` ClearML gives model entries written through the legacy (< 2.13) fields. */
export const LEGACY_MODEL_NAMES = { input: 'Input Model', output: 'Output Model' } as const;
/** Hyperparameters written through the legacy `execution.parameters` carry this type. */
export const LEGACY_PARAM_TYPE = 'legacy';
/** Legacy parameters go to this hyperparameter section, except `TF_DEFINE/<name>` ones. */
export const LEGACY_PARAMS_SECTION = 'Args';
export const TF_DEFINE_SECTION = 'TF_DEFINE';

export const DELETED_PREFIX = '__DELETED__';

export function readModels(value: unknown): TaskModelsValue {
  const models = fromJson<Partial<TaskModelsValue>>(value, {});
  return { input: Array.isArray(models.input) ? models.input : [], output: Array.isArray(models.output) ? models.output : [] };
}

export function readDict(value: unknown): Dict {
  const parsed = fromJson<unknown>(value, {});
  return isPlainObject(parsed) ? parsed : {};
}

export function readTags(value: unknown): string[] {
  const parsed = fromJson<unknown>(value, []);
  return Array.isArray(parsed) ? parsed.filter((t): t is string => typeof t === 'string') : [];
}

/** Artifacts are stored as a map keyed `<md5(key)>_<mode>` and returned as a list sorted by key, then mode. */
export function artifactsToList(artifacts: unknown): Dict[] {
  if (Array.isArray(artifacts)) return artifacts as Dict[];
  if (!isPlainObject(artifacts)) return [];
  return (Object.values(artifacts) as Dict[]).sort((a, b) => compareText(a.key, b.key) || compareText(a.mode, b.mode));
}

/** Code-point order, as the Python server sorts. */
export function compareText(a: unknown, b: unknown): number {
  const x = String(a ?? '');
  const y = String(b ?? '');
  return x < y ? -1 : x > y ? 1 : 0;
}

function unescapeNested(map: Dict): Dict {
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [unescapeKey(k), isPlainObject(v) ? unescapeKeys(v) : v]));
}

/** The legacy (< 2.9) `execution.parameters` / `model_desc` view of items written with type `legacy`. */
function legacyParameters(hyperparams: Dict): Dict {
  const out: Dict = {};
  for (const section of Object.values(hyperparams)) {
    if (!isPlainObject(section)) continue;
    for (const item of Object.values(section) as Dict[]) {
      if (item?.type !== LEGACY_PARAM_TYPE) continue;
      const name = item.section === TF_DEFINE_SECTION ? `${TF_DEFINE_SECTION}/${item.name}` : String(item.name);
      out[name] = item.value;
    }
  }
  return out;
}

function legacyModelDesc(configuration: Dict): Dict {
  const out: Dict = {};
  for (const item of Object.values(configuration) as Dict[]) {
    if (item?.type === LEGACY_PARAM_TYPE) out[String(item.name)] = item.value;
  }
  return out;
}

export interface WireOptions {
  /** Fill the sub-fields clients read without checking (`execution.parameters`, `artifacts`, `output.destination`); off for projected reads. */
  defaults?: boolean;
  /** Leave unset (null) fields out, as ClearML does. */
  omitNull?: boolean;
}

/**
 * The wire form of a (possibly projected) task row: JSON columns parsed, escaped map keys
 * unescaped, artifacts as a list, tags sorted, and the legacy fields for old API versions.
 * Only the columns present in `row` are emitted.
 */
export function taskToWire(row: Partial<TaskRow>, ctx: Pick<CallContext, 'versionAtLeast'>, options: WireOptions = { defaults: true }): Dict {
  const out: Dict = {};
  const defaults = options.defaults ?? false;
  for (const [key, raw] of Object.entries(row)) {
    if (options.omitNull && (raw === null || raw === undefined)) continue;
    if (!JSON_COLUMNS.has(key as keyof TasksTable)) {
      out[key] = raw;
      continue;
    }
    switch (key) {
      case 'tags':
      case 'system_tags':
        out[key] = readTags(raw).sort();
        break;
      case 'models':
        out[key] = readModels(raw);
        break;
      case 'execution': {
        const execution = readDict(raw);
        const wire: Dict = defaults ? { parameters: {}, ...execution } : { ...execution };
        if (defaults || isPlainObject(execution.model_labels)) wire.model_labels = isPlainObject(execution.model_labels) ? unescapeKeys(execution.model_labels) : {};
        if (defaults || execution.artifacts !== undefined) wire.artifacts = artifactsToList(execution.artifacts);
        out[key] = wire;
        break;
      }
      case 'configuration':
      case 'container':
        out[key] = unescapeKeys(readDict(raw));
        break;
      case 'hyperparams':
        out[key] = unescapeNested(readDict(raw));
        break;
      case 'output':
        out[key] = defaults ? { destination: null, ...readDict(raw) } : readDict(raw);
        break;
      default:
        out[key] = readDict(raw);
    }
  }
  applyLegacyReadFields(out, row, ctx);
  return out;
}

function applyLegacyReadFields(out: Dict, row: Partial<TaskRow>, ctx: Pick<CallContext, 'versionAtLeast'>): void {
  if (!ctx.versionAtLeast('2.13')) {
    if ('models' in row) {
      const models = readModels(row.models);
      const input = models.input[0]?.model;
      const output = models.output[models.output.length - 1]?.model;
      if (input) out.execution = { ...(out.execution as Dict | undefined), model: input };
      if (output) out.output = { ...(out.output as Dict | undefined), model: output };
    }
    if ('container' in row) {
      const container = out.container as Dict | undefined;
      if (container?.image) {
        const cmd = [container.image, container.arguments].filter(Boolean).join(' ');
        out.execution = { ...(out.execution as Dict | undefined), docker_cmd: cmd };
      }
    }
  }
  if (!ctx.versionAtLeast('2.9')) {
    if ('hyperparams' in row) {
      const parameters = legacyParameters(readDict(row.hyperparams));
      if (Object.keys(parameters).length) out.execution = { ...(out.execution as Dict | undefined), parameters };
    }
    if ('configuration' in row) {
      const modelDesc = legacyModelDesc(readDict(row.configuration));
      if (Object.keys(modelDesc).length) out.execution = { ...(out.execution as Dict | undefined), model_desc: modelDesc };
    }
  }
}

/** Every set field of a task but the internal ones: what get_by_id returns. */
export function visibleTask(row: TaskRow, ctx: Pick<CallContext, 'versionAtLeast'>): Dict {
  const visible: Partial<TaskRow> = { ...row };
  for (const key of EXCLUDED_BY_DEFAULT) delete visible[key as keyof TaskRow];
  return taskToWire(visible, ctx, { defaults: true, omitNull: true });
}
