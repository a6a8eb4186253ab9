/**
 * The one entry point model code uses for storage: picks the driver for a URI, uploads with a digest,
 * hands out verified local copies through the download cache, and extracts archives.
 */
import { stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { IntegrityError, StorageError, UsageError } from '../errors.js';
import { archiveKindOf } from './archive.js';
import { DEFAULT_CACHE_MAX_BYTES, DownloadCache, type CacheLease } from './cache.js';
import { driverRegistry, type DriverContext, type DriverEntry } from './drivers/index.js';
import { hashFile } from './transfer.js';
import type { ProgressListener, StorageDriver, TransferOptions, UploadResult } from './types.js';
import { baseNameOf, conformUrl, expandPath, localPathOf, pathSubstitutions, schemeOf, substitutePath, type PathSubstitution } from './url.js';

/** Cached paths remembered with the URL they came from (ClearML keeps the same 1024, oldest dropped first). */
const REMOTE_URL_MEMO_ENTRIES = 1024;
/** Local files whose digest is remembered (by path, size and mtime) so a re-check costs no read; a small bound keeps it cheap. */
const LOCAL_DIGEST_MEMO_ENTRIES = 256;

export interface StorageManagerOptions {
  /** The configured file server (`api.files_server`), e.g. `http://127.0.0.1:8080/files`. */
  filesHost?: string;
  /** Headers for requests to the files host (the API session's Bearer token). */
  authHeaders?: () => Promise<Record<string, string>>;
  fetch?: typeof fetch;
  /** Cache root; default `CLEARML_CACHE_DIR`, then `sdk.storage.cache.default_base_dir`, then `~/.clearml/cache`. */
  cacheDir?: string;
  /** Cache size bound in bytes; default `sdk.storage.cache.size_limit_gb`, then 20 GiB. */
  cacheMaxBytes?: number;
  /** The parsed clearml.conf (the whole file; drivers read their `sdk.*` sections). */
  config?: Record<string, unknown>;
  /** Drivers that take precedence over the built-in ones for their schemes. */
  drivers?: StorageDriver[];
}

export interface GetLocalCopyOptions {
  /** The digest recorded with the object: the copy is verified against it (decision 11). */
  expectedSha256?: string;
  expectedSize?: number;
  /** Download again even when the cache holds a verified copy. */
  forceDownload?: boolean;
  /** For `.zip`, `.tgz` and `.tar.gz` objects: return the extracted folder (reused when present). */
  extractArchive?: boolean;
  onProgress?: ProgressListener;
}

export class StorageManager {
  readonly cache: DownloadCache;
  private readonly context: DriverContext;
  private readonly overrides: StorageDriver[];
  private readonly created = new Map<DriverEntry, StorageDriver>();
  private readonly substitutions: PathSubstitution[];
  private readonly digestMemo = new Map<string, { size: number; mtimeMs: number; sha256: string }>();
  private readonly remoteUrls = new Map<string, string>();

  constructor(options: StorageManagerOptions = {}) {
    const config = options.config ?? {};
    const sdk = isRecord(config.sdk) ? config.sdk : {};
    this.context = {
      config,
      sdk,
      filesHost: options.filesHost?.replace(/\/+$/, ''),
      authHeaders: options.authHeaders,
      fetch: options.fetch ?? globalThis.fetch,
    };
    this.overrides = options.drivers ?? [];
    this.substitutions = pathSubstitutions(sdk);
    const cacheConfig = configAt(sdk, ['storage', 'cache']);
    const configuredDir = typeof cacheConfig.default_base_dir === 'string' ? cacheConfig.default_base_dir : undefined;
    const baseDir = options.cacheDir ?? process.env.CLEARML_CACHE_DIR ?? configuredDir ?? path.join(os.homedir(), '.clearml', 'cache');
    const limitGb = Number(cacheConfig.size_limit_gb);
    const maxBytes = options.cacheMaxBytes ?? (Number.isFinite(limitGb) && limitGb > 0 ? Math.floor(limitGb * 1024 ** 3) : DEFAULT_CACHE_MAX_BYTES);
    this.cache = new DownloadCache({ baseDir: expandPath(baseDir, process.env, os.homedir()), maxBytes });
  }

  /** Local paths → `file:///abs/path` (relative to the working directory; `~` is not expanded); URLs unchanged. */
  conformUrl(uri: string): string {
    return conformUrl(uri);
  }

  /** The driver for a URI's scheme (plain paths are `file`). */
  driverFor(uri: string): StorageDriver {
    const scheme = schemeOf(uri);
    const override = this.overrides.find((d) => d.schemes.includes(scheme));
    if (override) return override;
    const entry = driverRegistry.find((e) => e.schemes.includes(scheme));
    if (!entry) throw new StorageError(uri, `no storage driver for the scheme "${scheme}"`);
    let driver = this.created.get(entry);
    if (!driver) {
      driver = entry.create(this.context);
      this.created.set(entry, driver);
    }
    return driver;
  }

  /** Uploads a local file; resolves to the final URI with the SHA-256 and size computed on the way. */
  async upload(localPath: string, destUri: string, options: TransferOptions = {}): Promise<UploadResult> {
    const dest = conformUrl(destUri);
    try {
      return await this.driverFor(dest).upload(path.resolve(localPath), dest, options);
    } catch (err) {
      throw asStorageError(err, dest, localPath);
    }
  }

  /**
   * A verified local copy of `uri`. Local files and `file://` URIs are returned in place (checked against
   * the expected digest when one is given); other URIs go through the download cache.
   */
  async getLocalCopy(uri: string, options: GetLocalCopyOptions = {}): Promise<string> {
    const lease = await this.acquire(uri, options);
    await lease.release();
    return lease.path;
  }

  /** Like `getLocalCopy`, but the cached copy is not evicted (by any process) while `use` runs. */
  async withLocalCopy<T>(uri: string, options: GetLocalCopyOptions, use: (localPath: string) => Promise<T>): Promise<T> {
    const lease = await this.acquire(uri, options);
    try {
      return await use(lease.path);
    } finally {
      await lease.release();
    }
  }

  /** The remote URL a path handed out by `getLocalCopy` came from (to register a cached file by its URL). */
  remoteUrlOf(localPath: string): string | undefined {
    return this.remoteUrls.get(path.resolve(localPath));
  }

  /** Deletes one object; false when there was none. */
  async delete(uri: string): Promise<boolean> {
    const target = conformUrl(uri);
    try {
      return await this.driverFor(target).delete(target);
    } catch (err) {
      throw asStorageError(err, target);
    }
  }

  /** Throws a StorageError when objects cannot be written below `uri`. */
  async verifyWritable(uri: string): Promise<void> {
    const target = conformUrl(uri);
    try {
      await this.driverFor(target).verifyWritable(target);
    } catch (err) {
      throw asStorageError(err, target);
    }
  }

  private async acquire(uri: string, options: GetLocalCopyOptions): Promise<CacheLease> {
    // Path substitution (sdk.storage.path_substitution) maps where an object was registered to where this
    // machine reaches it; it applies to reads only.
    const source = conformUrl(substitutePath(uri, this.substitutions));
    try {
      if (schemeOf(source) === 'file') return await this.localCopy(source, options);
      const driver = this.driverFor(source);
      const kind = options.extractArchive ? archiveKindOf(baseNameOf(source)) : undefined;
      const lease = await this.cache.acquire(source, {
        expectedSha256: options.expectedSha256,
        expectedSize: options.expectedSize,
        forceDownload: options.forceDownload,
        extract: kind,
        onProgress: options.onProgress,
        download: (partial, onProgress) => driver.download(source, partial, { onProgress }),
      });
      remember(this.remoteUrls, lease.path, source, REMOTE_URL_MEMO_ENTRIES);
      return lease;
    } catch (err) {
      throw asStorageError(err, source);
    }
  }

  /** A local file in place, verified when a digest or size is expected; an archive is extracted into the cache. */
  private async localCopy(uri: string, options: GetLocalCopyOptions): Promise<CacheLease> {
    const file = localPathOf(uri);
    const st = await stat(file).catch(() => undefined);
    if (!st) throw new StorageError(uri, `file not found: ${file}`, { file });
    const inPlace: CacheLease = { path: file, release: async () => undefined };
    if (st.isDirectory()) {
      if (options.expectedSha256 || options.expectedSize !== undefined) throw new StorageError(uri, 'a folder cannot be checked against a digest', { file });
      return inPlace;
    }
    if (options.expectedSize !== undefined && st.size !== options.expectedSize) {
      throw new StorageError(uri, `size mismatch: expected ${options.expectedSize} bytes, the file has ${st.size}`, { file });
    }
    const kind = options.extractArchive ? archiveKindOf(file) : undefined;
    let sha: string | undefined;
    if (options.expectedSha256 || kind) {
      sha = await this.localDigest(file, st, options.onProgress);
      const expected = options.expectedSha256?.toLowerCase();
      if (expected && sha !== expected) throw new IntegrityError(uri, expected, sha, { file });
    }
    if (!kind || !sha) return inPlace;
    return this.cache.acquireExtraction(uri, file, sha, kind);
  }

  /** SHA-256 of a local file, re-read only when its size or mtime changed since it was last hashed. */
  private async localDigest(file: string, st: { size: number; mtimeMs: number }, onProgress?: ProgressListener): Promise<string> {
    const known = this.digestMemo.get(file);
    if (known && known.size === st.size && known.mtimeMs === st.mtimeMs) return known.sha256;
    const { sha256 } = await hashFile(file, onProgress, st.size);
    remember(this.digestMemo, file, { size: st.size, mtimeMs: st.mtimeMs, sha256 }, LOCAL_DIGEST_MEMO_ENTRIES);
    return sha256;
  }
}

/** Sets a key in a bounded map; the oldest entry goes when it is full. */
function remember<V>(map: Map<string, V>, key: string, value: V, max: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > max) map.delete(map.keys().next().value as string);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function configAt(root: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  let node: unknown = root;
  for (const key of keys) node = isRecord(node) ? node[key] : undefined;
  return isRecord(node) ? node : {};
}

/** Every failure leaves the manager as a StorageError naming the URI (and the local file when there is one). */
function asStorageError(err: unknown, uri: string, file?: string): unknown {
  if (err instanceof StorageError) return err;
  if (err instanceof UsageError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new StorageError(uri, message, { cause: err, file });
}
