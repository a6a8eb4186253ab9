/**
 * Offline mode (sdk-behaviour.md §6.10, §8.5): with `Task.setOffline(true)` or `CLEARML_OFFLINE_MODE`, a task is
 * recorded in a folder `<cache dir>/offline/<task id>/` instead of on a server, and `task.close()` zips it for
 * `Task.importOfflineSession` on any machine. The folder (and the zip) is self-contained and names its files only by
 * paths relative to itself (lessons.md 15):
 *
 *   session.json          the task (Task.init's options and its record) and every output model: constructor values,
 *                         later edits, entry name, upload destination, metadata, and its last weights
 *   events.jsonl          every report, one `events.add` event per line, `task` being the offline task or model id
 *   models/<model id>/    the weights copied there, each with its SHA-256 and size in session.json
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { events as eventOps, Task as TaskRecord } from '@cairn/protocol';
import { UsageError, causeText } from '../errors.js';
import type { MetadataEntry } from '../model/metadata.js';
import { createZipPackage, extractArchive } from '../storage/archive.js';
import { FILE_READ_CHUNK_BYTES } from '../storage/transfer.js';

/** ClearML's switch (any of 1, true, yes, y, on, t turns offline mode on). */
export const OFFLINE_MODE_ENV = 'CLEARML_OFFLINE_MODE';
export const SESSION_FILE = 'session.json';
export const EVENTS_FILE = 'events.jsonl';
export const MODELS_DIR = 'models';
export const BUNDLE_FORMAT = 'cairn-offline-session';
export const BUNDLE_VERSION = 1;
/** Offline ids: ClearML's `offline-` and a uuid4 without dashes (sdk-behaviour.md §6.2). */
export const OFFLINE_ID = /^offline-[0-9a-f]{32}$/;

let offlineSetting: boolean | undefined;

/** `Task.setOffline`: wins over the environment until set again. */
export function setOfflineMode(offline: boolean): void {
  offlineSetting = !!offline;
}

/** Whether the SDK works offline: `Task.setOffline`, else `CLEARML_OFFLINE_MODE`. */
export function isOfflineMode(): boolean {
  return offlineSetting ?? /^(1|true|yes|y|on|t)$/i.test((process.env[OFFLINE_MODE_ENV] ?? '').trim());
}

export function offlineId(): string {
  return `offline-${randomUUID().replace(/-/g, '')}`;
}

/** What a call that needs the server throws while the SDK is offline. */
export function offlineError(what = 'this call'): UsageError {
  return new UsageError(`${what} needs the server, but the SDK is offline (Task.setOffline(true) or ${OFFLINE_MODE_ENV})`);
}

/** The task as recorded: `Task.init`'s options (replayed by the import) and the record built from them. */
export interface OfflineTaskState {
  projectName: string;
  taskName: string;
  taskType: string;
  tags?: string[];
  /** As given to `Task.init` or `setOutputUri`; resolved on the server at import. */
  outputUri?: string | boolean;
  record: TaskRecord;
}

/** The constructor values of an output model (the configuration as text). */
export interface OfflineModelInit {
  configText?: string;
  labelEnumeration?: Record<string, number>;
  name?: string;
  tags?: string[];
  comment?: string;
  framework?: string;
}

/** The last weights of a model: a file copied into the folder, or a URI to register. */
export interface OfflineWeights {
  /** Relative to the folder: `models/<model id>/<file name>`. */
  file?: string;
  sha256?: string;
  size?: number;
  registerUri?: string;
  targetFilename?: string;
  iteration?: number;
  isPackage?: boolean;
  /** `snapshot <file> stored`, put in front of the comment as the online upload does; absent when not asked. */
  commentLine?: string;
}

export interface OfflineModelState {
  id: string;
  init: OfflineModelInit;
  /** Fields set after construction (setters, `updateDesign`, `updateLabels`), in record form. */
  changes: Record<string, unknown>;
  /** The name the model is registered under on its task. */
  entryName?: string;
  /** A destination set on the model (or the class default when nothing else was set). */
  uploadUri?: string;
  metadata: Record<string, MetadataEntry>;
  weights?: OfflineWeights;
}

export interface OfflineSessionData {
  format: typeof BUNDLE_FORMAT;
  version: typeof BUNDLE_VERSION;
  task: OfflineTaskState;
  models: OfflineModelState[];
}

/**
 * The folder of one offline task. Every change is written to `session.json` at once (whole file, atomically), so
 * the folder is importable whenever the process stops. Reports come in through the event pipeline, for which this
 * is the events client: each batch is appended to `events.jsonl`.
 */
export class OfflineStore {
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    readonly folder: string,
    readonly data: OfflineSessionData,
  ) {}

  static async create(folder: string, task: OfflineTaskState): Promise<OfflineStore> {
    await mkdir(path.join(folder, MODELS_DIR), { recursive: true });
    const store = new OfflineStore(folder, { format: BUNDLE_FORMAT, version: BUNDLE_VERSION, task, models: [] });
    await store.save();
    return store;
  }

  get taskId(): string {
    return this.data.task.record.id;
  }

  /** Writes the current state; writes happen in call order, each one complete or not at all. */
  save(): Promise<void> {
    const text = JSON.stringify(this.data, null, 1);
    const file = path.join(this.folder, SESSION_FILE);
    const write = async () => {
      const partial = `${file}.${process.pid}.partial`;
      await writeFile(partial, text);
      await rename(partial, file);
    };
    const done = this.saving.then(write, write);
    this.saving = done.catch(() => undefined);
    return done.catch((err: unknown) => {
      throw new UsageError(`could not record the offline session in ${file}: ${causeText(err)}`, { cause: err });
    });
  }

  async saveTask(record: TaskRecord, outputUri?: { value: string | boolean | undefined }): Promise<void> {
    this.data.task.record = record;
    if (outputUri) this.data.task.outputUri = outputUri.value;
    await this.save();
  }

  /** Adds a model; its first save is the next one (a constructor cannot wait for it). */
  addModel(state: OfflineModelState): void {
    this.data.models.push(state);
    this.save().catch(() => undefined);
  }

  model(id: string): OfflineModelState {
    const state = this.data.models.find((m) => m.id === id);
    if (!state) throw new UsageError(`model ${id} is not part of the offline session ${this.taskId}`);
    return state;
  }

  async updateModel(id: string, change: (state: OfflineModelState) => void): Promise<void> {
    change(this.model(id));
    await this.save();
  }

  /**
   * Copies weights to `models/<model id>/<file name>`, hashing them on the way; `move` deletes the source afterwards
   * (a temporary package).
   */
  async keepWeights(modelId: string, source: string, targetFilename: string, move: boolean): Promise<{ file: string; absolute: string; sha256: string; size: number }> {
    const name = path.basename(targetFilename) || 'weights';
    const file = `${MODELS_DIR}/${modelId}/${name}`;
    const absolute = path.join(this.folder, file);
    await mkdir(path.dirname(absolute), { recursive: true });
    const partial = `${absolute}.${process.pid}.partial`;
    const hash = createHash('sha256');
    let size = 0;
    try {
      await pipeline(
        createReadStream(source, { highWaterMark: FILE_READ_CHUNK_BYTES }),
        async function* (chunks: AsyncIterable<Buffer>) {
          for await (const chunk of chunks) {
            hash.update(chunk);
            size += chunk.length;
            yield chunk;
          }
        },
        createWriteStream(partial),
      );
      await rename(partial, absolute);
    } catch (err) {
      await rm(partial, { force: true });
      throw new UsageError(`could not copy ${source} into the offline session ${this.folder}: ${causeText(err)}`, { cause: err });
    }
    if (move) await unlink(source).catch(() => undefined);
    return { file, absolute, sha256: hash.digest('hex'), size };
  }

  /**
   * Records a model's weights (and the destination they go to when nothing more specific is set); the copy of the
   * weights they replace is deleted once the manifest no longer names it.
   */
  async recordWeights(id: string, weights: OfflineWeights, defaultUploadUri?: string): Promise<void> {
    const state = this.model(id);
    const earlier = state.weights?.file;
    state.weights = weights;
    if (!state.uploadUri && defaultUploadUri) state.uploadUri = defaultUploadUri;
    await this.save();
    if (earlier && earlier !== weights.file) await rm(path.join(this.folder, earlier), { force: true });
  }

  /** The events client of the offline pipeline: a batch becomes lines of `events.jsonl`. */
  async callBatch(_op: typeof eventOps.add_batch, items: object[]): Promise<{ added: number; errors: number; errors_info: Record<string, number> }> {
    await appendFile(path.join(this.folder, EVENTS_FILE), items.map((e) => `${JSON.stringify(e)}\n`).join(''));
    return { added: items.length, errors: 0, errors_info: {} };
  }

  /** Zips the folder (names relative to it) into `<folder>.zip`, next to it, and returns that path. */
  async pack(): Promise<string> {
    await this.save();
    const entries = [SESSION_FILE, EVENTS_FILE, MODELS_DIR].map((name) => path.join(this.folder, name));
    const present: string[] = [];
    for (const entry of entries) if (await stat(entry).catch(() => undefined)) present.push(entry);
    const temp = await createZipPackage(present, { basePath: this.folder, tmpDir: path.dirname(this.folder) });
    const zip = `${this.folder}.zip`;
    await rename(temp, zip);
    return zip;
  }
}

/** An offline session read for import: its folder (extracted from the zip when given one) and its state. */
export interface OfflineBundle {
  folder: string;
  data: OfflineSessionData;
  /** Absolute path of a file the bundle names (checked to be inside the folder). */
  resolve(relative: string): string;
  /** Removes what opening it extracted. */
  dispose(): Promise<void>;
}

/** Opens a session zip (extracted into a temporary folder) or folder, and checks its manifest. */
export async function openOfflineBundle(zipOrFolder: string): Promise<OfflineBundle> {
  const given = path.resolve(zipOrFolder);
  const st = await stat(given).catch(() => undefined);
  if (!st) throw new UsageError(`offline session not found: ${given}`);
  let folder = given;
  let scratch: string | undefined;
  if (!st.isDirectory()) {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'cairn-offline-'));
    folder = path.join(scratch, 'session');
    try {
      await extractArchive(given, folder, { kind: 'zip' });
    } catch (err) {
      await rm(scratch, { recursive: true, force: true });
      throw new UsageError(`${given} is not an offline session zip: ${causeText(err)}`, { cause: err });
    }
  }
  const dispose = async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  };
  try {
    const manifest = path.join(folder, SESSION_FILE);
    const text = await readFile(manifest, 'utf8').catch((err: unknown) => {
      throw new UsageError(`${given} is not an offline session: ${SESSION_FILE} cannot be read: ${causeText(err)}`, { cause: err });
    });
    const data = checkSessionData(given, text);
    const resolve = (relative: string) => insideFolder(given, folder, relative);
    for (const m of data.models) if (m.weights?.file) resolve(m.weights.file);
    return { folder, data, resolve, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}

/** A path the bundle names, resolved in its folder: relative, and never outside it. */
function insideFolder(bundle: string, folder: string, relative: string): string {
  const absolute = path.resolve(folder, relative);
  const rel = path.relative(folder, absolute);
  if (path.isAbsolute(relative) || relative.includes('\\') || !rel || rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new UsageError(`${bundle}: the offline session names a file outside itself: ${JSON.stringify(relative)}`);
  }
  return absolute;
}

function checkSessionData(bundle: string, text: string): OfflineSessionData {
  const fail = (why: string): never => {
    throw new UsageError(`${bundle} is not a usable offline session: ${why}`);
  };
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    return fail(`${SESSION_FILE} is not JSON (${causeText(err)})`);
  }
  if (!isObject(data) || data.format !== BUNDLE_FORMAT) return fail(`${SESSION_FILE} is not a ${BUNDLE_FORMAT} manifest`);
  if (data.version !== BUNDLE_VERSION) return fail(`format version ${String(data.version)} is not supported (this SDK reads version ${BUNDLE_VERSION})`);
  const task = data.task;
  if (!isObject(task) || typeof task.projectName !== 'string' || typeof task.taskName !== 'string' || typeof task.taskType !== 'string') {
    return fail('the task has no project name, task name or type');
  }
  if (!isObject(task.record) || typeof task.record.id !== 'string' || !OFFLINE_ID.test(task.record.id)) return fail('the task record has no offline id');
  if (!Array.isArray(data.models)) return fail('the models are not a list');
  for (const m of data.models) {
    if (!isObject(m) || typeof m.id !== 'string' || !OFFLINE_ID.test(m.id)) return fail('a model has no offline id');
    if (!isObject(m.init) || !isObject(m.changes) || !isObject(m.metadata)) return fail(`model ${m.id} lacks its constructor values, changes or metadata`);
    if (m.weights !== undefined && (!isObject(m.weights) || (m.weights.file === undefined) === (m.weights.registerUri === undefined))) {
      return fail(`model ${m.id} has weights with neither or both of a file and a URI`);
    }
  }
  return data as unknown as OfflineSessionData;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
