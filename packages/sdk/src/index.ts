/**
 * Cairn's TypeScript SDK: `Task`, `OutputModel`, `InputModel`, `Model`, with the session, configuration and
 * storage they run on. See README.md for the mapping from ClearML's Python names.
 */
export { Task, MODEL_CONFIG_SECTION, type TaskInitOptions, type TaskQuery, type TaskType, type ModelList, type TaskRecord } from './task.js';
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
export { StorageManager } from './storage/manager.js';
export type { ProgressListener, TransferProgress, UploadResult } from './storage/types.js';
export * from './errors.js';
export { ReportingError } from './reporting/errors.js';
export type { Logger } from './reporting/logger.js';
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
