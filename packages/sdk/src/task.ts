/**
 * `Task`: the run that produces models (sdk-behaviour.md §8). `Task.init` creates the project (when missing) and
 * the task, marks it started and sets its output destination, with the same calls ClearML's Python client makes.
 * `close()` waits for the task's uploads and reports and marks it completed; when any of them failed it marks the
 * task failed instead and rejects with the failure (decision 4).
 */
import os from 'node:os';
import { models, projects, tasks, type Task as TaskRecord } from '@cairn/protocol';
import { UsageError, causeText } from './errors.js';
import { resolveConfig } from './config/design.js';
import { textToConfigDict, type HoconValue } from './config/hocon.js';
import { log } from './log.js';
import { Session } from './session.js';
import type { BaseModel } from './model/base.js';
import { InputModel, Model, getOrCreateProject } from './model/model.js';
import { OutputModel } from './model/output-model.js';
import { exactNamePattern, type DestinationParts } from './model/paths.js';
import { uploadQueue } from './model/uploads.js';
import { Logger } from './reporting/logger.js';

export type { TaskRecord };

/** The configuration item a task's model configuration is stored under (ClearML's `General`). */
export const MODEL_CONFIG_SECTION = 'General';
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

  private constructor(readonly session: Session, record: TaskRecord, projectName?: string) {
    this.record = record;
    this.projectName = projectName;
  }

  /**
   * Creates a task in `projectName` (creating the project when missing), marks it started and makes it the current
   * task.
   */
  static async init(options: TaskInitOptions): Promise<Task> {
    if (!options.projectName) throw new UsageError('Task.init needs a projectName');
    if (!options.taskName) throw new UsageError('Task.init needs a taskName');
    const session = options.session ?? Session.default();
    const client = session.client;
    const projectId = await getOrCreateProject(session, options.projectName);
    const user = os.userInfo().username;
    const { id } = await client.call(tasks.create, {
      name: options.taskName,
      type: options.taskType ?? 'training',
      system_tags: ['development'],
      tags: options.tags,
      comment: `Auto-generated at ${new Date().toISOString()} by ${user}@${os.hostname()}`,
      project: projectId,
    });
    await client.call(tasks.started, { task: id, force: false });
    const { task: record } = await client.call(tasks.get_by_id, { task: id });
    const task = new Task(session, record, options.projectName);
    if (options.outputUri !== false) {
      const explicit = typeof options.outputUri === 'string' ? options.outputUri : undefined;
      const fallback = explicit ?? (await task.defaultOutputUri(options.outputUri === true));
      if (fallback) await task.setOutputUri(fallback);
    }
    Task.currentTask = task;
    log.info(`created task id=${task.id}: ${session.webHost}/projects/${projectId}/experiments/${task.id}/output/log`);
    return task;
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

  /** Connects a model: an `OutputModel` as an output of this task, any other model as an input. */
  async connect(model: BaseModel, name?: string): Promise<void> {
    if (model instanceof OutputModel) {
      await model.connect(this, name);
      return;
    }
    const input = model instanceof InputModel ? model : new InputModel(model.data, model.session);
    await input.connect(this, name);
    if (input.id && input.id !== 'empty') {
      const comment = this.comment ? `${this.comment}\nUsing model id: ${input.id}` : `Using model id: ${input.id}`;
      await this.session.client.call(tasks.update, { task: this.id, comment });
      this.record = { ...this.record, comment };
    }
  }

  /** Stores the model configuration (text, or a dict written as HOCON) in the task's `General` configuration item. */
  async setModelConfig(options: { configText?: string; configDict?: object }): Promise<void> {
    const text = resolveConfig(options.configText, options.configDict) ?? '';
    await this.session.client.call(tasks.edit_configuration, {
      task: this.id,
      configuration: [{ name: MODEL_CONFIG_SECTION, value: text }],
      force: true,
    });
    this.record = { ...this.record, configuration: { ...(this.record.configuration ?? {}), [MODEL_CONFIG_SECTION]: { name: MODEL_CONFIG_SECTION, value: text } } };
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
    await this.session.client.call(tasks.edit, { task: this.id, force: true, execution: { model_labels: { ...value } } });
    this.record = { ...this.record, execution: { ...(this.record.execution ?? {}), model_labels: { ...value } } };
  }

  /** The task's label enumeration (`{}` when none). */
  getLabelsEnumeration(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.record.execution?.model_labels ?? {})) if (typeof v === 'number') out[k] = v;
    return out;
  }

  /** Reads the task and its models again from the server. */
  async reload(): Promise<this> {
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
   * If an upload or a report failed, the task is marked failed and this rejects with that failure.
   */
  async close(): Promise<void> {
    try {
      await this.finish('completed');
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
        if (target === 'completed') {
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
