/**
 * `s3://bucket/key` and `s3://host:port/bucket/key` (MinIO, Ceph, any S3-compatible host) with the AWS SDK.
 * Configured like ClearML's Python SDK (`sdk.aws.s3` in clearml.conf, then the AWS_* environment variables);
 * a per-bucket `credentials` entry is picked by the longest prefix `s3://[host/]bucket[/subdir]` of the URI.
 * Large files go up as a multipart upload with parallel parts; memory stays at about
 * concurrency × part size whatever the file size.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { PutObjectCommandInput, S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { StorageError } from '../../errors.js';
import { ProgressMeter } from '../transfer.js';
import type { ObjectInfo, StorageDriver, TransferOptions, UploadResult } from '../types.js';
import {
  checkUploadedSize,
  downloadToFile,
  readAll,
  configBool,
  configList,
  configNumber,
  configString,
  isObject,
  joinKey,
  section,
  splitUri,
  tapped,
  type ConfigObject,
} from './object-common.js';

/** The AWS SDK loads on the first S3 call, not with the SDK: it is a large share of every script's start-up. */
let awsSdk: Promise<[typeof import('@aws-sdk/client-s3'), typeof import('@aws-sdk/lib-storage')]> | undefined;
const loadAwsSdk = () => (awsSdk ??= Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage')]));

/** Part size of multipart uploads, and the size from which an upload is multipart (smaller files go up in one buffered PUT): boto3's default (`sdk.aws.boto3.multipart_chunksize` / `multipart_threshold`). */
export const S3_PART_SIZE = 8 * 1024 * 1024;
/** Parts uploaded at once (`sdk.aws.boto3.max_multipart_concurrency`): 4 × 8 MiB keeps the buffered parts near 32 MiB while filling the link. */
export const S3_CONCURRENCY = 4;
/** S3 refuses parts smaller than 5 MiB (except the last one). */
const S3_MIN_PART_SIZE = 5 * 1024 * 1024;
/** S3 allows at most 10,000 parts per upload; larger files get larger parts. */
const S3_MAX_PARTS = 10_000;
/** Attempts per request (the AWS SDK retries with backoff); boto3 in ClearML uses 5 too. */
const S3_MAX_ATTEMPTS = 5;
/** Connect timeout, as boto3's in ClearML (60 s). */
const S3_CONNECT_TIMEOUT_MS = 60_000;
/** A connection silent this long is dropped and the request retried; above boto3's 60 s because S3-compatible servers may assemble a large object before answering CompleteMultipartUpload. */
const S3_IDLE_TIMEOUT_MS = 120_000;
/** Sockets per client; several parts and several files move at once. */
const S3_MAX_SOCKETS = 64;
/** Objects per ListObjectsV2 page (the service maximum). */
const S3_LIST_PAGE = 1000;

/** What one bucket (or the defaults) is configured with, after merging a `credentials` entry over the defaults. */
interface BucketSettings {
  key?: string;
  secret?: string;
  token?: string;
  region?: string;
  profile?: string;
  /** `host:port` of an S3-compatible server; absent for AWS. */
  host?: string;
  secure: boolean;
  verify: boolean;
  multipart: boolean;
  useCredentialsChain: boolean;
  acl?: string;
  extraArgs: ConfigObject;
}

interface BucketEntry {
  prefix: string;
  bucket: string;
  settings: BucketSettings;
}

export interface S3Location {
  /** `s3://[host/]bucket`, the base URL as ClearML prints it. */
  base: string;
  bucket: string;
  key: string;
  settings: BucketSettings;
}

export interface S3DriverOptions {
  /** The `sdk` section of clearml.conf. */
  sdk?: ConfigObject;
  /** Environment for the AWS_* fallbacks; default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

export class S3Driver implements StorageDriver {
  readonly schemes = ['s3'] as const;
  private readonly defaults: BucketSettings;
  private readonly entries: BucketEntry[];
  private readonly partSize: number;
  private readonly threshold: number;
  private readonly concurrency: number;
  private readonly clients = new Map<string, S3Client>();

  constructor(options: S3DriverOptions = {}) {
    const env = options.env ?? process.env;
    const s3 = section(options.sdk, 'aws.s3');
    const boto3 = section(options.sdk, 'aws.boto3');
    this.defaults = readSettings(s3, { secure: true, verify: true, multipart: true, useCredentialsChain: false, extraArgs: {} });
    // The environment only fills what the config leaves empty, as in ClearML.
    this.defaults.key ??= configString(env.AWS_ACCESS_KEY_ID);
    this.defaults.secret ??= configString(env.AWS_SECRET_ACCESS_KEY);
    this.defaults.token ??= configString(env.AWS_SESSION_TOKEN);
    this.defaults.region ??= configString(env.AWS_DEFAULT_REGION) ?? configString(env.AWS_REGION);
    this.defaults.profile ??= configString(env.AWS_PROFILE);
    this.entries = configList(s3.credentials).flatMap((entry) => {
      const bucket = configString(entry.bucket);
      if (!bucket) return [];
      const settings = readSettings(entry, this.defaults);
      const subdir = configString(entry.subdir)?.replace(/^\/+|\/+$/g, '');
      const prefix = `s3://${settings.host ? `${settings.host}/` : ''}${bucket}${subdir ? `/${subdir}` : ''}`.toLowerCase();
      return [{ prefix, bucket, settings }];
    });
    this.partSize = Math.max(configNumber(boto3.multipart_chunksize) ?? S3_PART_SIZE, S3_MIN_PART_SIZE);
    this.threshold = configNumber(boto3.multipart_threshold) ?? S3_PART_SIZE;
    this.concurrency = configNumber(boto3.max_multipart_concurrency) ?? S3_CONCURRENCY;
  }

  /** Bucket, key and settings for a URI: the longest configured prefix wins; else `host:port` (a netloc with a port) or a bucket. */
  locate(uri: string): S3Location {
    const { first, rest } = splitUri(uri, 's3');
    const lower = uri.toLowerCase();
    let best: BucketEntry | undefined;
    for (const entry of this.entries) {
      if ((lower === entry.prefix || lower.startsWith(`${entry.prefix}/`)) && (!best || entry.prefix.length > best.prefix.length)) best = entry;
    }
    let host: string | undefined;
    let bucket: string;
    let key: string;
    if (best?.settings.host || (!best && first.includes(':'))) {
      host = first;
      const slash = rest.indexOf('/');
      bucket = slash < 0 ? rest : rest.slice(0, slash);
      key = slash < 0 ? '' : rest.slice(slash + 1);
    } else {
      bucket = first;
      key = rest;
    }
    if (!bucket) throw new StorageError(uri, 'an S3 URI needs a bucket: s3://bucket/key or s3://host:port/bucket/key');
    const settings = best ? best.settings : host ? { ...this.defaults, host } : this.defaults;
    return { base: `s3://${host ? `${host}/` : ''}${bucket}`, bucket, key, settings };
  }

  async upload(localPath: string, uri: string, options: TransferOptions & { contentType?: string } = {}): Promise<UploadResult> {
    const loc = this.locate(uri);
    if (!loc.key) throw new StorageError(uri, 'an upload needs an object key after the bucket', { file: localPath });
    const client = await this.client(loc, uri);
    const [{ PutObjectCommand }, { Upload }] = await loadAwsSdk();
    const size = (await stat(localPath)).size;
    const meter = new ProgressMeter(options.onProgress, size);
    const body = tapped(createReadStream(localPath), meter);
    const params: PutObjectCommandInput = {
      ...(loc.settings.extraArgs as Partial<PutObjectCommandInput>),
      Bucket: loc.bucket,
      Key: loc.key,
      Body: body.stream,
      ContentType: options.contentType,
      ...(loc.settings.acl ? { ACL: loc.settings.acl as PutObjectCommandInput['ACL'] } : {}),
    };
    try {
      if (size < this.threshold) {
        await client.send(new PutObjectCommand({ ...params, Body: await readAll(body.stream) }), { abortSignal: options.signal });
      } else {
        const upload = new Upload({
          client,
          params,
          partSize: Math.max(this.partSize, Math.ceil(size / S3_MAX_PARTS)),
          queueSize: loc.settings.multipart ? this.concurrency : 1,
          leavePartsOnError: false,
        });
        const abort = () => void upload.abort();
        options.signal?.addEventListener('abort', abort, { once: true });
        try {
          await upload.done();
        } finally {
          options.signal?.removeEventListener('abort', abort);
        }
      }
    } catch (err) {
      body.stream.destroy();
      throw new StorageError(uri, `S3 upload failed: ${s3Message(err)}`, { cause: err, file: localPath });
    }
    checkUploadedSize(uri, localPath, body.digest.bytes, size);
    meter.done();
    return { uri, sha256: body.digest.hex(), size };
  }

  async download(uri: string, localPath: string, options: TransferOptions = {}): Promise<{ sha256: string; size: number }> {
    const loc = this.locate(uri);
    const client = await this.client(loc, uri);
    const [{ GetObjectCommand }] = await loadAwsSdk();
    return downloadToFile(uri, localPath, options, async () => {
      try {
        const res = await client.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key }), { abortSignal: options.signal });
        return { body: res.Body as Readable, size: res.ContentLength };
      } catch (err) {
        throw new StorageError(uri, `S3 download failed: ${s3Message(err)}`, { cause: err, file: localPath });
      }
    });
  }

  async head(uri: string, options: { signal?: AbortSignal } = {}): Promise<ObjectInfo | undefined> {
    const loc = this.locate(uri);
    try {
      const [{ HeadObjectCommand }] = await loadAwsSdk();
      const res = await (await this.client(loc, uri)).send(new HeadObjectCommand({ Bucket: loc.bucket, Key: loc.key }), { abortSignal: options.signal });
      return { uri, size: res.ContentLength ?? 0 };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw new StorageError(uri, `S3 head failed: ${s3Message(err)}`, { cause: err });
    }
  }

  async delete(uri: string): Promise<boolean> {
    // S3 answers a delete of a missing key with success, so ask first.
    if (!(await this.head(uri))) return false;
    const loc = this.locate(uri);
    try {
      const [{ DeleteObjectCommand }] = await loadAwsSdk();
      await (await this.client(loc, uri)).send(new DeleteObjectCommand({ Bucket: loc.bucket, Key: loc.key }));
      return true;
    } catch (err) {
      throw new StorageError(uri, `S3 delete failed: ${s3Message(err)}`, { cause: err });
    }
  }

  async *list(prefixUri: string): AsyncIterable<ObjectInfo> {
    const loc = this.locate(prefixUri);
    const client = await this.client(loc, prefixUri);
    const [{ ListObjectsV2Command }] = await loadAwsSdk();
    let token: string | undefined;
    do {
      let page;
      try {
        page = await client.send(new ListObjectsV2Command({ Bucket: loc.bucket, Prefix: loc.key, ContinuationToken: token, MaxKeys: S3_LIST_PAGE }));
      } catch (err) {
        throw new StorageError(prefixUri, `S3 list failed: ${s3Message(err)}`, { cause: err });
      }
      for (const item of page.Contents ?? []) {
        if (item.Key !== undefined) yield { uri: `${loc.base}/${item.Key}`, size: item.Size ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async verifyWritable(baseUri: string): Promise<void> {
    const loc = this.locate(baseUri);
    const client = await this.client(loc, baseUri);
    const [{ PutObjectCommand, DeleteObjectCommand }] = await loadAwsSdk();
    const key = joinKey(loc.key, `.cairn-write-check.${randomUUID()}`);
    try {
      await client.send(new PutObjectCommand({ Bucket: loc.bucket, Key: key, Body: 'ok' }));
      await client.send(new DeleteObjectCommand({ Bucket: loc.bucket, Key: key }));
    } catch (err) {
      throw new StorageError(baseUri, `cannot write to S3 destination: ${s3Message(err)}`, { cause: err });
    }
  }

  /** One client per distinct endpoint and credentials, created on first use. */
  private async client(loc: S3Location, uri: string): Promise<S3Client> {
    const s = loc.settings;
    // The AWS SDK's own provider chain (environment, profile, instance role) when asked for, or when only a profile is named.
    const chain = s.useCredentialsChain || (!(s.key && s.secret) && s.profile !== undefined);
    if (!chain && !(s.key && s.secret)) {
      throw new StorageError(
        uri,
        `Missing key and secret for S3 storage access (${loc.base}): set sdk.aws.s3.key and sdk.aws.s3.secret, or a ` +
          `sdk.aws.s3.credentials entry for bucket "${loc.bucket}", in clearml.conf, or the environment variables ` +
          'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
      );
    }
    // Loaded before the lookup, so that two first calls cannot both create a client.
    const [{ S3Client }] = await loadAwsSdk();
    const cacheKey = JSON.stringify([s.host, s.secure, s.verify, s.region, s.key, s.secret, s.token, s.profile, s.useCredentialsChain]);
    let client = this.clients.get(cacheKey);
    if (!client) {
      const config: S3ClientConfig = {
        region: s.region ?? 'us-east-1',
        maxAttempts: S3_MAX_ATTEMPTS,
        credentials: chain ? undefined : { accessKeyId: s.key!, secretAccessKey: s.secret!, sessionToken: s.token },
        profile: chain ? s.profile : undefined,
        requestHandler: {
          connectionTimeout: S3_CONNECT_TIMEOUT_MS,
          requestTimeout: S3_IDLE_TIMEOUT_MS,
          httpAgent: new http.Agent({ keepAlive: true, maxSockets: S3_MAX_SOCKETS }),
          httpsAgent: new https.Agent({ keepAlive: true, maxSockets: S3_MAX_SOCKETS, rejectUnauthorized: s.verify }),
        },
      };
      if (s.host) {
        config.endpoint = `${s.secure ? 'https' : 'http'}://${s.host}`;
        config.forcePathStyle = true;
        // S3-compatible servers store the aws-chunked framing of streamed bodies when flexible checksums are on.
        config.requestChecksumCalculation = 'WHEN_REQUIRED';
        config.responseChecksumValidation = 'WHEN_REQUIRED';
      } else {
        config.followRegionRedirects = true;
      }
      client = new S3Client(config);
      this.clients.set(cacheKey, client);
    }
    return client;
  }
}

function readSettings(entry: ConfigObject, base: BucketSettings): BucketSettings {
  return {
    key: configString(entry.key) ?? base.key,
    secret: configString(entry.secret) ?? base.secret,
    token: configString(entry.token) ?? base.token,
    region: configString(entry.region) ?? base.region,
    profile: configString(entry.profile) ?? base.profile,
    host: configString(entry.host)?.replace(/^https?:\/\//, '').replace(/\/+$/, '') ?? base.host,
    secure: configBool(entry.secure, base.secure),
    verify: configBool(entry.verify, base.verify),
    multipart: configBool(entry.multipart, base.multipart),
    useCredentialsChain: configBool(entry.use_credentials_chain, base.useCredentialsChain),
    acl: configString(entry.acl) ?? base.acl,
    extraArgs: isObject(entry.extra_args) ? { ...base.extraArgs, ...entry.extra_args } : base.extraArgs,
  };
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
}

/** The service's error code, message and HTTP status, e.g. `NoSuchBucket: ... (HTTP 404)`. */
function s3Message(err: unknown): string {
  const e = err as { name?: string; Code?: string; message?: string };
  const status = statusOf(err);
  const code = e?.Code ?? e?.name;
  const message = e?.message && e.message !== code ? e.message : '';
  return [code, message].filter(Boolean).join(': ') + (status ? ` (HTTP ${status})` : '') || String(err);
}
