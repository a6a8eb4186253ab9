/**
 * What every model handle shares (sdk-behaviour.md §3): properties read from the loaded record (decision 1: a
 * getter never does I/O; `await reload()` refreshes), async setters (`await model.setName(...)`; decision 8: `[]`
 * and `""` clear), publish/archive, metadata (decision 9) and weights downloads verified against the recorded
 * SHA-256 (decision 11).
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { models, type Model as ModelRecord, type MetadataItem } from '@cairn/protocol';
import { ApiCallError, IntegrityError, UsageError, causeText } from '../errors.js';
import { textToConfigDict, type HoconValue } from '../config/hocon.js';
import { unwrapDesign } from '../config/design.js';
import { log } from '../log.js';
import type { Session } from '../session.js';
import type { ProgressListener } from '../storage/types.js';
import { castMetadataValue, toMetadataEntry, type CastMetadataEntry, type MetadataEntry } from './metadata.js';
import { ModelReporter } from '../reporting/model-reporter.js';
import { offlineError } from '../offline/store.js';
import type {
  ConfusionMatrixReportOptions,
  HistogramReportOptions,
  LinePlotReportOptions,
  MatrixReportOptions,
  Scatter2dReportOptions,
  Scatter3dReportOptions,
  SurfaceReportOptions,
  TableReportOptions,
  VectorReportOptions,
} from '../reporting/reporter.js';
import type { LineSeries, Matrix, Vector } from '../reporting/plots.js';

export type { ModelRecord };

export const ARCHIVED_TAG = 'archived';
export const PACKAGE_TAG = 'package';

export interface GetWeightsOptions {
  /** Throw instead of resolving to null when the weights cannot be downloaded. An integrity failure always throws. */
  raiseOnError?: boolean;
  /** Download again even when a verified copy is cached. */
  forceDownload?: boolean;
  /** Extract `.zip`, `.tgz` and `.tar.gz` weights and return the folder. */
  extractArchive?: boolean;
  onProgress?: ProgressListener;
}

export interface GetWeightsPackageOptions extends GetWeightsOptions {
  /** Resolve to the extracted folder instead of the list of its entries. */
  returnPath?: boolean;
}

export abstract class BaseModel {
  protected record: ModelRecord;
  /** A metadata write succeeded since the record was loaded: the next read reloads it. */
  protected metadataStale = false;
  private reporterInstance: ModelReporter | undefined;

  protected constructor(readonly session: Session, record: ModelRecord) {
    this.record = record;
  }

  /** The model id; an `OutputModel` has none until it is created on the server. */
  get id(): string | undefined {
    return this.record.id || undefined;
  }

  get name(): string {
    return this.record.name ?? '';
  }

  get comment(): string {
    return this.record.comment ?? '';
  }

  get tags(): string[] {
    return [...(this.record.tags ?? [])];
  }

  get systemTags(): string[] {
    return [...(this.record.system_tags ?? [])];
  }

  get framework(): string | undefined {
    return this.record.framework ?? undefined;
  }

  /** The configuration text (the record's `design`). */
  get configText(): string {
    return unwrapDesign(this.record.design);
  }

  /** The configuration parsed as HOCON; throws a UsageError when the text does not parse. */
  get configDict(): HoconValue {
    return textToConfigDict(this.configText);
  }

  /** Label name → class id. */
  get labels(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.record.labels ?? {})) if (typeof v === 'number') out[k] = v;
    return out;
  }

  /** The project id. */
  get project(): string | undefined {
    return refId(this.record.project);
  }

  /** The id of the task this model belongs to (the creating task). */
  get task(): string | undefined {
    return refId(this.record.task);
  }

  /** The id of the task that created the model. */
  get originalTask(): string | undefined {
    return refId(this.record.task);
  }

  /** The weights URI ("" when none is recorded). */
  get url(): string {
    return this.record.uri ?? '';
  }

  get published(): boolean {
    return !!this.id && this.record.ready === true;
  }

  get archived(): boolean {
    return this.systemTags.includes(ARCHIVED_TAG);
  }

  get isPackage(): boolean {
    return this.systemTags.includes(PACKAGE_TAG);
  }

  /** SHA-256 of the weights, recorded when they were uploaded (decision 11). */
  get weightsSha256(): string | undefined {
    return this.record.weights_sha256 ?? undefined;
  }

  get weightsSize(): number | undefined {
    return this.record.weights_size ?? undefined;
  }

  get created(): string | undefined {
    return this.record.created ?? undefined;
  }

  get lastUpdate(): string | undefined {
    return this.record.last_update ?? undefined;
  }

  /** A copy of the loaded record. */
  get data(): ModelRecord {
    return structuredClone(this.record);
  }

  /** The model id, creating the model first where that applies (an `OutputModel` not yet on the server). */
  protected abstract ensureId(): Promise<string>;

  /** Reads the record again from the server. */
  async reload(): Promise<this> {
    const id = this.id;
    // Offline the loaded record is the model's only state.
    if (!id || this.session.offlineStore) return this;
    const { model } = await this.session.client.call(models.get_by_id, { model: id });
    this.record = model;
    this.metadataStale = false;
    return this;
  }

  // Setters: one idiom, `await model.setX(value)`. An empty value clears (decision 8).

  async setName(name: string): Promise<void> {
    await this.edit({ name });
  }

  async setComment(comment: string): Promise<void> {
    await this.edit({ comment });
  }

  async setTags(tags: string[]): Promise<void> {
    await this.edit({ tags: [...tags] });
  }

  async setSystemTags(systemTags: string[]): Promise<void> {
    await this.edit({ system_tags: [...systemTags] });
  }

  /** Moves the model to another project (by id). */
  async setProject(projectId: string): Promise<void> {
    await this.edit({ project: projectId });
  }

  /** Changes fields: on the server when the model exists (then reloads), else only locally (offline: recorded for the import). */
  protected async edit(fields: Partial<ModelRecord> & Record<string, unknown>): Promise<void> {
    const id = this.id;
    const offline = this.session.offlineStore;
    if (!id || offline) {
      Object.assign(this.record, fields);
      if (id && offline) await offline.updateModel(id, (m) => Object.assign(m.changes, structuredClone(fields)));
      return;
    }
    await this.session.client.call(models.edit, { model: id, ...(fields as object) });
    await this.reload();
  }

  /**
   * Publishes the model (`ready`; its task is left as it is). A model already published is left alone; a model not
   * yet on the server is created first (decision 10).
   */
  async publish(): Promise<void> {
    if (this.published) return;
    if (this.session.offlineStore) throw offlineError('publish');
    const id = await this.ensureId();
    await this.beforePublish();
    try {
      await this.session.client.call(models.set_ready, { model: id, publish_task: false });
    } catch (err) {
      // Published meanwhile (by another client): that is what was asked.
      if (!(err instanceof ApiCallError && err.subcode === 203)) throw err;
    }
    await this.reload();
  }

  /** Waits for what must reach the model before it is locked: its reports (a published model refuses them). */
  protected async beforePublish(): Promise<void> {
    if (this.hasReports) await this.session.flushEvents();
  }

  /**
   * Adds the `archived` system tag. Resolves to false (with a warning) when it could not be done, as ClearML's SDK
   * never throws here; a model not on the server is left alone.
   */
  async archive(): Promise<boolean> {
    return this.archiveCall(true);
  }

  /** Removes the `archived` system tag; false (with a warning) when it could not be done. */
  async unarchive(): Promise<boolean> {
    return this.archiveCall(false);
  }

  private async archiveCall(archive: boolean): Promise<boolean> {
    const id = this.id;
    if (!id) return false;
    try {
      const res = await this.session.client.call(archive ? models.archive_many : models.unarchive_many, { ids: [id] });
      if (res.failed.length) throw new Error(res.failed[0].error.msg);
      await this.reload();
      return true;
    } catch (err) {
      log.warn(`could not ${archive ? 'archive' : 'unarchive'} model ${id}: ${causeText(err)}`);
      return false;
    }
  }

  // Metadata (sdk-behaviour §3.3, decision 9)

  /**
   * Sets one entry. Without `vType` the type is inferred from the value (integer → int, other number → float,
   * boolean → bool, string → str, array → list, object → dict). A model not yet on the server is created first.
   */
  async setMetadata(key: string, value: unknown, vType?: string): Promise<boolean> {
    const entry = toMetadataEntry(key, value, vType);
    const id = await this.ensureId();
    if (this.session.offlineStore) return this.keepMetadataOffline(id, [entry], false);
    const res = await this.session.client.call(models.add_or_update_metadata, { model: id, metadata: [entry], replace_metadata: false });
    this.metadataStale = true;
    return res.updated >= 0;
  }

  /**
   * Sets several entries `{key: {value, type}}`; `replace` (default) drops every other key. Values are
   * stringified as `setMetadata` does; a missing type is sent as "None", as ClearML's SDK sends it.
   */
  async setAllMetadata(metadata: Record<string, { value?: unknown; type?: string | null }>, replace = true): Promise<boolean> {
    const entries: MetadataItem[] = Object.entries(metadata).map(([key, item]) => ({
      key: String(key),
      value: item?.value === undefined ? 'None' : toMetadataEntry(key, item.value).value,
      type: item?.type === undefined || item.type === null ? 'None' : String(item.type),
    }));
    const id = await this.ensureId();
    if (this.session.offlineStore) return this.keepMetadataOffline(id, entries, replace);
    if (entries.length) {
      await this.session.client.call(models.add_or_update_metadata, { model: id, metadata: entries, replace_metadata: replace });
    } else if (replace) {
      // The metadata endpoint needs at least one item; an empty replacement clears the map through edit.
      await this.session.client.call(models.edit, { model: id, metadata: {} });
    }
    this.metadataStale = true;
    return true;
  }

  /** Offline: metadata changes the loaded record, and is recorded for the import. */
  private async keepMetadataOffline(id: string, entries: MetadataItem[], replace: boolean): Promise<boolean> {
    const metadata: Record<string, MetadataEntry> = replace ? {} : await this.getAllMetadata();
    for (const e of entries) metadata[e.key] = { key: e.key, type: e.type, value: e.value };
    this.record = { ...this.record, metadata };
    await this.session.offlineStore?.updateModel(id, (m) => (m.metadata = structuredClone(metadata)));
    return true;
  }

  /** Every entry as stored: `{key: {key, type, value}}`, all strings. */
  async getAllMetadata(): Promise<Record<string, MetadataEntry>> {
    if (this.metadataStale) await this.reload();
    const stored = this.record.metadata;
    if (!stored || Array.isArray(stored)) return {};
    const out: Record<string, MetadataEntry> = {};
    for (const [key, item] of Object.entries(stored)) out[key] = { key: item.key ?? key, type: item.type ?? '', value: item.value ?? '' };
    return out;
  }

  /** Every entry with its value cast to its type (decision 9): `{key: {key, type, value}}`. */
  async getAllMetadataCasted(): Promise<Record<string, CastMetadataEntry>> {
    const all = await this.getAllMetadata();
    const out: Record<string, CastMetadataEntry> = {};
    for (const [key, entry] of Object.entries(all)) out[key] = { key: entry.key, type: entry.type, value: castMetadataValue(entry.value, entry.type, log.warn) };
    return out;
  }

  /** One entry's value as stored (a string), or null. */
  async getMetadata(key: string): Promise<string | null> {
    return (await this.getAllMetadata())[String(key)]?.value ?? null;
  }

  /** One entry's value cast to its type, or null. */
  async getMetadataCasted(key: string): Promise<unknown> {
    const entry = (await this.getAllMetadata())[String(key)];
    return entry ? castMetadataValue(entry.value, entry.type, log.warn) : null;
  }

  // Weights (decision 11: every copy is verified against the recorded digest)

  /**
   * A local copy of the weights: the file in place for `file://` weights, a verified cached copy otherwise.
   * Resolves to null when the model has no weights, or when the download failed and `raiseOnError` is false.
   */
  async getWeights(options: GetWeightsOptions = {}): Promise<string | null> {
    const uri = this.url.trim();
    if (!uri) return null;
    try {
      return await this.session.storage.getLocalCopy(uri, {
        expectedSha256: this.weightsSha256,
        expectedSize: this.weightsSize,
        forceDownload: options.forceDownload,
        extractArchive: options.extractArchive,
        onProgress: options.onProgress,
      });
    } catch (err) {
      if (err instanceof IntegrityError) throw err;
      const message = `Could not retrieve a local copy of model weights ${this.id}, failed downloading ${uri}`;
      if (options.raiseOnError) throw new UsageError(`${message}: ${causeText(err)}`, { cause: err });
      log.warn(`${message}: ${causeText(err)}`);
      return null;
    }
  }

  /**
   * The weights of a packaged model, extracted: the list of the package's top-level entries (absolute paths), or
   * the folder itself with `returnPath`.
   */
  async getWeightsPackage(options: GetWeightsPackageOptions & { returnPath: true }): Promise<string | null>;
  async getWeightsPackage(options?: GetWeightsPackageOptions & { returnPath?: false }): Promise<string[] | null>;
  async getWeightsPackage(options?: GetWeightsPackageOptions): Promise<string | string[] | null>;
  async getWeightsPackage(options: GetWeightsPackageOptions = {}): Promise<string | string[] | null> {
    if (!this.isPackage) throw new UsageError('Model is not packaged');
    const local = await this.getWeights({ ...options, extractArchive: options.extractArchive ?? true });
    if (!local) {
      if (options.raiseOnError) throw new UsageError(`Model package '${this.url}' could not be downloaded`);
      return null;
    }
    if (options.returnPath) return local;
    const entries = await readdir(local).catch(() => undefined);
    // Extraction did not happen (the archive itself came back): there is no folder to list.
    if (!entries) return [];
    return entries.sort().map((e) => path.join(local, e));
  }

  // Reports on the model's own Scalars and Plots pages (model events). A report only queues: it resolves at once,
  // or returns a Promise when the queue is full. The first report on a model not yet on the server creates it
  // (decision 10). `await model.flushReports()` (or the task's close) waits until they are stored.

  reportScalar(title: string, series: string, value: number, iteration: number): void | Promise<void> {
    return this.reporter().reportScalar(title, series, value, iteration);
  }

  reportSingleValue(name: string, value: number): void | Promise<void> {
    return this.reporter().reportSingleValue(name, value);
  }

  reportHistogram(title: string, series: string, values: Vector | Matrix, options?: HistogramReportOptions): void | Promise<void> {
    return this.reporter().reportHistogram(title, series, values, options);
  }

  reportVector(title: string, series: string, values: Vector | Matrix, options?: VectorReportOptions): void | Promise<void> {
    return this.reporter().reportVector(title, series, values, options);
  }

  reportTable(title: string, series: string, options: TableReportOptions): void | Promise<void> {
    return this.reporter().reportTable(title, series, options);
  }

  reportLinePlot(title: string, series: LineSeries[], options?: LinePlotReportOptions): void | Promise<void> {
    return this.reporter().reportLinePlot(title, series, options);
  }

  reportScatter2d(title: string, series: string, scatter: Matrix, options?: Scatter2dReportOptions): void | Promise<void> {
    return this.reporter().reportScatter2d(title, series, scatter, options);
  }

  reportScatter3d(title: string, series: string, scatter: Matrix, options?: Scatter3dReportOptions): void | Promise<void> {
    return this.reporter().reportScatter3d(title, series, scatter, options);
  }

  reportConfusionMatrix(title: string, series: string, matrix: Matrix, options?: ConfusionMatrixReportOptions): void | Promise<void> {
    return this.reporter().reportConfusionMatrix(title, series, matrix, options);
  }

  reportMatrix(title: string, series: string, matrix: Matrix, options?: MatrixReportOptions): void | Promise<void> {
    return this.reporter().reportMatrix(title, series, matrix, options);
  }

  reportSurface(title: string, series: string, matrix: Matrix, options?: SurfaceReportOptions): void | Promise<void> {
    return this.reporter().reportSurface(title, series, matrix, options);
  }

  /** Waits until every report made so far is stored; rejects when the server refused any of them. */
  async flushReports(): Promise<void> {
    await this.session.flushEvents();
  }

  private reporter(): ModelReporter {
    this.reporterInstance ??= new ModelReporter({ pipeline: this.session.events, entityId: () => this.ensureId(), modelEvent: true });
    return this.reporterInstance;
  }

  /** Whether anything was reported on this model (its reports must be stored before it is locked). */
  protected get hasReports(): boolean {
    return this.reporterInstance !== undefined;
  }

}

function refId(ref: unknown): string | undefined {
  if (typeof ref === 'string') return ref || undefined;
  if (ref && typeof ref === 'object' && typeof (ref as { id?: unknown }).id === 'string') return (ref as { id: string }).id;
  return undefined;
}
