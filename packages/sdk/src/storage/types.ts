/**
 * The SDK's one storage interface. Every backend (the Cairn/ClearML file server over http(s),
 * `file://`, `s3://`, `gs://`, `azure://`) implements `StorageDriver`; `StorageManager` picks the
 * driver for a URI and adds the content-addressed cache, digests and archive extraction on top.
 * Model code (OutputModel, InputModel, Model) only talks to `StorageManager`.
 */

export interface TransferProgress {
  /** Bytes moved so far. */
  bytes: number;
  /** Total bytes when known. */
  total?: number;
  /** Average rate since the transfer started, in bytes per second. */
  rate: number;
}
export type ProgressListener = (progress: TransferProgress) => void;

export interface UploadResult {
  /** The final URI of the object, exactly as it should be recorded on the model. */
  uri: string;
  /** SHA-256 of the bytes uploaded (lower-case hex), computed while uploading. */
  sha256: string;
  size: number;
}

export interface ObjectInfo {
  uri: string;
  size: number;
}

export interface TransferOptions {
  onProgress?: ProgressListener;
  signal?: AbortSignal;
}

export interface StorageDriver {
  /** The URI schemes this driver serves, e.g. `['s3']`, `['http', 'https']`, `['file']`. */
  readonly schemes: readonly string[];
  /**
   * Streams a local file to `uri` and computes its SHA-256 and size in the same pass. The object is
   * visible at `uri` only once complete (temporary name + rename, multipart completion, tus finish).
   */
  upload(localPath: string, uri: string, options?: TransferOptions & { contentType?: string }): Promise<UploadResult>;
  /** Streams `uri` into `localPath` (which must not exist yet) and returns the digest of what was written. */
  download(uri: string, localPath: string, options?: TransferOptions): Promise<{ sha256: string; size: number }>;
  /** Size of the object, or undefined when there is none. */
  head(uri: string, options?: { signal?: AbortSignal }): Promise<ObjectInfo | undefined>;
  /** Deletes one object; false when there was none. */
  delete(uri: string): Promise<boolean>;
  /** Objects whose URI starts with `prefixUri`. */
  list(prefixUri: string): AsyncIterable<ObjectInfo>;
  /** Throws a StorageError when `baseUri` cannot be written (used by setUploadDestination). */
  verifyWritable(baseUri: string): Promise<void>;
}
