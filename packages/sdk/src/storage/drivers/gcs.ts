/**
 * `gs://bucket/key` with `@google-cloud/storage`. Configured like ClearML's Python SDK: `sdk.google.storage`
 * (`project`, `credentials_json` as a path or inline JSON, per-bucket `credentials` entries matched by the
 * longest `gs://bucket[/subdir]` prefix), then `GOOGLE_APPLICATION_CREDENTIALS`, then Google's application
 * default credentials. Files above one chunk go up as a chunked resumable upload.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { Storage, StorageOptions } from '@google-cloud/storage';
import { StorageError, causeText } from '../../errors.js';
import { ProgressMeter } from '../transfer.js';
import type { ObjectInfo, StorageDriver, TransferOptions, UploadResult } from '../types.js';
import { checkUploadedSize, configList, configString, downloadToFile, joinKey, readAll, section, splitUri, tapped, type ConfigObject } from './object-common.js';

/** The Google Cloud library loads on the first gs:// call, not with the SDK: it is a large share of every script's start-up. */
let gcsSdk: Promise<typeof import('@google-cloud/storage')> | undefined;
const loadGcsSdk = () => (gcsSdk ??= import('@google-cloud/storage'));

/** Files up to this size go up in one request; larger ones as a resumable upload (the Python client's cut-off). */
export const GCS_RESUMABLE_THRESHOLD = 8 * 1024 * 1024;
/** Bytes per request of a resumable upload (a multiple of 256 KiB, as GCS requires); one chunk is buffered for retries. */
export const GCS_CHUNK_SIZE = 16 * 1024 * 1024;
/** Objects per list page (the service maximum). */
const GCS_LIST_PAGE = 1000;

interface GcsSettings {
  project?: string;
  /** The service-account (or other) credentials JSON, parsed; undefined = application default credentials. */
  credentials?: ConfigObject;
  /** Where the credentials came from, for error messages. */
  source?: string;
}

interface GcsEntry {
  prefix: string;
  settings: GcsSettings;
}

export interface GcsDriverOptions {
  /** The `sdk` section of clearml.conf. */
  sdk?: ConfigObject;
  /** Environment for `GOOGLE_APPLICATION_CREDENTIALS`; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /**
   * Another JSON-API endpoint than Google's (an emulator or a test server), e.g. `http://127.0.0.1:4443`.
   * Requests to it are still authenticated, with a JWT the service account signs itself, since such an
   * endpoint cannot reach Google's token service.
   */
  apiEndpoint?: string;
}

export class GcsDriver implements StorageDriver {
  readonly schemes = ['gs'] as const;
  private readonly defaults: GcsSettings;
  private readonly entries: GcsEntry[];
  private readonly apiEndpoint: string | undefined;
  private readonly clients = new Map<string, Storage>();

  constructor(options: GcsDriverOptions = {}) {
    const env = options.env ?? process.env;
    const gs = section(options.sdk, 'google.storage');
    this.apiEndpoint = options.apiEndpoint?.replace(/\/+$/, '');
    const fromEnv = configString(env.GOOGLE_APPLICATION_CREDENTIALS);
    this.defaults = readSettings(gs, {
      project: undefined,
      ...(fromEnv ? loadCredentials(fromEnv, 'GOOGLE_APPLICATION_CREDENTIALS') : {}),
    });
    this.entries = configList(gs.credentials).flatMap((entry) => {
      const bucket = configString(entry.bucket);
      if (!bucket) return [];
      const subdir = configString(entry.subdir)?.replace(/^\/+|\/+$/g, '');
      return [{ prefix: `gs://${bucket}${subdir ? `/${subdir}` : ''}`, settings: readSettings(entry, this.defaults) }];
    });
  }

  private locate(uri: string): { bucket: string; key: string; settings: GcsSettings } {
    const { first, rest } = splitUri(uri, 'gs');
    if (!first) throw new StorageError(uri, 'a gs:// URI needs a bucket: gs://bucket/key');
    let best: GcsEntry | undefined;
    for (const entry of this.entries) {
      if ((uri === entry.prefix || uri.startsWith(`${entry.prefix}/`)) && (!best || entry.prefix.length > best.prefix.length)) best = entry;
    }
    return { bucket: first, key: rest, settings: best?.settings ?? this.defaults };
  }

  async upload(localPath: string, uri: string, options: TransferOptions & { contentType?: string } = {}): Promise<UploadResult> {
    const loc = this.locate(uri);
    if (!loc.key) throw new StorageError(uri, 'an upload needs an object name after the bucket', { file: localPath });
    const size = (await stat(localPath)).size;
    const meter = new ProgressMeter(options.onProgress, size);
    const body = tapped(createReadStream(localPath), meter);
    const resumable = size > GCS_RESUMABLE_THRESHOLD;
    const file = (await this.client(loc.settings)).bucket(loc.bucket).file(loc.key);
    try {
      // CRC32C validation against what the service stored stays on (the library's default).
      if (!resumable) {
        // Buffered, so that the library can retry the request.
        await file.save(await readAll(body.stream), { resumable: false, contentType: options.contentType });
      } else {
        // The library's resumable writer skips authentication on a custom endpoint (it ignores
        // useAuthWithCustomEndpoint), so the session is opened here, authenticated; its URI then authorizes the chunks.
        const [session] = await file.createResumableUpload({ metadata: { contentType: options.contentType } });
        await pipeline(body.stream, file.createWriteStream({ resumable, uri: session, chunkSize: GCS_CHUNK_SIZE, contentType: options.contentType }), {
          signal: options.signal,
        });
      }
    } catch (err) {
      throw this.failure(uri, 'upload', err, loc.settings, localPath);
    }
    checkUploadedSize(uri, localPath, body.digest.bytes, size);
    meter.done();
    return { uri, sha256: body.digest.hex(), size };
  }

  async download(uri: string, localPath: string, options: TransferOptions = {}): Promise<{ sha256: string; size: number }> {
    const loc = this.locate(uri);
    const file = (await this.client(loc.settings)).bucket(loc.bucket).file(loc.key);
    return downloadToFile(uri, localPath, options, async () => {
      let size: number;
      try {
        const [metadata] = await file.getMetadata();
        size = Number(metadata.size);
      } catch (err) {
        throw this.failure(uri, 'download', err, loc.settings, localPath);
      }
      // The caller checks the SHA-256 recorded with the model, which is stronger than the library's CRC32C.
      return { body: file.createReadStream({ validation: false }), size };
    });
  }

  async head(uri: string): Promise<ObjectInfo | undefined> {
    const loc = this.locate(uri);
    try {
      const [metadata] = await (await this.client(loc.settings)).bucket(loc.bucket).file(loc.key).getMetadata();
      return { uri, size: Number(metadata.size) };
    } catch (err) {
      if (codeOf(err) === 404) return undefined;
      throw this.failure(uri, 'head', err, loc.settings);
    }
  }

  async delete(uri: string): Promise<boolean> {
    const loc = this.locate(uri);
    try {
      await (await this.client(loc.settings)).bucket(loc.bucket).file(loc.key).delete();
      return true;
    } catch (err) {
      if (codeOf(err) === 404) return false;
      throw this.failure(uri, 'delete', err, loc.settings);
    }
  }

  async *list(prefixUri: string): AsyncIterable<ObjectInfo> {
    const loc = this.locate(prefixUri);
    const bucket = (await this.client(loc.settings)).bucket(loc.bucket);
    let pageToken: string | undefined;
    do {
      let files;
      let next;
      try {
        [files, next] = await bucket.getFiles({ prefix: loc.key, autoPaginate: false, maxResults: GCS_LIST_PAGE, pageToken });
      } catch (err) {
        throw this.failure(prefixUri, 'list', err, loc.settings);
      }
      for (const f of files) yield { uri: `gs://${loc.bucket}/${f.name}`, size: Number(f.metadata.size ?? 0) };
      pageToken = (next as { pageToken?: string } | null)?.pageToken;
    } while (pageToken);
  }

  async verifyWritable(baseUri: string): Promise<void> {
    const loc = this.locate(baseUri);
    const file = (await this.client(loc.settings)).bucket(loc.bucket).file(joinKey(loc.key, `.cairn-write-check.${randomUUID()}`));
    try {
      await file.save('ok', { resumable: false });
      await file.delete();
    } catch (err) {
      throw this.failure(baseUri, 'write check', err, loc.settings);
    }
  }

  private async client(settings: GcsSettings): Promise<Storage> {
    // Loaded before the lookup, so that two first calls cannot both create a client.
    const { Storage } = await loadGcsSdk();
    const cacheKey = JSON.stringify([settings.project, settings.source, settings.credentials?.client_email, settings.credentials?.private_key_id]);
    let client = this.clients.get(cacheKey);
    if (!client) {
      const options: StorageOptions = {
        projectId: settings.project ?? configString(settings.credentials?.project_id),
        credentials: settings.credentials,
      };
      if (this.apiEndpoint) {
        options.apiEndpoint = this.apiEndpoint;
        options.useAuthWithCustomEndpoint = true;
      }
      client = new Storage(options);
      if (this.apiEndpoint) client.authClient.useJWTAccessWithScope = true;
      this.clients.set(cacheKey, client);
    }
    return client;
  }

  /** A StorageError for a failed call; refused or missing credentials name what to configure. */
  private failure(uri: string, action: string, err: unknown, settings: GcsSettings, file?: string): StorageError {
    const code = codeOf(err);
    const text = causeText(err);
    if (code === 401 || code === 403 || /default credentials/i.test(text)) {
      const used = settings.source ? `the credentials from ${settings.source} were refused` : 'no credentials are configured';
      return new StorageError(
        uri,
        `Google Cloud Storage ${action} failed: ${text} (${used}; set sdk.google.storage.credentials_json, or a ` +
          'sdk.google.storage.credentials entry for this bucket, in clearml.conf, or the environment variable GOOGLE_APPLICATION_CREDENTIALS)',
        { cause: err, file },
      );
    }
    return new StorageError(uri, `Google Cloud Storage ${action} failed: ${text}${code ? ` (HTTP ${code})` : ''}`, { cause: err, file });
  }
}

function readSettings(entry: ConfigObject, base: GcsSettings): GcsSettings {
  const json = configString(entry.credentials_json);
  return {
    ...base,
    project: configString(entry.project) ?? base.project,
    ...(json ? loadCredentials(json, 'sdk.google.storage credentials_json') : {}),
  };
}

/** `credentials_json` is either inline JSON or the path of a JSON key file (`~` expanded). */
function loadCredentials(value: string, source: string): Pick<GcsSettings, 'credentials' | 'source'> {
  const inline = value.startsWith('{');
  const file = inline ? undefined : value.replace(/^~(?=$|\/)/, os.homedir());
  let parsed: unknown;
  try {
    parsed = JSON.parse(inline ? value : readFileSync(file!, 'utf8'));
  } catch (err) {
    throw new StorageError(`gs://`, `cannot read Google credentials from ${source}${file ? ` (${file})` : ''}: ${causeText(err)}`, { cause: err });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new StorageError('gs://', `Google credentials from ${source} are not a JSON object`);
  }
  return { credentials: parsed as ConfigObject, source: file ? `${source} (${file})` : source };
}

/** The HTTP status of a failed call: `code` on API errors, `response.status` on the upload client's errors. */
function codeOf(err: unknown): number | undefined {
  const e = err as { code?: unknown; response?: { status?: unknown } };
  if (typeof e?.code === 'number') return e.code;
  return typeof e?.response?.status === 'number' ? e.response.status : undefined;
}
