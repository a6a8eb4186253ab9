/**
 * `Model` (an existing model on the server) and `InputModel` (one a task uses), sdk-behaviour.md §4 and §5.
 * Loaders are async and return loaded handles (decision 1): `await Model.get(id)`, `await InputModel.get({...})`,
 * `await Model.queryModels({...})`.
 */
import { models, projects, tasks, type Model as ModelRecord } from '@cairn/protocol';
import { ApiCallError, UsageError, causeText } from '../errors.js';
import { resolveConfig, wrapDesign } from '../config/design.js';
import { log } from '../log.js';
import { Session } from '../session.js';
import { BaseModel, PACKAGE_TAG, type GetWeightsOptions } from './base.js';
import { detectFramework } from './framework.js';
import { exactNamePattern, stem } from './paths.js';
import { Task } from '../task.js';
import { IGNORE_OVERRIDES_PREFIX } from '../task-params.js';

/** Where a model was deleted by force, the server leaves this prefix in task model lists. */
const DELETED_PREFIX = '__DELETED__';

/** `models.get_all` pages: ClearML's server caps a page at 500. */
export const QUERY_PAGE_SIZE = 500;

export interface SessionOption {
  /** The connection to use (default: `Session.default()`). */
  session?: Session;
}

export interface QueryModelsOptions extends SessionOption {
  projectName?: string;
  /** Exact model name. */
  modelName?: string;
  /** Tag filter in the server's syntax (`-x` excludes, `__$all`, `__$or`, `__$not`). */
  tags?: string[];
  onlyPublished?: boolean;
  includeArchived?: boolean;
  maxResults?: number;
  /** Metadata filters: `{key: value}` matches entries whose value equals it. */
  metadata?: Record<string, string>;
}

export interface RemoveModelOptions extends SessionOption {
  /** Also delete the weights file from its storage (default true). */
  deleteWeightsFile?: boolean;
  /** Delete even when tasks use the model or its creating task is published. */
  force?: boolean;
  /** Throw instead of resolving to false. */
  raiseOnErrors?: boolean;
}

export interface GetLocalCopyOptions extends Omit<GetWeightsOptions, 'extractArchive'> {
  /** Default: extract packaged models, leave other weights as they are. */
  extractArchive?: boolean;
}

export class Model extends BaseModel {
  /** Wraps a record the caller already has (from `models.get_all`, for instance). */
  constructor(record: ModelRecord, session: Session = Session.default()) {
    super(session, record);
  }

  override get id(): string {
    return this.record.id;
  }

  protected async ensureId(): Promise<string> {
    return this.record.id;
  }

  /** Loads one model by id. */
  static async get(id: string, options: SessionOption = {}): Promise<Model> {
    const session = options.session ?? Session.default();
    const { model } = await session.client.call(models.get_by_id, { model: id });
    return new this(model, session);
  }

  /**
   * Models matching every given filter, newest first, read page by page until done (or `maxResults`). A
   * `projectName` that names no project is an error.
   */
  static async queryModels(options: QueryModelsOptions = {}): Promise<Model[]> {
    const session = options.session ?? Session.default();
    return (await queryRecords(session, options)).map((r) => new Model(r, session));
  }

  /**
   * Deletes a model, then (by default) its weights file. Resolves to true when both went; false (or a UsageError
   * with `raiseOnErrors`) otherwise.
   */
  static async remove(model: string | BaseModel, options: RemoveModelOptions = {}): Promise<boolean> {
    const session = options.session ?? (model instanceof BaseModel ? model.session : Session.default());
    const id = typeof model === 'string' ? model : model.id;
    const fail = (message: string, cause?: unknown): false => {
      if (options.raiseOnErrors) throw new UsageError(message, { cause });
      log.warn(message);
      return false;
    };
    if (!id) return fail('Could not remove a model that is not on the server');
    let url: string;
    try {
      url = (await session.client.call(models.get_by_id, { model: id })).model.uri ?? '';
    } catch (err) {
      return fail(`Could not find model id=${id}: ${causeText(err)}`, err);
    }
    try {
      // The SDK deletes the weights itself (below), so the server must not; with deleteWeightsFile false it must not either.
      const res = await session.client.call(models.delete, { model: id, force: options.force ?? false, delete_external_artifacts: false });
      if (!res.deleted) return fail(`Could not remove model id=${id}: the server deleted nothing`);
    } catch (err) {
      return fail(`Could not remove model id=${id}: ${causeText(err)}`, err);
    }
    if (options.deleteWeightsFile === false || !url.trim()) return true;
    try {
      if (await session.storage.delete(url)) return true;
      return fail(`Could not remove model id=${id} weights file: ${url}`);
    } catch (err) {
      return fail(`Could not remove model id=${id} weights file: ${url}: ${causeText(err)}`, err);
    }
  }

  /**
   * A local copy of the model: the extracted folder of a packaged model, the weights file otherwise (a `file://`
   * weights file in place).
   */
  async getLocalCopy(options: GetLocalCopyOptions = {}): Promise<string | null> {
    if (this.isPackage) return this.getWeightsPackage({ ...options, returnPath: true, extractArchive: options.extractArchive ?? true });
    return this.getWeights({ ...options, extractArchive: options.extractArchive ?? false });
  }
}

export interface InputModelQuery extends SessionOption {
  name?: string;
  /** Project name. */
  project?: string;
  tags?: string[];
  onlyPublished?: boolean;
}

export interface ImportModelOptions extends SessionOption {
  weightsUrl: string;
  configText?: string;
  configDict?: object;
  labelEnumeration?: Record<string, number>;
  name?: string;
  /** Project name; created when missing. Default: the current task's project. */
  project?: string;
  tags?: string[];
  comment?: string;
  isPackage?: boolean;
  createAsPublished?: boolean;
  framework?: string;
}

export interface ConnectOptions {
  /** Remotely, keep the code's choice instead of the task's stored one (persisted on the task as a parameter). */
  ignoreRemoteOverrides?: boolean;
}

/** The id of a model that exists only locally (`InputModel.empty`). */
export const EMPTY_MODEL_ID = 'empty';

export class InputModel extends Model {
  /** Loads a model by id, or the newest model matching `{name, project, tags, onlyPublished}`. */
  static override async get(idOrQuery: string | InputModelQuery, options: SessionOption = {}): Promise<InputModel> {
    if (typeof idOrQuery === 'string') {
      const session = options.session ?? Session.default();
      const { model } = await session.client.call(models.get_by_id, { model: idOrQuery });
      return new InputModel(model, session);
    }
    const q = idOrQuery;
    const session = q.session ?? options.session ?? Session.default();
    const found = await queryRecords(session, { projectName: q.project, modelName: q.name, tags: q.tags, onlyPublished: q.onlyPublished, maxResults: 1 });
    if (!found.length) {
      const py = (v: unknown) => (v === undefined || v === null ? 'None' : Array.isArray(v) ? `[${v.map((x) => `'${x}'`).join(', ')}]` : String(v));
      throw new UsageError(`Could not locate model with project=${py(q.project)} name=${py(q.name)} tags=${py(q.tags)} published=${q.onlyPublished ? 'True' : 'False'}`);
    }
    return new InputModel(found[0], session);
  }

  /**
   * Registers weights that are already stored somewhere (no upload). A model already registered with the same URI
   * is returned as it is; otherwise one is created, in the current task's project unless `project` names one.
   */
  static async importModel(options: ImportModelOptions): Promise<InputModel> {
    const session = options.session ?? Session.default();
    const config = resolveConfig(options.configText, options.configDict);
    const weightsUrl = options.weightsUrl ? session.storage.conformUrl(options.weightsUrl) : '';
    if (!weightsUrl) throw new UsageError('Please provide a valid weights_url parameter');
    const existing = await findByUri(session, weightsUrl, false);
    if (existing) return existing;

    const task = Task.current();
    let projectId = task?.project;
    if (options.project) projectId = await getOrCreateProject(session, options.project);
    const comment = task ? `Imported by task id: ${task.id}${options.comment ? `\n${options.comment}` : ''}` : options.comment;
    const name = options.name ?? (task ? `Imported by ${task.name}` : `Anonymous model ${utcStamp()}`);
    const framework = options.framework ?? detectFramework(null, weightsUrl)[0] ?? undefined;
    const { id } = await session.client.call(models.create, {
      uri: weightsUrl,
      name,
      comment,
      tags: options.tags,
      system_tags: options.isPackage ? [PACKAGE_TAG] : undefined,
      framework,
      design: config === undefined ? undefined : wrapDesign(config),
      labels: options.labelEnumeration,
      project: projectId,
      ready: false,
    });
    const model = await InputModel.get(id, { session });
    if (options.createAsPublished) await model.publish();
    return model;
  }

  /** The model registered with these weights, or null (archived models only with `loadArchived`). */
  static async loadModel(weightsUrl: string, options: SessionOption & { loadArchived?: boolean } = {}): Promise<InputModel | null> {
    const session = options.session ?? Session.default();
    const url = weightsUrl ? session.storage.conformUrl(weightsUrl) : '';
    if (!url) throw new UsageError('Please provide a valid weights_url parameter');
    return findByUri(session, url, options.loadArchived ?? false);
  }

  /** A model that exists only locally (id "empty"): a configuration and labels to connect to a task. */
  static empty(options: SessionOption & { configText?: string; configDict?: object; labelEnumeration?: Record<string, number> } = {}): InputModel {
    const config = resolveConfig(options.configText, options.configDict);
    return new InputModel(
      { id: EMPTY_MODEL_ID, name: EMPTY_MODEL_ID, design: wrapDesign(config ?? ''), labels: options.labelEnumeration ?? {}, uri: '', ready: false, tags: [], system_tags: [] },
      options.session ?? Session.default(),
    );
  }

  override async reload(): Promise<this> {
    if (this.id === EMPTY_MODEL_ID) return this;
    return super.reload();
  }

  /**
   * Registers this model as an input of `task` under `name` (default: the weights file's stem, else "Input
   * Model"). The task takes the model's labels and configuration when it has none. Remotely (sdk-behaviour.md §5)
   * this handle is re-pointed to the model selected on the task instead (the entry of that name, else the first
   * input model), unless `ignoreRemoteOverrides`.
   */
  async connect(task: Task, name?: string, options: ConnectOptions = {}): Promise<void> {
    const entry = name || (this.url ? stem(this.url) : '') || 'Input Model';
    const ignore = await task.ignoreRemoteOverrides(entry, `${IGNORE_OVERRIDES_PREFIX}input_model_`, options.ignoreRemoteOverrides);
    if (task.runningRemotely && !ignore) {
      const inputs = (task.data.models?.input ?? []).filter((m) => m.model && !m.model.startsWith(DELETED_PREFIX));
      const selected = inputs.find((m) => m.name === entry) ?? inputs[0];
      if (selected) {
        if (selected.model !== this.id) this.record = (await this.session.client.call(models.get_by_id, { model: selected.model })).model;
        task.rememberModel('input', selected.name, this);
        return;
      }
    }
    if (this.id !== EMPTY_MODEL_ID) {
      await this.session.client.call(tasks.add_or_update_model, { task: task.id, name: entry, model: this.id, type: 'input' });
      task.rememberModel('input', entry, this);
    }
    if (!Object.keys(task.getLabelsEnumeration()).length && Object.keys(this.labels).length) await task.setModelLabelEnumeration(this.labels);
    if (!task.getModelConfigText() && this.configText) await task.setModelConfig({ configText: this.configText });
  }
}

async function queryRecords(session: Session, options: QueryModelsOptions): Promise<ModelRecord[]> {
  let projectId: string | undefined;
  if (options.projectName !== undefined && options.projectName !== null) {
    const found = await session.client.call(projects.get_all, {
      name: exactNamePattern(options.projectName),
      only_fields: ['id', 'name', 'last_update'],
      order_by: ['-last_update'],
      search_hidden: false,
    });
    if (!found.projects.length) throw new UsageError(`No projects found when searching for \`${options.projectName}\``);
    if (found.projects.length > 1) log.warn(`More than one project found when searching for \`${options.projectName}\`; using the last updated one`);
    projectId = found.projects[0].id;
  }
  const query: Record<string, unknown> = { order_by: ['-created'] };
  if (projectId) query.project = [projectId];
  if (options.modelName !== undefined && options.modelName !== null) query.name = exactNamePattern(options.modelName);
  if (options.tags?.length) query.tags = options.tags;
  if (!options.includeArchived) query.system_tags = ['-archived'];
  if (options.onlyPublished) query.ready = true;
  for (const [key, value] of Object.entries(options.metadata ?? {})) query[`metadata.${key}.value`] = value;

  const out: ModelRecord[] = [];
  for (let page = 0; ; page++) {
    const remaining = options.maxResults === undefined ? QUERY_PAGE_SIZE : options.maxResults - out.length;
    if (remaining <= 0) break;
    const pageSize = Math.min(QUERY_PAGE_SIZE, remaining);
    const res = await session.client.call(models.get_all, { ...query, page, page_size: pageSize });
    out.push(...res.models);
    if (res.models.length < pageSize) break;
  }
  return out;
}

async function findByUri(session: Session, url: string, includeArchived: boolean): Promise<InputModel | null> {
  const res = await session.client.call(models.get_all, {
    uri: [url],
    ...(includeArchived ? {} : { system_tags: ['-archived'] }),
    order_by: ['-created'],
    page: 0,
    page_size: QUERY_PAGE_SIZE,
  });
  if (!res.models.length) return null;
  if (res.models.length > 1) log.warn(`${res.models.length} models are registered with ${url}; using the newest (${res.models[0].id})`);
  return new InputModel(res.models[0], session);
}

/** The id of the project with exactly this name, created when missing (and found again when another client won the race). */
export async function getOrCreateProject(session: Session, name: string): Promise<string> {
  const find = async () =>
    (await session.client.call(projects.get_all, { name: exactNamePattern(name), only_fields: ['id', 'name'], search_hidden: true })).projects.find((p) => p.name === name)?.id;
  const existing = await find();
  if (existing) return existing;
  try {
    return (await session.client.call(projects.create, { name, description: '' })).id;
  } catch (err) {
    if (err instanceof ApiCallError && err.subcode === 801) {
      const again = await find();
      if (again) return again;
    }
    throw err;
  }
}

function utcStamp(): string {
  return new Date().toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
}
