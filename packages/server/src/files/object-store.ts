/**
 * The file server's files in an object store instead of a local folder (`CAIRN_FILES_URI`), so several
 * server processes can share them:
 * - `s3://bucket/prefix` on AWS, or on the S3-compatible server named by `AWS_ENDPOINT_URL_S3` /
 *   `AWS_ENDPOINT_URL` (path-style); `s3://host:port/bucket/prefix` reaches `https://host:port`.
 *   Credentials: the AWS SDK's default chain (`AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` /
 *   `AWS_SESSION_TOKEN`, profiles, instance roles); region `AWS_DEFAULT_REGION` / `AWS_REGION`.
 * - `gs://bucket/prefix`: `GOOGLE_APPLICATION_CREDENTIALS` or Google's default credentials
 *   (`STORAGE_EMULATOR_HOST` is honoured by the Google library itself).
 * - `azure://account.blob.core.windows.net/container/prefix`: `AZURE_STORAGE_CONNECTION_STRING`, or
 *   `AZURE_STORAGE_ACCOUNT` + `AZURE_STORAGE_KEY` at `https://account.blob.core.windows.net`.
 * Every write is a multipart/block/resumable upload that the store makes visible only once complete, so a
 * reader never sees half a file.
 */
import { ReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Storage } from '@google-cloud/storage';
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import type { FileStore, StoredFile } from './store.js';

/** Part (block, chunk) size of uploads to the store. */
const PART_SIZE = 8 * 1024 * 1024;
/** Parts in flight per upload: 4 × 8 MiB buffered per upload keeps memory flat under many uploads. */
const PART_CONCURRENCY = 4;
/** S3 allows 10,000 parts per upload and Azure 50,000 blocks per blob; larger files get larger parts. */
const S3_MAX_PARTS = 10_000;
const AZURE_MAX_BLOCKS = 50_000;
/** Keys per list page and per S3 batch delete (the service maximum). */
const PAGE = 1000;
/** Azure has no batch delete in Azurite; this many single deletes run at once. */
const AZURE_DELETE_CONCURRENCY = 8;
/** Attempts per S3 request (the SDK retries with backoff). */
const S3_MAX_ATTEMPTS = 5;
/** Sockets per S3 client: parts of several uploads and downloads move at once. */
const S3_MAX_SOCKETS = 64;
/** Connect timeout for the store. */
const CONNECT_TIMEOUT_MS = 60_000;
/** An S3 connection silent this long is dropped and the request retried (a compatible server may assemble a large object before it answers). */
const S3_IDLE_TIMEOUT_MS = 120_000;

/** The operations a backend offers, on full object keys. */
export interface ObjectBackend {
  /** The store's base URI (`s3://bucket`, `gs://bucket`, `azure://host/container`), for messages. */
  readonly base: string;
  /** Streams `source` to `key`; the object appears only once complete. */
  put(key: string, source: Readable): Promise<void>;
  head(key: string): Promise<StoredFile | undefined>;
  /** `end` is inclusive. */
  get(key: string, range?: { start: number; end: number }): Promise<Readable>;
  /** Deletes the objects (missing ones are no error). */
  remove(keys: string[]): Promise<void>;
  /** Keys starting with `prefix`. */
  list(prefix: string): AsyncIterable<string>;
}

/** A parsed object-store URI: its backend and the key prefix below it (no leading or trailing `/`). */
export interface ObjectLocation {
  backend: ObjectBackend;
  key: string;
}

/**
 * The backend and key of an object-store URI (`s3://`, `gs://`, `azure://`). Backends are kept in
 * `cache` by their base, so one client serves every key of a bucket.
 */
export function locateObject(uri: string, env: NodeJS.ProcessEnv = process.env, cache?: Map<string, ObjectBackend>): ObjectLocation {
  const match = /^(s3|gs|azure):\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match) throw new Error(`not an object-store URI (s3://, gs:// or azure://): ${uri}`);
  const [, scheme, first, rest] = match;
  let base: string;
  let key: string;
  let make: () => ObjectBackend;
  if (scheme === 's3' && first.includes(':')) {
    // A host with a port, then the bucket: s3://host:port/bucket/prefix
    const [bucket, ...tail] = rest.split('/');
    if (!bucket) throw new Error(`an S3 URI with a host needs a bucket: s3://host:port/bucket/prefix (${uri})`);
    base = `s3://${first}/${bucket}`;
    key = tail.join('/');
    make = () => new S3Backend(base, bucket, env, first);
  } else if (scheme === 's3') {
    base = `s3://${first}`;
    key = rest;
    make = () => new S3Backend(base, first, env);
  } else if (scheme === 'gs') {
    base = `gs://${first}`;
    key = rest;
    make = () => new GcsBackend(base, first, env);
  } else {
    const [container, ...tail] = rest.split('/');
    if (!container) throw new Error(`an Azure URI needs a container: azure://account.blob.core.windows.net/container/prefix (${uri})`);
    base = `azure://${first}/${container}`;
    key = tail.join('/');
    make = () => new AzureBackend(base, first, container, env);
  }
  let backend = cache?.get(base);
  if (!backend) {
    backend = make();
    cache?.set(base, backend);
  }
  return { backend, key: key.replace(/^\/+|\/+$/g, '') };
}

/** A FileStore whose files are objects below a prefix of a bucket or container. */
export class ObjectFileStore implements FileStore {
  private readonly backend: ObjectBackend;
  private readonly prefix: string;

  constructor(uri: string, env: NodeJS.ProcessEnv = process.env) {
    const { backend, key } = locateObject(uri, env);
    this.backend = backend;
    this.prefix = key;
  }

  private full(key: string): string {
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  async write(key: string, source: Readable): Promise<StoredFile> {
    await this.backend.put(this.full(key), source);
    const stored = await this.backend.head(this.full(key));
    if (!stored) throw new Error(`${this.backend.base}: ${this.full(key)} is missing right after its upload`);
    return stored;
  }

  stat(key: string): Promise<StoredFile | undefined> {
    return this.backend.head(this.full(key));
  }

  read(key: string, range?: { start: number; end: number }): Readable {
    // The FileStore contract hands back a stream at once; the request starts behind it.
    const out = new PassThrough();
    this.backend.get(this.full(key), range).then(
      (body) => pipeline(body, out).catch((err) => out.destroy(err)),
      (err) => out.destroy(err),
    );
    return out;
  }

  async delete(key: string): Promise<boolean> {
    if (!(await this.backend.head(this.full(key)))) return false;
    await this.backend.remove([this.full(key)]);
    return true;
  }

  /** The object `key` and every object below `key/` (object stores have no folders, only prefixes). */
  async deleteTree(key: string): Promise<boolean> {
    const self = this.full(key);
    let found = (await this.backend.head(self)) !== undefined;
    if (found) await this.backend.remove([self]);
    let batch: string[] = [];
    for await (const k of this.backend.list(`${self}/`)) {
      found = true;
      batch.push(k);
      if (batch.length === PAGE) {
        await this.backend.remove(batch);
        batch = [];
      }
    }
    if (batch.length) await this.backend.remove(batch);
    return found;
  }
}

/**
 * PART_SIZE, or larger when the source is a local file too big for the store's part limit at that size
 * (files arriving at the file server are staged locally, so their size is known). A stream of unknown
 * size is limited to maxParts × PART_SIZE (80 GiB on S3, 400 GiB on Azure).
 */
async function partSizeFor(source: Readable, maxParts: number): Promise<number> {
  if (!(source instanceof ReadStream) || typeof source.path !== 'string') return PART_SIZE;
  const size = (await stat(source.path)).size;
  return Math.max(PART_SIZE, Math.ceil(size / maxParts));
}

class S3Backend implements ObjectBackend {
  private readonly client: S3Client;

  constructor(readonly base: string, private readonly bucket: string, env: NodeJS.ProcessEnv, host?: string) {
    const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || (host ? `https://${host}` : undefined);
    const config: S3ClientConfig = {
      region: env.AWS_DEFAULT_REGION || env.AWS_REGION || 'us-east-1',
      maxAttempts: S3_MAX_ATTEMPTS,
      requestHandler: {
        connectionTimeout: CONNECT_TIMEOUT_MS,
        requestTimeout: S3_IDLE_TIMEOUT_MS,
        httpAgent: new http.Agent({ keepAlive: true, maxSockets: S3_MAX_SOCKETS }),
        httpsAgent: new https.Agent({ keepAlive: true, maxSockets: S3_MAX_SOCKETS }),
      },
    };
    if (endpoint) {
      config.endpoint = endpoint;
      config.forcePathStyle = true;
      // S3-compatible servers store the aws-chunked framing of streamed bodies when flexible checksums are on.
      config.requestChecksumCalculation = 'WHEN_REQUIRED';
      config.responseChecksumValidation = 'WHEN_REQUIRED';
    } else {
      config.followRegionRedirects = true;
    }
    this.client = new S3Client(config);
  }

  async put(key: string, source: Readable): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: key, Body: source },
      partSize: await partSizeFor(source, S3_MAX_PARTS),
      queueSize: PART_CONCURRENCY,
      leavePartsOnError: false,
    });
    await upload.done();
  }

  async head(key: string): Promise<StoredFile | undefined> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: res.ContentLength ?? 0, mtimeMs: res.LastModified?.getTime() ?? 0 };
    } catch (err) {
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
      throw err;
    }
  }

  async get(key: string, range?: { start: number; end: number }): Promise<Readable> {
    const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: range ? `bytes=${range.start}-${range.end}` : undefined }));
    return res.Body as Readable;
  }

  async remove(keys: string[]): Promise<void> {
    if (keys.length === 1) {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: keys[0] }));
      return;
    }
    for (let i = 0; i < keys.length; i += PAGE) {
      const res = await this.client.send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys.slice(i, i + PAGE).map((Key) => ({ Key })), Quiet: true } }),
      );
      if (res.Errors?.length) throw new Error(`${this.base}: could not delete ${res.Errors.length} objects, first ${res.Errors[0].Key}: ${res.Errors[0].Message}`);
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token, MaxKeys: PAGE }));
      for (const item of page.Contents ?? []) if (item.Key !== undefined) yield item.Key;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
}

class GcsBackend implements ObjectBackend {
  private readonly storage: Storage;

  constructor(readonly base: string, private readonly bucket: string, env: NodeJS.ProcessEnv) {
    this.storage = new Storage({ keyFilename: env.GOOGLE_APPLICATION_CREDENTIALS || undefined, projectId: env.GOOGLE_CLOUD_PROJECT || undefined });
  }

  private file(key: string) {
    return this.storage.bucket(this.bucket).file(key);
  }

  async put(key: string, source: Readable): Promise<void> {
    // A resumable upload: the object exists only once its last chunk is in.
    await pipeline(source, this.file(key).createWriteStream({ resumable: true, chunkSize: PART_SIZE }));
  }

  async head(key: string): Promise<StoredFile | undefined> {
    try {
      const [meta] = await this.file(key).getMetadata();
      return { size: Number(meta.size ?? 0), mtimeMs: meta.updated ? Date.parse(meta.updated) : 0 };
    } catch (err) {
      if ((err as { code?: unknown }).code === 404) return undefined;
      throw err;
    }
  }

  async get(key: string, range?: { start: number; end: number }): Promise<Readable> {
    // Validation needs the whole object; a range is checked by its length only.
    return this.file(key).createReadStream(range ? { start: range.start, end: range.end, validation: false } : { validation: false });
  }

  async remove(keys: string[]): Promise<void> {
    for (const key of keys) await this.file(key).delete({ ignoreNotFound: true });
  }

  async *list(prefix: string): AsyncIterable<string> {
    let pageToken: string | undefined;
    do {
      const [files, next] = await this.storage.bucket(this.bucket).getFiles({ prefix, autoPaginate: false, maxResults: PAGE, pageToken });
      for (const f of files) yield f.name;
      pageToken = (next as { pageToken?: string } | null)?.pageToken;
    } while (pageToken);
  }
}

class AzureBackend implements ObjectBackend {
  private readonly container: ContainerClient;

  constructor(readonly base: string, host: string, container: string, env: NodeJS.ProcessEnv) {
    const account = host.split('.')[0];
    let service: BlobServiceClient;
    if (env.AZURE_STORAGE_CONNECTION_STRING) {
      service = BlobServiceClient.fromConnectionString(env.AZURE_STORAGE_CONNECTION_STRING);
    } else if (env.AZURE_STORAGE_ACCOUNT === account && env.AZURE_STORAGE_KEY) {
      service = new BlobServiceClient(`https://${host}`, new StorageSharedKeyCredential(account, env.AZURE_STORAGE_KEY));
    } else {
      throw new Error(`no credentials for ${base}: set AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT=${account} and AZURE_STORAGE_KEY`);
    }
    if (service.accountName !== account) throw new Error(`${base}: the Azure credentials are for the account ${service.accountName}, not ${account}`);
    this.container = service.getContainerClient(container);
  }

  async put(key: string, source: Readable): Promise<void> {
    // Blocks are staged, then committed at once: the blob appears only complete.
    await this.container.getBlockBlobClient(key).uploadStream(source, await partSizeFor(source, AZURE_MAX_BLOCKS), PART_CONCURRENCY);
  }

  async head(key: string): Promise<StoredFile | undefined> {
    try {
      const props = await this.container.getBlobClient(key).getProperties();
      return { size: props.contentLength ?? 0, mtimeMs: props.lastModified?.getTime() ?? 0 };
    } catch (err) {
      if ((err as { statusCode?: unknown }).statusCode === 404) return undefined;
      throw err;
    }
  }

  async get(key: string, range?: { start: number; end: number }): Promise<Readable> {
    const res = await this.container.getBlobClient(key).download(range?.start ?? 0, range ? range.end - range.start + 1 : undefined);
    if (!res.readableStreamBody) throw new Error(`${this.base}: no body for ${key}`);
    return res.readableStreamBody as Readable;
  }

  async remove(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += AZURE_DELETE_CONCURRENCY) {
      await Promise.all(keys.slice(i, i + AZURE_DELETE_CONCURRENCY).map((key) => this.container.getBlobClient(key).deleteIfExists()));
    }
  }

  async *list(prefix: string): AsyncIterable<string> {
    for await (const page of this.container.listBlobsFlat({ prefix }).byPage({ maxPageSize: PAGE })) {
      for (const item of page.segment.blobItems) yield item.name;
    }
  }
}
