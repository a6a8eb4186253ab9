/**
 * `OutputModel`: the model a task writes (sdk-behaviour.md §6, the reference page). It starts local ("floating")
 * and is created on the server by the first call that needs it: weights, metadata, a report, publish (decision 10).
 *
 * Weights (decisions 4–7, 11): the destination is the first of `uploadUri`, `setUploadDestination`, the task's
 * output URI, `OutputModel.setDefaultUploadUri`, `sdk.development.default_output_uri`, the file server. The object
 * is stored under `<destination>/<project>/<task name>.<task id>/models/<file>`; its SHA-256 and size are computed
 * while it is sent. The model's URI changes only once the object is complete, in one `models.edit` together with
 * the digest (a new model is created with `uri: ""`, never with a placeholder), and keeps its previous value when
 * the upload fails. A failed background upload rejects `OutputModel.waitForUploads()` and `task.close()`.
 *
 * Offline (sdk-behaviour.md §6.10) the model has an `offline-<32 hex>` id from the start; weights are copied into the
 * task's offline folder, and everything else is recorded there too, for `Task.importOfflineSession` to replay.
 */
import { readdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { models, tasks } from '@cairn/protocol';
import { ApiCallError, UploadError, UsageError, causeText } from '../errors.js';
import { resolveConfig, wrapDesign } from '../config/design.js';
import { log } from '../log.js';
import { createZipPackage } from '../storage/archive.js';
import { fileUriOf, quotePath, splitHttpUri } from '../storage/url.js';
import type { ProgressListener } from '../storage/types.js';
import { Task } from '../task.js';
import { offlineError, offlineId, type OfflineWeights } from '../offline/store.js';
import { BaseModel, PACKAGE_TAG, type ModelRecord } from './base.js';
import { detectFramework } from './framework.js';
import { baseName, stem, weightsDestination } from './paths.js';
import { uploadQueue } from './uploads.js';

export interface OutputModelOptions {
  /** The task the model belongs to (default: `Task.current()`). */
  task?: Task;
  configText?: string;
  configDict?: object;
  /** Label name → class id (default: the task's labels). */
  labelEnumeration?: Record<string, number>;
  /** Default: the task's name. */
  name?: string;
  tags?: string[];
  comment?: string;
  framework?: string;
  /** Reuse this existing model instead of creating a new one. */
  baseModelId?: string;
}

export interface UpdateWeightsOptions {
  /** A local file to upload (a folder is packaged). Exactly one of this and `registerUri`. */
  weightsFilename?: string;
  /** Where to upload (also used by later updates of this model). */
  uploadUri?: string;
  /** The object's file name (default: the local file's name). */
  targetFilename?: string;
  /** Delete the uploaded local file once the upload is verified (default true; never a folder's contents). */
  autoDeleteFile?: boolean;
  /** A URI of weights stored already: recorded as is, nothing uploaded. */
  registerUri?: string;
  iteration?: number;
  /** Prefix the comment with `snapshot <file> stored` (default true). */
  updateComment?: boolean;
  /** Mark the weights as a package (`package` system tag). */
  isPackage?: boolean;
  /** Upload in the background (default true): resolve once queued. */
  asyncEnable?: boolean;
  onProgress?: ProgressListener;
}

export interface UpdateWeightsPackageOptions {
  /** Files to pack (their common folder is the package root). Exactly one of this and `weightsPath`. */
  weightsFilenames?: string[];
  /** A folder to pack, with everything below it. */
  weightsPath?: string;
  uploadUri?: string;
  /** The package's file name (`.zip` is appended when missing; default `model_package.zip`). */
  targetFilename?: string;
  /** Kept for ClearML compatibility: only the temporary zip is ever deleted (decision 7). */
  autoDeleteFile?: boolean;
  iteration?: number;
  asyncEnable?: boolean;
  onProgress?: ProgressListener;
}

export interface WaitForUploadsOptions {
  /** Seconds to wait at most (default: until done). */
  timeout?: number;
  /** Wait for the oldest N pending uploads only. */
  maxNumUploads?: number;
}

const PUBLISHED = 'Model is published and cannot be changed';

interface SendOptions {
  framework?: string;
  iteration?: number;
  /** Put in front of the comment once the weights are recorded. */
  commentLine?: string;
  isPackage?: boolean;
  /** Delete the local file: never, once uploaded and recorded, or whatever happens (a temporary file). */
  deleteFile: 'never' | 'after-success' | 'always';
  asyncEnable: boolean;
  onProgress?: ProgressListener;
}

export class OutputModel extends BaseModel {
  private static defaultUploadUri: string | undefined;

  private readonly owner: Task;
  /** The name this model is registered under on its task. */
  private entryName: string | undefined;
  /** A name given by `connect`: it wins over file names. */
  private connectName: string | undefined;
  private uploadUri: string | undefined;
  private creating: Promise<string> | undefined;
  /** Adoption of `baseModelId`, awaited by every server call. */
  private readonly ready: Promise<void>;

  constructor(options: OutputModelOptions = {}) {
    const task = options.task ?? Task.current();
    if (!task) throw new UsageError('task object was not provided, and no current task was found');
    if (!(task instanceof Task)) throw new UsageError('task argument must be of Task type');
    if (options.baseModelId && task.session.offlineStore) throw offlineError('reusing a model (baseModelId)');
    const config = resolveConfig(options.configText, options.configDict);
    // Decision 2: without a configuration or labels, the task's are used.
    const design = wrapDesign(config ?? task.getModelConfigText());
    const labels = options.labelEnumeration ?? task.getLabelsEnumeration();
    const prefix = options.baseModelId ? 'Overwritten by task id' : 'Created by task id';
    super(task.session, {
      id: '',
      name: options.name || task.name,
      comment: `${prefix}: ${task.id}${options.comment ? `\n${options.comment}` : ''}`,
      tags: options.tags ? [...options.tags] : [],
      system_tags: [],
      framework: options.framework,
      design,
      labels: { ...labels },
      uri: '',
      ready: false,
      task: task.id,
      project: task.project,
    });
    this.owner = task;
    this.uploadUri = task.outputUri?.replace(/\/+$/, '') || undefined;
    this.ready = options.baseModelId ? this.adopt(options.baseModelId, options, config) : Promise.resolve();
    const store = task.session.offlineStore;
    if (store) {
      // G95: generated once, kept for the model's life.
      this.record = { ...this.record, id: offlineId() };
      const init = { configText: config, labelEnumeration: options.labelEnumeration, name: options.name, tags: options.tags, comment: options.comment, framework: options.framework };
      store.addModel({ id: this.record.id, init: structuredClone(init), changes: {}, metadata: {} });
    }
  }

  /** The id of the task the model belongs to. */
  override get task(): string {
    return this.owner.id;
  }

  override get project(): string | undefined {
    return super.project ?? this.owner.project;
  }

  /** Where weights are uploaded, when known before the upload (set explicitly, or the task's output URI). */
  get uploadStorageUri(): string | undefined {
    return this.uploadUri;
  }

  /** Every upload's default destination when nothing more specific is set (decision 5). `null` resets it. */
  static setDefaultUploadUri(outputUri: string | null | undefined): void {
    OutputModel.defaultUploadUri = outputUri ? outputUri.replace(/\/+$/, '') : undefined;
  }

  static getDefaultUploadUri(): string | undefined {
    return OutputModel.defaultUploadUri;
  }

  /**
   * Waits for this process's background uploads (`timeout` in seconds), then rejects with an `UploadError` if any
   * upload failed. Resolves at once when none is pending.
   */
  static async waitForUploads(options: WaitForUploadsOptions = {}): Promise<void> {
    await uploadQueue.wait({ timeoutMs: options.timeout === undefined ? undefined : options.timeout * 1000, maxNumUploads: options.maxNumUploads });
  }

  /** Registers the model on its task under `name` (it wins over file names); the task takes the model's config and labels when it has none. */
  async connect(task: Task, name?: string): Promise<void> {
    await this.ready;
    if (task !== this.owner) throw new UsageError('Can only connect preexisting model to task, but this is a fresh model');
    if (name) this.connectName = name;
    if (!task.getModelConfigText() && this.configText) await task.setModelConfig({ configText: this.configText });
    if (!Object.keys(task.getLabelsEnumeration()).length && Object.keys(this.labels).length) await task.setModelLabelEnumeration(this.labels);
    if (this.id) await this.register(this.connectName ?? this.entryName ?? this.name);
  }

  /** Sets the configuration (text or dict); the task takes it when it has none. */
  async updateDesign(options: { configText?: string; configDict?: object }): Promise<boolean> {
    await this.ready;
    if (this.published) throw new UsageError(PUBLISHED);
    const text = resolveConfig(options.configText, options.configDict) ?? '';
    if (!this.owner.getModelConfigText() && text) await this.owner.setModelConfig({ configText: text });
    await this.edit({ design: wrapDesign(text) });
    return true;
  }

  /** Sets the labels (name → integer id); the task's labels are overwritten too. */
  async updateLabels(labels: Record<string, number>): Promise<boolean> {
    validateLabels(labels);
    await this.ready;
    if (this.published) throw new UsageError(PUBLISHED);
    await this.owner.setModelLabelEnumeration(labels);
    await this.edit({ labels: { ...labels } });
    return true;
  }

  /**
   * Where later uploads of this model go. Checked before it is accepted (a write test for local folders,
   * credentials and access for object stores); "" changes nothing.
   */
  async setUploadDestination(uri: string): Promise<void> {
    if (!uri) return;
    await this.ready;
    if (this.published) throw new UsageError(PUBLISHED);
    const conformed = this.session.storage.conformUrl(uri).replace(/\/+$/, '');
    const store = this.session.offlineStore;
    if (store) {
      // Checked when the import sets it on the model again.
      this.uploadUri = conformed;
      await store.updateModel(this.id as string, (m) => (m.uploadUri = conformed));
      return;
    }
    try {
      await this.session.storage.verifyWritable(conformed);
    } catch (err) {
      throw new UsageError(`Could not set destination uri to: ${uri} [Check write permissions]: ${causeText(err)}`, { cause: err });
    }
    this.uploadUri = conformed;
  }

  /**
   * Uploads a weights file (or registers `registerUri`) and resolves to the URI the model records. In the
   * background (default) it resolves once the upload is queued; a failure then rejects `waitForUploads()` and
   * `task.close()`, and the model keeps its previous URI.
   */
  async updateWeights(options: UpdateWeightsOptions): Promise<string> {
    await this.ready;
    if (this.published) throw new UsageError(PUBLISHED);
    if (!options.weightsFilename === !options.registerUri) {
      throw new UsageError('Model update must have either local weights file to upload, or pre-uploaded register_uri, never both');
    }
    if (options.weightsFilename) {
      const st = await stat(options.weightsFilename).catch((err) => {
        throw new UsageError(`weights file not found: ${options.weightsFilename}`, { cause: err });
      });
      if (st.isDirectory()) {
        return this.updateWeightsPackage({
          weightsPath: options.weightsFilename,
          uploadUri: options.uploadUri,
          targetFilename: options.targetFilename ?? baseName(options.weightsFilename),
          iteration: options.iteration,
          asyncEnable: options.asyncEnable,
          onProgress: options.onProgress,
        });
      }
    }
    const source = (options.weightsFilename ?? options.registerUri) as string;
    const entry = this.connectName ?? this.entryName ?? (stem(options.targetFilename ?? source) || 'Output Model');
    const [detected, ext] = detectFramework(this.framework ?? null, options.targetFilename ?? source);
    const framework = this.framework ?? detected ?? undefined;
    if (options.uploadUri) await this.setUploadDestination(options.uploadUri);

    if (options.registerUri) {
      const uri = this.session.storage.conformUrl(options.registerUri);
      const id = await this.ensureId(entry);
      const commentLine = options.updateComment === false ? undefined : `snapshot ${options.registerUri} stored`;
      if (this.session.offlineStore) {
        const weights = { registerUri: options.registerUri, iteration: options.iteration, isPackage: options.isPackage, commentLine };
        await this.keepWeightsOffline(id, weights, { uri, weights_sha256: null, weights_size: null, framework });
        return uri;
      }
      // An earlier background upload of this model must not land after this registration.
      await uploadQueue.settle(this);
      await this.session.client.call(models.edit, {
        model: id,
        uri,
        // The digest of weights stored elsewhere is not known: nothing stale may remain to check them against.
        weights_sha256: null,
        weights_size: null,
        framework,
        iteration: options.iteration,
        ...(commentLine ? { comment: snapshotComment(commentLine, this.comment) } : {}),
        ...(options.isPackage ? { system_tags: withTag(this.systemTags, PACKAGE_TAG) } : {}),
      });
      await this.reload();
      return uri;
    }

    const file = options.weightsFilename as string;
    let target = options.targetFilename ?? baseName(file);
    if (ext.startsWith('.') && !target.toLowerCase().endsWith(ext)) target += ext;
    return this.sendWeights(file, target, entry, {
      framework,
      iteration: options.iteration,
      commentLine: options.updateComment === false ? undefined : `snapshot ${file} stored`,
      isPackage: options.isPackage,
      deleteFile: options.autoDeleteFile === false ? 'never' : 'after-success',
      asyncEnable: options.asyncEnable !== false,
      onProgress: options.onProgress,
    });
  }

  /** Packs files (or a folder) into one zip and uploads it as the model's weights (`package` system tag). */
  async updateWeightsPackage(options: UpdateWeightsPackageOptions): Promise<string> {
    const hasFiles = !!options.weightsFilenames?.length;
    if (hasFiles === !!options.weightsPath) {
      throw new UsageError('Model update weights package should get either directory path to pack or a list of files');
    }
    await this.ready;
    if (this.published) throw new UsageError(PUBLISHED);
    let files: string[];
    let basePath: string | undefined;
    if (options.weightsPath) {
      basePath = path.resolve(options.weightsPath);
      files = (await readdir(basePath)).sort().map((e) => path.join(basePath as string, e));
    } else {
      files = (options.weightsFilenames as string[]).map((f) => path.resolve(f));
      basePath = files.length > 1 ? commonFolder(files) : undefined;
    }
    let target = options.targetFilename || 'model_package.zip';
    if (!target.toLowerCase().endsWith('.zip')) target += '.zip';
    if (options.uploadUri) await this.setUploadDestination(options.uploadUri);
    const zip = await createZipPackage(files, { basePath });
    try {
      return await this.sendWeights(zip, target, this.connectName ?? this.entryName ?? stem(target), {
        framework: this.framework ?? detectFramework(null, target)[0] ?? undefined,
        iteration: options.iteration,
        commentLine: `snapshot ${pythonList(options.weightsFilenames ?? [options.weightsPath as string])} stored`,
        isPackage: true,
        // The zip is ours: it goes whatever happens. The packed files are never deleted (decision 7).
        deleteFile: 'always',
        asyncEnable: options.asyncEnable !== false,
        onProgress: options.onProgress,
      });
    } catch (err) {
      await unlink(zip).catch(() => undefined);
      throw err;
    }
  }

  /** Uploads `file` to this model's destination, in the background or now; resolves to the URI recorded. */
  private async sendWeights(file: string, target: string, entry: string, o: SendOptions): Promise<string> {
    const store = this.session.offlineStore;
    if (store) {
      // Offline: a copy in the session folder, resolving to its path (as ClearML does); the original is kept.
      const id = await this.ensureId(entry);
      const copy = await store.keepWeights(id, file, target, o.deleteFile === 'always');
      const weights = { file: copy.file, sha256: copy.sha256, size: copy.size, targetFilename: target, iteration: o.iteration, isPackage: o.isPackage, commentLine: o.commentLine };
      await this.keepWeightsOffline(id, weights, { uri: fileUriOf(copy.absolute), weights_sha256: copy.sha256, weights_size: copy.size, framework: o.framework });
      return copy.absolute;
    }
    const destination = weightsDestination(this.destinationBase(), await this.owner.destinationParts(), target);
    const expectedUri = finalUri(this.session.storage.conformUrl(destination));
    const id = await this.ensureId(entry);
    const job = { taskId: this.owner.id, model: this, file, destination, run: () => this.upload(id, file, destination, expectedUri, o) };
    if (!o.asyncEnable) {
      // An earlier background upload of this model must not land after this one.
      await uploadQueue.settle(this);
      try {
        return await job.run();
      } catch (err) {
        throw err instanceof UploadError ? err : new UploadError(file, destination, { cause: err });
      }
    }
    void uploadQueue.enqueue(job);
    await uploadQueue.waitForSlot();
    return expectedUri;
  }

  /** Reads the record again (once a `baseModelId` adoption has finished). */
  override async reload(): Promise<this> {
    await this.ready;
    return super.reload();
  }

  /**
   * The model id, creating the model on the server when it is not there yet and registering it on its task (under
   * its `connect` name, else `entry`, else its name). Offline the id exists from the start; the first call registers
   * the model on its task.
   */
  async ensureId(entry?: string): Promise<string> {
    await this.ready;
    const id = this.id;
    if (id) {
      if (!this.entryName && (entry || this.session.offlineStore)) await this.register(this.connectName ?? entry ?? this.name);
      return id;
    }
    if (!this.creating) {
      this.creating = this.create(this.connectName ?? entry ?? this.name).catch((err) => {
        this.creating = undefined;
        throw err;
      });
    }
    return this.creating;
  }

  /** A published model is locked: its uploads and reports must be stored first. */
  protected override async beforePublish(): Promise<void> {
    await uploadQueue.waitForModel(this);
    await super.beforePublish();
  }

  private async create(entry: string): Promise<string> {
    const r = this.record;
    const parent = this.owner.inputModelId(entry);
    const { id } = await this.session.client.call(models.create, {
      uri: '',
      name: r.name ?? this.owner.name,
      comment: r.comment,
      tags: r.tags,
      system_tags: r.system_tags,
      framework: r.framework ?? undefined,
      design: r.design ?? undefined,
      labels: r.labels ?? {},
      project: this.owner.project,
      task: this.owner.id,
      parent,
      ready: false,
    });
    this.record = { ...this.record, id };
    await this.register(entry);
    await this.reload();
    return id;
  }

  /** `tasks.add_or_update_model`; a task that is no longer running cannot take it (a warning, as in ClearML). */
  private async register(entry: string): Promise<void> {
    const id = this.id as string;
    const store = this.session.offlineStore;
    if (store) {
      this.entryName = entry;
      this.owner.rememberModel('output', entry, this);
      await store.updateModel(id, (m) => (m.entryName = entry));
      return;
    }
    try {
      await this.session.client.call(tasks.add_or_update_model, { task: this.owner.id, name: entry, model: id, type: 'output' });
      this.entryName = entry;
      this.owner.rememberModel('output', entry, this);
    } catch (err) {
      if (!(err instanceof ApiCallError && err.subcode === 110)) throw err;
      log.warn(`Could not update last created model in Task ${this.owner.id}, Task status '${this.owner.status}' cannot be updated`);
    }
  }

  /** Decision 5: the first destination that is set. */
  private destinationBase(): string {
    return this.uploadUri ?? this.owner.outputUri ?? OutputModel.defaultUploadUri ?? this.session.config.defaultOutputUri ?? this.session.filesHost;
  }

  /** Sends the file, then records URI, digest and the rest in one edit; deletes the local file when asked. */
  private async upload(id: string, file: string, destination: string, expectedUri: string, o: SendOptions): Promise<string> {
    let result;
    try {
      result = await this.session.storage.upload(file, destination, { onProgress: o.onProgress });
    } catch (err) {
      if (o.deleteFile === 'always') await unlink(file).catch(() => undefined);
      throw new UploadError(file, destination, { cause: err });
    }
    if (result.uri !== expectedUri) log.warn(`${file} was stored as ${result.uri}, not ${expectedUri} as announced`);
    try {
      await this.reload();
      await this.session.client.call(models.edit, {
        model: id,
        uri: result.uri,
        weights_sha256: result.sha256,
        weights_size: result.size,
        framework: o.framework,
        iteration: o.iteration,
        ...(o.commentLine ? { comment: snapshotComment(o.commentLine, this.comment) } : {}),
        ...(o.isPackage ? { system_tags: withTag(this.systemTags, PACKAGE_TAG) } : {}),
      });
      await this.reload();
    } catch (err) {
      if (o.deleteFile === 'always') await unlink(file).catch(() => undefined);
      throw new UploadError(file, destination, { cause: err });
    }
    // Decision 7: only the one uploaded file, and only now that it is stored and recorded.
    if (o.deleteFile !== 'never') await unlink(file).catch((err) => log.warn(`could not delete ${file} after its upload: ${causeText(err)}`));
    return result.uri;
  }

  /** Offline: records the weights for the import, and shows them on the loaded record as the upload's edit would. */
  private async keepWeightsOffline(id: string, weights: OfflineWeights, fields: Partial<ModelRecord>): Promise<void> {
    Object.assign(this.record, fields, {
      ...(weights.commentLine ? { comment: snapshotComment(weights.commentLine, this.comment) } : {}),
      ...(weights.isPackage ? { system_tags: withTag(this.systemTags, PACKAGE_TAG) } : {}),
    });
    // The class default applies when nothing more specific is set (decision 5): the import must know it.
    await this.session.offlineStore?.recordWeights(id, weights, this.owner.outputUri ? undefined : OutputModel.defaultUploadUri);
  }

  /** Loads `baseModelId` and makes it this task's model; on failure the model stays local (as in ClearML). */
  private async adopt(baseModelId: string, options: OutputModelOptions, config: string | undefined): Promise<void> {
    try {
      const { model } = await this.session.client.call(models.get_by_id, { model: baseModelId });
      const newComment = this.record.comment ?? '';
      const oldComment = model.comment ?? '';
      const comment = oldComment && newComment && !oldComment.includes(newComment) ? `${oldComment}\n${newComment}` : oldComment || newComment;
      await this.session.client.call(models.edit, {
        model: baseModelId,
        task: this.owner.id,
        project: this.owner.project,
        comment,
        ...(options.name ? { name: options.name } : {}),
        ...(options.tags ? { tags: options.tags } : {}),
        ...(options.framework ? { framework: options.framework } : {}),
        // Decision 8: what was not given is kept (ClearML wipes the design here).
        ...(config !== undefined ? { design: wrapDesign(config) } : {}),
        ...(options.labelEnumeration ? { labels: options.labelEnumeration } : {}),
      });
      this.record = { ...this.record, id: baseModelId };
      // Not this.reload(): it waits for this very adoption.
      await super.reload();
      await this.register(this.connectName || (model.uri ? stem(model.uri) : '') || this.name);
    } catch (err) {
      this.record = { ...this.record, id: '' };
      log.warn(`could not reuse model ${baseModelId}: ${causeText(err)}; a new model will be created`);
    }
  }
}

/** A provenance line (`snapshot <file> stored`) in front of the comment, as ClearML writes it. */
export function snapshotComment(line: string, current: string): string {
  return `${line}${current.startsWith('\n') ? '' : '\n'}${current}`;
}

function withTag(tags: string[], tag: string): string[] {
  return tags.includes(tag) ? tags : [...tags, tag];
}

/** The URI a destination is recorded under once uploaded: http(s) paths are percent-encoded, as the drivers do. */
function finalUri(destination: string): string {
  if (!/^https?:\/\//i.test(destination)) return destination;
  const { origin, path } = splitHttpUri(destination);
  return origin + quotePath(path);
}

function validateLabels(labels: unknown): asserts labels is Record<string, number> {
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) throw new UsageError('label enumeration: expected a dictionary');
  for (const [, v] of Object.entries(labels)) if (!Number.isInteger(v)) throw new UsageError('label enumeration values must all be integers');
}

/** The deepest folder that holds every file. */
function commonFolder(files: string[]): string {
  const split = files.map((f) => f.split('/').slice(0, -1));
  const first = split[0];
  let n = 0;
  while (n < first.length && split.every((s) => s[n] === first[n])) n++;
  return first.slice(0, n).join('/') || '/';
}

/** Python's repr of a list of strings: `['/d/a.bin', '/d/b.bin']`. */
function pythonList(items: string[]): string {
  return `[${items.map((s) => (s.includes("'") && !s.includes('"') ? `"${s}"` : `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`)).join(', ')}]`;
}
