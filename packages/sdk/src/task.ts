/**
 * `Task`: the run that produces models (sdk-behaviour.md §8). `Task.init` creates the project (when missing) and
 * the task, records the script that runs it, marks it started and sets its output destination, with the same calls
 * ClearML's Python client makes. `close()` waits for the task's uploads and reports and marks it completed; when any
 * of them failed it marks the task failed instead and rejects with the failure (decision 4).
 *
 * Remote mode (§8.3): under an agent (`CLEARML_TASK_ID` set), `Task.init` attaches to that task instead, and
 * `connect`, `connectConfiguration` and `connectLabelEnumeration` hand the code the values stored on the task (as
 * edited in the web app) instead of writing the code's values, unless told to ignore remote overrides.
 *
 * Offline mode (sdk-behaviour.md §6.10, §8.5): after `Task.setOffline(true)` (or with `CLEARML_OFFLINE_MODE` set),
 * `Task.init` makes no server call; the task and everything done with it are recorded in
 * `<cache dir>/offline/<task id>/`, `close()` zips that folder, and `Task.importOfflineSession` replays it against a
 * server.
 */
import os from 'node:os';
import path from 'node:path';
import { models, projects, tasks, type RequestOf, type Task as TaskRecord } from '@cairn/protocol';
import { UsageError, causeText } from './errors.js';
import { resolveConfig } from './config/design.js';
import { configDictToText, textToConfigDict, type HoconValue } from './config/hocon.js';
import { log } from './log.js';
import { Session } from './session.js';
import { BaseModel } from './model/base.js';
import { EMPTY_MODEL_ID, InputModel, Model, getOrCreateProject, type ConnectOptions } from './model/model.js';
import { OutputModel } from './model/output-model.js';
import { exactNamePattern, type DestinationParts } from './model/paths.js';
import { uploadQueue } from './model/uploads.js';
import { Logger } from './reporting/logger.js';
import { IGNORE_OVERRIDES_PREFIX, TASK_ID_ENV, applyParamItems, currentScript, remoteTaskId, replaceContents, toParamItems } from './task-params.js';
import { OfflineStore, isOfflineMode, offlineError, offlineId, openOfflineBundle, setOfflineMode } from './offline/store.js';
import { replayOfflineSession } from './offline/replay.js';

export type { TaskRecord };

/** The configuration item a task's model configuration is stored under (ClearML's `General`). */
export const MODEL_CONFIG_SECTION = 'General';
/** The hyperparameter section `connect(params)` writes to when given no name (ClearML's). */
export const DEFAULT_PARAMS_SECTION = 'General';
/** How many model records one `models.get_all` of `reload()` reads. */
const MODELS_PAGE_SIZE = 500;

export type TaskType = 'training' | 'testing' | 'inference' | 'data_processing' | 'application' | 'monitor' | 'controller' | 'optimizer' | 'service' | 'qc' | 'custom';

export interface TaskInitOptions {
  projectName: string;
  taskName: string;
  taskType?: TaskType;
  /**
   * Where the task's models go: a URI (checked with a write test for local folders, credentials for object
   * stores), `true` for the project's default or the file server, `false` for none. Default: the project's
   * default, else `sdk.development.default_output_uri` / `CLEARML_DEFAULT_OUTPUT_URI`.
   */
  outputUri?: string | boolean;
  tags?: string[];
  session?: Session;
}

export type TaskQuery = { taskId: string } | { projectName: string; taskName: string };

export interface ConnectConfigurationOptions extends ConnectOptions {
  description?: string;
}

/** A list of models that can also be read by the name the task registered each under: `list.get('best')` or `list['best']`. */
export type ModelList<T extends BaseModel = BaseModel> = T[] & { get(name: string): T | undefined; readonly names: string[] } & { readonly [name: string]: unknown };

/** Task states in which the task can still take models, configuration and labels. */
const RUNNING = new Set(['created', 'in_progress']);

export class Task {
  private static currentTask: Task | undefined;

  private record: TaskRecord;
  private projectName: string | undefined;
  private readonly known = { input: new Map<string, BaseModel>(), output: new Map<string, BaseModel>() };
  /** Output models whose record names this task but that no entry names ("Output Model #i"). */
  private unnamedOutputs: BaseModel[] = [];
  private logger: Logger | undefined;
  /** Attached to the task an agent runs (`CLEARML_TASK_ID`) rather than created by this process. */
  private remote = false;

  private constructor(readonly session: Session, record: TaskRecord, projectName?: string) {
    this.record = record;
    this.projectName = projectName;
  }

  /**
   * Creates a task in `projectName` (creating the project when missing), marks it started and makes it the current
   * task. Offline, the task is recorded locally instead (see `Task.setOffline`).
   */
  static async init(options: TaskInitOptions): Promise<Task> {
    if (!options.projectName) throw new UsageError('Task.init needs a projectName');
    if (!options.taskName) throw new UsageError('Task.init needs a taskName');
    const session = options.session ?? Session.default();
    if (isOfflineMode()) return Task.initOffline(session, options);
    const remoteId = remoteTaskId();
    if (remoteId) return Task.attach(session, remoteId, options);
    const task = await Task.create(session, options, { comment: autoComment(), script: currentScript() });
    Task.currentTask = task;
    log.info(`created task id=${task.id}: ${session.webHost}/projects/${task.project}/experiments/${task.id}/output/log`);
    return task;
  }

  /** Creates the project (when missing) and the task with `fields`, marks it started and sets its output destination. */
  private static async create(session: Session, options: TaskInitOptions, fields: Partial<RequestOf<typeof tasks.create>>): Promise<Task> {
    const client = session.client;
    const projectId = await getOrCreateProject(session, options.projectName);
    const { id } = await client.call(tasks.create, {
      name: options.taskName,
      type: options.taskType ?? 'training',
      system_tags: ['development'],
      tags: options.tags,
      project: projectId,
      ...fields,
    });
    await client.call(tasks.started, { task: id, force: false });
    const { task: record } = await client.call(tasks.get_by_id, { task: id });
    const task = new Task(session, record, options.projectName);
    if (options.outputUri !== false) {
      const explicit = typeof options.outputUri === 'string' ? options.outputUri : undefined;
      const fallback = explicit ?? (await task.defaultOutputUri(options.outputUri === true));
      if (fallback) await task.setOutputUri(fallback);
    }
    return task;
  }

  /**
   * Offline: an `offline-<32 hex>` task recorded in `<cache dir>/offline/<task id>/` (its session reaches no
   * server). A string `outputUri` is recorded unchecked; the import checks it.
   */
  private static async initOffline(session: Session, options: TaskInitOptions): Promise<Task> {
    const id = offlineId();
    const now = new Date().toISOString();
    const destination = typeof options.outputUri === 'string' && options.outputUri ? session.storage.conformUrl(options.outputUri).replace(/\/+$/, '') : '';
    const record: TaskRecord = {
      id,
      name: options.taskName,
      type: options.taskType ?? 'training',
      status: 'in_progress',
      comment: autoComment(),
      tags: [...(options.tags ?? [])],
      system_tags: ['development'],
      script: currentScript(),
      created: now,
      started: now,
      last_update: now,
      output: { destination },
      configuration: {},
      hyperparams: {},
      execution: { model_labels: {} },
    };
    // The cache root is the folder the download cache keeps its `cairn/` tree in.
    const folder = path.join(path.dirname(session.storage.cache.root), 'offline', id);
    const outputUri = typeof options.outputUri === 'string' ? destination || undefined : options.outputUri;
    const store = await OfflineStore.create(folder, { projectName: options.projectName, taskName: options.taskName, taskType: record.type as string, tags: options.tags, outputUri, record });
    const task = new Task(session.offlineSession(store), record, options.projectName);
    Task.currentTask = task;
    log.info(`recording task id=${id} offline in ${folder}`);
    return task;
  }

  /**
   * Offline mode on or off for the tasks `Task.init` creates from now on (it wins over `CLEARML_OFFLINE_MODE`).
   * Offline, no server call is made: calls that need one throw a UsageError.
   */
  static setOffline(offline: boolean): void {
    setOfflineMode(offline);
  }

  /** Whether the SDK is offline: `Task.setOffline`, else `CLEARML_OFFLINE_MODE`. */
  static isOffline(): boolean {
    return isOfflineMode();
  }

  /**
   * Imports a session recorded offline (the zip `close()` wrote, or its folder, from any machine): creates the
   * project and the task with its configuration, parameters and labels, makes every output model again with its
   * constructor values, uploads its weights (digest recorded), sets its metadata, sends the reports (model reports to
   * the new models), and marks the task as it ended. Resolves to the new task. If the import fails midway, the task
   * is marked failed.
   */
  static async importOfflineSession(zipOrFolder: string, options: { session?: Session } = {}): Promise<Task> {
    if (isOfflineMode()) throw offlineError('importing an offline session');
    const session = options.session ?? Session.default();
    const bundle = await openOfflineBundle(zipOrFolder);
    try {
      const state = bundle.data.task;
      const r = state.record;
      const task = await Task.create(
        session,
        { projectName: state.projectName, taskName: state.taskName, taskType: state.taskType as TaskType, tags: state.tags, outputUri: state.outputUri },
        { comment: r.comment, system_tags: r.system_tags, script: r.script, configuration: r.configuration, hyperparams: r.hyperparams, execution: { model_labels: r.execution?.model_labels ?? {} } },
      );
      try {
        await replayOfflineSession(task, bundle);
      } catch (err) {
        await task.markFailed(`offline session import failed: ${causeText(err)}`).catch(() => undefined);
        throw err;
      }
      return task;
    } finally {
      await bundle.dispose();
    }
  }

  /**
   * Remote mode: the task an agent runs becomes this process's task. It is marked started when the agent has not
   * done so; its stored output destination is kept (or, when empty, set as a local run would set it).
   */
  private static async attach(session: Session, id: string, options: TaskInitOptions): Promise<Task> {
    const { task: record } = await session.client.call(tasks.get_by_id, { task: id });
    if (record.status !== 'in_progress') {
      try {
        await session.client.call(tasks.started, { task: id, force: false, status_reason: 'remote run started' });
      } catch (err) {
        throw new UsageError(`cannot run task ${id} (${TASK_ID_ENV}): it is ${record.status} and cannot be started: ${causeText(err)}`, { cause: err });
      }
    }
    const task = new Task(session, record);
    task.remote = true;
    await task.reload();
    if (!task.outputUri && options.outputUri !== false) {
      const explicit = typeof options.outputUri === 'string' ? options.outputUri : undefined;
      const fallback = explicit ?? (await task.defaultOutputUri(options.outputUri === true));
      if (fallback) await task.setOutputUri(fallback);
    }
    Task.currentTask = task;
    log.info(`running task id=${task.id} remotely: ${session.webHost}/projects/${task.project ?? '*'}/tasks/${task.id}`);
    return task;
  }

  /** Whether this process runs a task for an agent (`CLEARML_TASK_ID` is set). */
  static runningRemotely(): boolean {
    return remoteTaskId() !== undefined;
  }

  /** Loads a task by id, or the last updated task with this name in this project. */
  static async getTask(query: TaskQuery, options: { session?: Session } = {}): Promise<Task> {
    const session = options.session ?? Session.default();
    let id: string;
    let projectName: string | undefined;
    if ('taskId' in query) {
      id = query.taskId;
    } else {
      const found = await session.client.call(projects.get_all, { name: exactNamePattern(query.projectName), only_fields: ['id', 'name'], search_hidden: true });
      const project = found.projects.find((p) => p.name === query.projectName);
      if (!project) throw new UsageError(`No projects found when searching for \`${query.projectName}\``);
      const res = await session.client.call(tasks.get_all, {
        project: [project.id],
        name: exactNamePattern(query.taskName),
        order_by: ['-last_update'],
        only_fields: ['id'],
        page: 0,
        page_size: 1,
        search_hidden: true,
      });
      if (!res.tasks.length) throw new UsageError(`No task named \`${query.taskName}\` in project \`${query.projectName}\``);
      id = res.tasks[0].id;
      projectName = query.projectName;
    }
    const { task: record } = await session.client.call(tasks.get_by_id, { task: id });
    const task = new Task(session, record, projectName);
    await task.reload();
    return task;
  }

  /** The task `Task.init` created in this process (until it is closed). */
  static current(): Task | undefined {
    return Task.currentTask;
  }

  get id(): string {
    return this.record.id;
  }

  get name(): string {
    return this.record.name ?? '';
  }

  /** The project id. */
  get project(): string | undefined {
    const p = this.record.project;
    return typeof p === 'string' ? p || undefined : p?.id;
  }

  get status(): string {
    return this.record.status ?? '';
  }

  get comment(): string {
    return this.record.comment ?? '';
  }

  /** Where the task's models are uploaded by default (`output.destination`). */
  get outputUri(): string | undefined {
    return this.record.output?.destination || undefined;
  }

  /** The folder this task is recorded in when it runs offline. */
  get offlineFolder(): string | undefined {
    return this.session.offlineStore?.folder;
  }

  /** A copy of the loaded task record. */
  get data(): TaskRecord {
    return structuredClone(this.record);
  }

  /**
   * The task's models: `{input, output}`, each a list that can also be read by entry name
   * (`task.models.output.get('best')`). Read from what is loaded; `await task.reload()` refreshes.
   */
  get models(): { input: ModelList; output: ModelList } {
    return {
      input: modelList([...this.known.input.entries()]),
      output: modelList([...this.known.output.entries(), ...this.unnamedOutputs.map((m, i) => [`Output Model #${i}`, m] as [string, BaseModel])]),
    };
  }

  /**
   * Sets where the task's models go: a URI is checked first (a write test for local folders, credentials and access
   * for object stores), `true` means the project's default or the file server, `false`/`null` clears it.
   */
  async setOutputUri(uri: string | boolean | null): Promise<void> {
    const store = this.session.offlineStore;
    if (store) {
      // Offline nothing can be checked: the import sets it, checked, on the server.
      const destination = typeof uri === 'string' && uri ? this.session.storage.conformUrl(uri).replace(/\/+$/, '') : '';
      this.record = { ...this.record, output: { ...(this.record.output ?? {}), destination } };
      await store.saveTask(this.record, { value: uri === true ? true : destination || false });
      return;
    }
    let value = '';
    if (uri === true) value = (await this.defaultOutputUri(true)) ?? '';
    else if (typeof uri === 'string' && uri) value = this.session.storage.conformUrl(uri).replace(/\/+$/, '');
    if (value) {
      try {
        await this.session.storage.verifyWritable(value);
      } catch (err) {
        throw new UsageError(`Insufficient permissions (write failed) for ${value}: ${causeText(err)}`, { cause: err });
      }
    }
    await this.session.client.call(tasks.edit, { task: this.id, force: true, output_dest: value });
    this.record = { ...this.record, output: { ...(this.record.output ?? {}), destination: value } };
  }

  /** Whether this task is the one an agent runs in this process (see `Task.init`). */
  get runningRemotely(): boolean {
    return this.remote;
  }

  /**
   * Connects a model (an `OutputModel` as an output of this task, any other model as an input), or an object of
   * parameters as the hyperparameter section `name` (default `General`; nested objects become `a/b` names).
   * Locally the parameters are stored and the object is returned unchanged; remotely the stored values (as edited
   * in the web app) are written into the object, each with the type the code gave it, and the object is returned.
   */
  async connect(model: BaseModel, name?: string, options?: ConnectOptions): Promise<void>;
  async connect<T extends Record<string, unknown>>(params: T, name?: string, options?: ConnectOptions): Promise<T>;
  async connect(target: BaseModel | Record<string, unknown>, name?: string, options: ConnectOptions = {}): Promise<unknown> {
    if (target instanceof OutputModel) {
      await target.connect(this, name);
      return undefined;
    }
    if (target instanceof BaseModel) {
      const input = target instanceof InputModel ? target : new InputModel(target.data, target.session);
      if (this.session.offlineStore && input.id !== EMPTY_MODEL_ID) throw offlineError('connecting an input model');
      await input.connect(this, name, options);
      if (input.id && input.id !== 'empty') {
        const comment = this.comment ? `${this.comment}\nUsing model id: ${input.id}` : `Using model id: ${input.id}`;
        await this.session.client.call(tasks.update, { task: this.id, comment });
        this.record = { ...this.record, comment };
      }
      return undefined;
    }
    if (typeof target !== 'object' || target === null || Array.isArray(target)) throw new UsageError('connect takes a model or an object of parameters');
    const section = name || DEFAULT_PARAMS_SECTION;
    const ignore = await this.ignoreRemoteOverrides(section, IGNORE_OVERRIDES_PREFIX, options.ignoreRemoteOverrides);
    const stored = Object.values(this.record.hyperparams?.[section] ?? {}).filter((p) => !p.name?.startsWith(IGNORE_OVERRIDES_PREFIX));
    if (this.remote && !ignore && stored.length) {
      applyParamItems(target, stored);
      return target;
    }
    const items = toParamItems(section, target);
    if (items.length) await this.writeParams(items);
    return target;
  }

  /**
   * Connects a configuration as the configuration item `name` (default `General`, where the model configuration
   * lives): an object is stored as HOCON text, a string as it is. Locally the code's configuration is stored and
   * returned; remotely the stored one (as edited in the web app) replaces the object's contents (or the string)
   * and is returned.
   */
  async connectConfiguration<T extends Record<string, unknown> | string>(configuration: T, name?: string, options: ConnectConfigurationOptions = {}): Promise<T> {
    const item = name || MODEL_CONFIG_SECTION;
    const isText = typeof configuration === 'string';
    if (!isText && (typeof configuration !== 'object' || configuration === null || Array.isArray(configuration))) {
      throw new UsageError('connectConfiguration takes an object or a configuration text');
    }
    const ignore = await this.ignoreRemoteOverrides(item, `${IGNORE_OVERRIDES_PREFIX}config_`, options.ignoreRemoteOverrides);
    const stored = this.record.configuration?.[item]?.value;
    if (this.remote && !ignore && stored) {
      if (isText) return stored as T;
      const parsed = textToConfigDict(stored);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError(`the stored configuration ${item} of task ${this.id} is not an object`);
      replaceContents(configuration as Record<string, unknown>, parsed as Record<string, unknown>);
      return configuration;
    }
    const value = isText ? configuration : configDictToText(configuration);
    const entry = { name: item, value, type: isText ? 'text' : 'dictionary', ...(options.description ? { description: options.description } : {}) };
    if (!this.session.offlineStore) await this.session.client.call(tasks.edit_configuration, { task: this.id, configuration: [entry], force: true });
    await this.keep({ ...this.record, configuration: { ...(this.record.configuration ?? {}), [item]: entry } });
    return configuration;
  }

  /**
   * Connects the label enumeration (name → integer id) that output models take. Locally it is stored on the task;
   * remotely the object's contents are replaced by the task's stored labels (as edited in the web app).
   */
  async connectLabelEnumeration(labels: Record<string, number>, options: ConnectOptions = {}): Promise<Record<string, number>> {
    if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) throw new UsageError('connectLabelEnumeration takes an object of label → integer id');
    const ignore = await this.ignoreRemoteOverrides(DEFAULT_PARAMS_SECTION, `${IGNORE_OVERRIDES_PREFIX}label_enumeration_`, options.ignoreRemoteOverrides);
    const stored = this.getLabelsEnumeration();
    if (this.remote && !ignore && Object.keys(stored).length) {
      replaceContents(labels, stored);
      return labels;
    }
    await this.setModelLabelEnumeration(labels);
    return labels;
  }

  /**
   * ClearML's `ignore_remote_overrides` flag `<section>/<name>`: stored on the task when set locally; read back
   * from the task remotely (where the web app may have changed it).
   */
  async ignoreRemoteOverrides(section: string, name: string, given: boolean | undefined): Promise<boolean> {
    if (this.remote) {
      const stored = this.record.hyperparams?.[section]?.[name]?.value;
      return stored === undefined || stored === null ? !!given : /^(true|1)$/i.test(stored.trim());
    }
    if (given) await this.writeParams([{ section, name, value: 'true', type: 'bool' }]);
    return !!given;
  }

  private async writeParams(items: { section: string; name: string; value: string; type: string }[]): Promise<void> {
    if (!this.session.offlineStore) await this.session.client.call(tasks.edit_hyper_params, { task: this.id, hyperparams: items, replace_hyperparams: 'none', force: true });
    const hyperparams = structuredClone(this.record.hyperparams ?? {});
    for (const item of items) hyperparams[item.section] = { ...hyperparams[item.section], [item.name]: item };
    await this.keep({ ...this.record, hyperparams });
  }

  /** Takes a changed record; offline, the task's folder records it. */
  private async keep(record: TaskRecord): Promise<void> {
    this.record = record;
    await this.session.offlineStore?.saveTask(record);
  }

  /** Stores the model configuration (text, or a dict written as HOCON) in the task's `General` configuration item. */
  async setModelConfig(options: { configText?: string; configDict?: object }): Promise<void> {
    const text = resolveConfig(options.configText, options.configDict) ?? '';
    if (!this.session.offlineStore) {
      await this.session.client.call(tasks.edit_configuration, {
        task: this.id,
        configuration: [{ name: MODEL_CONFIG_SECTION, value: text }],
        force: true,
      });
    }
    await this.keep({ ...this.record, configuration: { ...(this.record.configuration ?? {}), [MODEL_CONFIG_SECTION]: { name: MODEL_CONFIG_SECTION, value: text } } });
  }

  /** The model configuration text ("" when none). */
  getModelConfigText(): string {
    return this.record.configuration?.[MODEL_CONFIG_SECTION]?.value ?? '';
  }

  /** The model configuration parsed as HOCON. */
  getModelConfigDict(): HoconValue {
    return textToConfigDict(this.getModelConfigText());
  }

  /** Stores the label enumeration (name → integer id) on the task. */
  async setModelLabelEnumeration(labels: Record<string, number> | null | undefined): Promise<void> {
    const value = labels ?? {};
    if (typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((v) => !Number.isInteger(v))) {
      throw new UsageError('Expected label to be a dict[str => int]');
    }
    if (!this.session.offlineStore) await this.session.client.call(tasks.edit, { task: this.id, force: true, execution: { model_labels: { ...value } } });
    await this.keep({ ...this.record, execution: { ...(this.record.execution ?? {}), model_labels: { ...value } } });
  }

  /** The task's label enumeration (`{}` when none). */
  getLabelsEnumeration(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.record.execution?.model_labels ?? {})) if (typeof v === 'number') out[k] = v;
    return out;
  }

  /** Reads the task and its models again from the server (offline, the local record is the task's only state). */
  async reload(): Promise<this> {
    if (this.session.offlineStore) return this;
    const { task } = await this.session.client.call(tasks.get_by_id, { task: this.id });
    this.record = task;
    const entries = { input: task.models?.input ?? [], output: task.models?.output ?? [] };
    const ids = [...new Set([...entries.input, ...entries.output].map((e) => e.model).filter((id) => id && !id.startsWith('__DELETED__')))];
    const records = new Map<string, Model>();
    const load = async (query: Record<string, unknown>) => {
      for (let page = 0; ; page++) {
        const res = await this.session.client.call(models.get_all, { ...query, order_by: ['created'], page, page_size: MODELS_PAGE_SIZE });
        for (const r of res.models) records.set(r.id, new (r.task === this.id ? Model : InputModel)(r, this.session));
        if (res.models.length < MODELS_PAGE_SIZE) return;
      }
    };
    if (ids.length) await load({ id: ids });
    await load({ task: [this.id] });
    const pick = (id: string, kind: 'input' | 'output') => {
      // Models this process holds (an OutputModel being written) stay the same objects.
      for (const m of this.known[kind].values()) if (m.id === id) return m;
      const r = records.get(id);
      return r && kind === 'input' && !(r instanceof InputModel) ? new InputModel(r.data, this.session) : r;
    };
    for (const kind of ['input', 'output'] as const) {
      const next = new Map<string, BaseModel>();
      for (const e of entries[kind]) {
        const m = pick(e.model, kind);
        if (m) next.set(e.name, m);
      }
      this.known[kind] = next;
    }
    const named = new Set([...this.known.output.values()].map((m) => m.id));
    this.unnamedOutputs = [...records.values()].filter((m) => m.task === this.id && !named.has(m.id));
    return this;
  }

  /** Waits for reported events (and the task's uploads too with `waitForUploads`); rejects if any failed. */
  async flush(options: { waitForUploads?: boolean } = {}): Promise<void> {
    await this.flushEvents();
    if (options.waitForUploads) await uploadQueue.wait({ taskId: this.id });
  }

  /**
   * Ends the task: waits for its uploads and reported events, then marks it completed, as ClearML's `close()` does.
   * If an upload or a report failed, the task is marked failed and this rejects with that failure. Offline, the
   * task's folder is then zipped for `Task.importOfflineSession`: resolves to (and prints) the zip's path.
   */
  async close(): Promise<string | undefined> {
    try {
      await this.finish('completed');
      const store = this.session.offlineStore;
      if (!store) return undefined;
      const zip = await store.pack();
      console.log(`cairn: offline session of task ${this.id} stored in ${zip}`);
      return zip;
    } finally {
      if (Task.currentTask === this) Task.currentTask = undefined;
    }
  }

  /** Waits for uploads and reports, then marks the task completed; marks it failed and rejects if any of them failed. */
  async markCompleted(): Promise<void> {
    await this.finish('completed');
  }

  /** Waits for uploads and reports, marks the task failed, then rejects if any upload or report failed. */
  async markFailed(statusReason?: string): Promise<void> {
    await this.finish('failed', statusReason);
  }

  /** The folder layout of this task's models (project and task names and ids). */
  async destinationParts(): Promise<DestinationParts> {
    if (this.projectName === undefined && this.project) {
      this.projectName = (await this.session.client.call(projects.get_by_id, { project: this.project })).project.name ?? '';
    }
    return { projectName: this.projectName ?? '', projectId: this.project ?? '', taskName: this.name, taskId: this.id };
  }

  /** The id of the input model registered under `entry`, if any (an output model's parent). */
  inputModelId(entry: string): string | undefined {
    const registered = this.known.input.get(entry)?.id;
    if (registered) return registered;
    return (this.record.models?.input ?? []).find((e) => e.name === entry)?.model;
  }

  /** Records locally what a model registration just did on the server. */
  rememberModel(kind: 'input' | 'output', entry: string, model: BaseModel): void {
    for (const [name, m] of this.known[kind]) if (m === model && name !== entry) this.known[kind].delete(name);
    this.known[kind].set(entry, model);
    this.unnamedOutputs = this.unnamedOutputs.filter((m) => m.id !== model.id);
  }

  /** Task-level reporting (scalars, plots, log lines on the task's pages). */
  getLogger(): Logger {
    this.logger ??= new Logger({ pipeline: this.session.events, entityId: () => this.id });
    return this.logger;
  }

  private async flushEvents(): Promise<void> {
    await this.session.flushEvents();
  }

  private async finish(status: 'completed' | 'failed', statusReason?: string): Promise<void> {
    const failures: Error[] = [];
    try {
      await uploadQueue.wait({ taskId: this.id });
    } catch {
      // Collected below, with every other failure of this task.
    }
    failures.push(...uploadQueue.failures(this.id));
    try {
      await this.flushEvents();
    } catch (err) {
      failures.push(err as Error);
    }
    const target = failures.length ? 'failed' : status;
    const reason = failures.length ? `model upload or report failed: ${causeText(failures[0])}` : statusReason ?? status;
    try {
      if (RUNNING.has(this.status) || (target === 'failed' && this.status !== 'failed')) {
        if (this.session.offlineStore) {
          const now = new Date().toISOString();
          await this.keep({ ...this.record, status: target, status_reason: reason, status_changed: now, last_update: now, ...(target === 'completed' ? { completed: now } : {}) });
        } else if (target === 'completed') {
          await this.session.client.call(tasks.completed, { task: this.id, force: false, status_reason: reason, publish: false });
        } else {
          await this.session.client.call(tasks.failed, { task: this.id, force: true, status_reason: reason.slice(0, 255), status_message: failures.length ? 'failed' : '' });
        }
        await this.reload();
      }
    } catch (err) {
      // The failure that ended the task is what the caller must see, not the status call that could not follow it.
      if (!failures.length) throw err;
      log.warn(`could not mark task ${this.id} ${target}: ${causeText(err)}`);
    }
    uploadQueue.forgetTask(this.id);
    if (failures.length) throw failures[0];
  }

  /** `true` asks for a destination: the project's default, the configured default, else the file server. */
  private async defaultOutputUri(orFilesServer: boolean): Promise<string | undefined> {
    let projectDefault: string | undefined;
    if (this.project) {
      projectDefault = (await this.session.client.call(projects.get_by_id, { project: this.project })).project.default_output_destination || undefined;
    }
    return projectDefault ?? this.session.config.defaultOutputUri ?? (orFilesServer ? this.session.filesHost : undefined);
  }
}

/** ClearML's comment on a new task. */
function autoComment(): string {
  return `Auto-generated at ${new Date().toISOString()} by ${os.userInfo().username}@${os.hostname()}`;
}

function modelList(entries: [string, BaseModel][]): ModelList {
  const list = entries.map(([, m]) => m) as BaseModel[] & { get(name: string): BaseModel | undefined; names: string[] };
  const byName = new Map(entries);
  Object.defineProperty(list, 'get', { value: (name: string) => byName.get(name), enumerable: false });
  Object.defineProperty(list, 'names', { value: entries.map(([n]) => n), enumerable: false });
  for (const [name, model] of entries) {
    // Entry names that are not array members (`0`, `length`, `map`...) can be read as properties too.
    if (!(name in list) && !/^\d+$/.test(name)) Object.defineProperty(list, name, { value: model, enumerable: false });
  }
  return list as ModelList;
}
