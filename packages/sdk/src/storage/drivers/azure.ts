/**
 * `azure://<account>.blob.core.windows.net/<container>/<blob>` with `@azure/storage-blob`. Configured like
 * ClearML's Python SDK: `sdk.azure.storage.containers: [{account_name, account_key, container_name}]`, then
 * `AZURE_STORAGE_ACCOUNT` + `AZURE_STORAGE_KEY`. Uploads stage blocks in parallel and commit the block list,
 * so the blob appears only once complete.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import { StorageError, causeText } from '../../errors.js';
import { ProgressMeter } from '../transfer.js';
import type { ObjectInfo, StorageDriver, TransferOptions, UploadResult } from '../types.js';
import { checkUploadedSize, configList, configString, downloadToFile, joinKey, section, splitUri, tapped, type ConfigObject } from './object-common.js';

/** The Azure library loads on the first azure:// call, not with the SDK: it is a large share of every script's start-up. */
let azureSdk: Promise<typeof import('@azure/storage-blob')> | undefined;
const loadAzureSdk = () => (azureSdk ??= import('@azure/storage-blob'));

/** Bytes per staged block. */
export const AZURE_BLOCK_SIZE = 8 * 1024 * 1024;
/** Blocks staged at once (each buffered in memory): 4 × 8 MiB. */
export const AZURE_CONCURRENCY = 4;
/** A block blob holds at most 50,000 blocks; larger files get larger blocks. */
const AZURE_MAX_BLOCKS = 50_000;
/** Times a broken download stream is resumed from where it stopped. */
const AZURE_DOWNLOAD_RETRIES = 5;
/** Blobs per list page (the service maximum). */
const AZURE_LIST_PAGE = 5000;

interface AccountKey {
  account: string;
  key: string;
  /** Empty = every container of the account. */
  container?: string;
}

export interface AzureDriverOptions {
  /** The `sdk` section of clearml.conf. */
  sdk?: ConfigObject;
  /** Environment for `AZURE_STORAGE_ACCOUNT` / `AZURE_STORAGE_KEY`; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /**
   * The Blob service endpoint of an account, for emulators such as Azurite
   * (`(account) => 'http://127.0.0.1:10000/' + account`). Default `https://<the URI's host>`.
   */
  endpoint?: (account: string) => string;
}

export class AzureDriver implements StorageDriver {
  readonly schemes = ['azure'] as const;
  private readonly keys: AccountKey[];
  private readonly endpoint: ((account: string) => string) | undefined;
  private readonly clients = new Map<string, BlobServiceClient>();

  constructor(options: AzureDriverOptions = {}) {
    const env = options.env ?? process.env;
    this.endpoint = options.endpoint;
    this.keys = configList(section(options.sdk, 'azure.storage').containers).flatMap((entry) => {
      const account = configString(entry.account_name);
      const key = configString(entry.account_key);
      return account && key ? [{ account, key, container: configString(entry.container_name) }] : [];
    });
    const envAccount = configString(env.AZURE_STORAGE_ACCOUNT);
    const envKey = configString(env.AZURE_STORAGE_KEY);
    if (envAccount && envKey) this.keys.push({ account: envAccount, key: envKey });
  }

  private async locate(uri: string): Promise<{ container: ContainerClient; containerName: string; blob: string }> {
    const { first: host, rest } = splitUri(uri, 'azure');
    const account = host.split('.')[0];
    const slash = rest.indexOf('/');
    const containerName = slash < 0 ? rest : rest.slice(0, slash);
    const blob = slash < 0 ? '' : rest.slice(slash + 1);
    const base = `azure://${host}/${containerName}`;
    if (!account || !containerName) throw new StorageError(uri, 'an Azure URI needs an account and a container: azure://<account>.blob.core.windows.net/<container>/<blob>');
    // A container's own entry first, then one for every container of the account.
    const match =
      this.keys.find((k) => k.account === account && k.container === containerName) ??
      this.keys.find((k) => k.account === account && !k.container);
    if (!match) {
      throw new StorageError(
        uri,
        `Missing account name or key for Azure Blob Storage access for ${base}: add {account_name, account_key, ` +
          'container_name} to sdk.azure.storage.containers in clearml.conf, or set the environment variables ' +
          'AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY',
      );
    }
    const url = this.endpoint?.(account) ?? `https://${host}`;
    const cacheKey = JSON.stringify([url, account, match.key]);
    // Loaded before the lookup, so that two first calls cannot both create a client.
    const { BlobServiceClient, StorageSharedKeyCredential } = await loadAzureSdk();
    let service = this.clients.get(cacheKey);
    if (!service) {
      service = new BlobServiceClient(url, new StorageSharedKeyCredential(account, match.key));
      this.clients.set(cacheKey, service);
    }
    return { container: service.getContainerClient(containerName), containerName, blob };
  }

  async upload(localPath: string, uri: string, options: TransferOptions & { contentType?: string } = {}): Promise<UploadResult> {
    const loc = await this.locate(uri);
    if (!loc.blob) throw new StorageError(uri, 'an upload needs a blob name after the container', { file: localPath });
    const size = (await stat(localPath)).size;
    const meter = new ProgressMeter(options.onProgress, size);
    const body = tapped(createReadStream(localPath), meter);
    try {
      await loc.container
        .getBlockBlobClient(loc.blob)
        .uploadStream(body.stream, Math.max(AZURE_BLOCK_SIZE, Math.ceil(size / AZURE_MAX_BLOCKS)), AZURE_CONCURRENCY, {
          blobHTTPHeaders: options.contentType ? { blobContentType: options.contentType } : undefined,
          abortSignal: options.signal,
        });
    } catch (err) {
      body.stream.destroy();
      throw new StorageError(uri, `Azure upload failed: ${azureMessage(err)}`, { cause: err, file: localPath });
    }
    checkUploadedSize(uri, localPath, body.digest.bytes, size);
    meter.done();
    return { uri, sha256: body.digest.hex(), size };
  }

  async download(uri: string, localPath: string, options: TransferOptions = {}): Promise<{ sha256: string; size: number }> {
    const loc = await this.locate(uri);
    return downloadToFile(uri, localPath, options, async () => {
      let res;
      try {
        // The returned stream resumes by itself where a dropped connection stopped.
        res = await loc.container.getBlobClient(loc.blob).download(0, undefined, { abortSignal: options.signal, maxRetryRequests: AZURE_DOWNLOAD_RETRIES });
      } catch (err) {
        throw new StorageError(uri, `Azure download failed: ${azureMessage(err)}`, { cause: err, file: localPath });
      }
      if (!res.readableStreamBody) throw new StorageError(uri, 'Azure download returned no body', { file: localPath });
      return { body: res.readableStreamBody as Readable, size: res.contentLength };
    });
  }

  async head(uri: string): Promise<ObjectInfo | undefined> {
    const loc = await this.locate(uri);
    try {
      const props = await loc.container.getBlobClient(loc.blob).getProperties();
      return { uri, size: props.contentLength ?? 0 };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw new StorageError(uri, `Azure head failed: ${azureMessage(err)}`, { cause: err });
    }
  }

  async delete(uri: string): Promise<boolean> {
    const loc = await this.locate(uri);
    try {
      return (await loc.container.getBlobClient(loc.blob).deleteIfExists()).succeeded;
    } catch (err) {
      throw new StorageError(uri, `Azure delete failed: ${azureMessage(err)}`, { cause: err });
    }
  }

  async *list(prefixUri: string): AsyncIterable<ObjectInfo> {
    const loc = await this.locate(prefixUri);
    const base = prefixUri.slice(0, prefixUri.length - loc.blob.length).replace(/\/?$/, '/');
    try {
      for await (const page of loc.container.listBlobsFlat({ prefix: loc.blob || undefined }).byPage({ maxPageSize: AZURE_LIST_PAGE })) {
        for (const item of page.segment.blobItems) yield { uri: `${base}${item.name}`, size: item.properties.contentLength ?? 0 };
      }
    } catch (err) {
      throw new StorageError(prefixUri, `Azure list failed: ${azureMessage(err)}`, { cause: err });
    }
  }

  async verifyWritable(baseUri: string): Promise<void> {
    const loc = await this.locate(baseUri);
    const blob = loc.container.getBlockBlobClient(joinKey(loc.blob, `.cairn-write-check.${randomUUID()}`));
    try {
      await blob.upload('ok', 2);
      await blob.delete();
    } catch (err) {
      throw new StorageError(baseUri, `cannot write to Azure destination: ${azureMessage(err)}`, { cause: err });
    }
  }
}

function statusOf(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown })?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

/** The service's error code and HTTP status, e.g. `AuthenticationFailed (HTTP 403)`, without the request dump. */
function azureMessage(err: unknown): string {
  const e = err as { code?: string; details?: { errorCode?: string }; message?: string };
  const code = e?.details?.errorCode ?? e?.code;
  const status = statusOf(err);
  const first = causeText(err).split('\n')[0];
  return [code, first].filter(Boolean).join(': ') + (status ? ` (HTTP ${status})` : '');
}
