/**
 * Cairn's TypeScript SDK: `Task`, `OutputModel`, `InputModel`, `Model`, with the session, configuration and
 * storage they run on. See README.md for the mapping from ClearML's Python names.
 */
export { Task, MODEL_CONFIG_SECTION, DEFAULT_PARAMS_SECTION, type TaskInitOptions, type TaskQuery, type TaskType, type ModelList, type TaskRecord, type ConnectConfigurationOptions } from './task.js';
export { OutputModel, type OutputModelOptions, type UpdateWeightsOptions, type UpdateWeightsPackageOptions, type WaitForUploadsOptions } from './model/output-model.js';
export {
  Model,
  InputModel,
  EMPTY_MODEL_ID,
  QUERY_PAGE_SIZE,
  type QueryModelsOptions,
  type RemoveModelOptions,
  type InputModelQuery,
  type ImportModelOptions,
  type GetLocalCopyOptions,
  type ConnectOptions,
  type SessionOption,
} from './model/model.js';
export { BaseModel, ARCHIVED_TAG, PACKAGE_TAG, type GetWeightsOptions, type GetWeightsPackageOptions, type ModelRecord } from './model/base.js';
export { Framework, detectFramework, frameworkParents, type FrameworkName } from './model/framework.js';
export { castMetadataValue, toMetadataEntry, METADATA_TYPES, type MetadataEntry, type CastMetadataEntry } from './model/metadata.js';
export { MAX_PENDING_UPLOADS } from './model/uploads.js';
export { Session, type SessionOptions } from './session.js';
export { ApiClient, API_VERSION, MAX_BATCH_BYTES, type ApiClientOptions, type CallOptions, type Clock } from './api/client.js';
export { loadSdkConfig, type ConnectionOptions, type SdkConfig } from './config/config.js';
export { configDictToText, textToConfigDict, parseHocon, HoconParseError, HoconResolveError, type HoconValue } from './config/hocon.js';
export { wrapDesign, unwrapDesign, resolveConfig } from './config/design.js';
export { setLogSink, type LogLevel, type LogSink } from './log.js';
export { StorageManager, type StorageManagerOptions } from './storage/manager.js';
export { DownloadCache, DEFAULT_CACHE_MAX_BYTES } from './storage/cache.js';
export { S3Driver, S3_PART_SIZE, S3_CONCURRENCY, type S3DriverOptions } from './storage/drivers/s3.js';
export { GcsDriver, GCS_RESUMABLE_THRESHOLD, GCS_CHUNK_SIZE, type GcsDriverOptions } from './storage/drivers/gcs.js';
export { AzureDriver, AZURE_BLOCK_SIZE, AZURE_CONCURRENCY, type AzureDriverOptions } from './storage/drivers/azure.js';
export type { ProgressListener, TransferProgress, UploadResult, StorageDriver, ObjectInfo, TransferOptions } from './storage/types.js';
export * from './errors.js';
export { ReportingError } from './reporting/errors.js';
export {
  EventPipeline,
  FLUSH_THRESHOLD_EVENTS,
  FLUSH_INTERVAL_MS,
  MAX_QUEUED_EVENTS,
  MAX_EVENTS_PER_REQUEST,
  type EventPipelineOptions,
  type EventsClient,
} from './reporting/pipeline.js';
export { Reporter, type ReporterOptions } from './reporting/reporter.js';
export { ModelReporter, type ModelReporterOptions } from './reporting/model-reporter.js';
export { Logger, type LoggerOptions, type LogLineLevel } from './reporting/logger.js';
export { HISTOGRAM_MODES, type Vector, type Matrix, type Layout, type Figure, type LineSeries, type HistogramMode, type Table } from './reporting/plots.js';
export type {
  HistogramReportOptions,
  VectorReportOptions,
  TableReportOptions,
  LinePlotReportOptions,
  Scatter2dReportOptions,
  Scatter3dReportOptions,
  MatrixReportOptions,
  ConfusionMatrixReportOptions,
  SurfaceReportOptions,
} from './reporting/reporter.js';
