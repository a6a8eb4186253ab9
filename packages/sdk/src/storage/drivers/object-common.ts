/**
 * Pieces shared by the object-store drivers (S3, Google Cloud Storage, Azure Blob): reading their
 * `clearml.conf` sections, a file stream hashed while it moves, and a download into a local file that
 * yields the digest of what was written.
 */
import { open as openFile, rm } from 'node:fs/promises';
import type { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StorageError, causeText } from '../../errors.js';
import { Digest, ProgressMeter, TransientError, tap, withRetries } from '../transfer.js';
import type { TransferOptions } from '../types.js';

export type ConfigObject = Record<string, unknown>;

/** The object at a dotted path of a parsed config (`section(sdk, 'aws.s3')`), `{}` when absent. */
export function section(root: ConfigObject | undefined, dotted: string): ConfigObject {
  let node: unknown = root ?? {};
  for (const part of dotted.split('.')) {
    node = isObject(node) ? node[part] : undefined;
  }
  return isObject(node) ? node : {};
}

export function isObject(value: unknown): value is ConfigObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A non-empty string setting, else undefined (HOCON may give numbers for things like ports). */
export function configString(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** Booleans as HOCON and environment variables write them (`true`, `"false"`, `1`, `"0"`). */
export function configBool(value: unknown, fallback: boolean): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (['true', 'yes', 'on', '1'].includes(v)) return true;
    if (['false', 'no', 'off', '0'].includes(v)) return false;
  }
  return fallback;
}

export function configNumber(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
}

export function configList(value: unknown): ConfigObject[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

/** A file read stream hashed and counted on its way out; errors of the file reach the returned stream. */
export function tapped(source: Readable, meter?: ProgressMeter): { stream: Transform; digest: Digest } {
  const digest = new Digest();
  const stream = tap(digest, 0, (n) => meter?.add(n));
  source.on('error', (err) => stream.destroy(err));
  stream.on('close', () => source.destroy());
  source.pipe(stream);
  return { stream, digest };
}

/** The whole of a (small) stream in memory: a request with a buffered body can be retried, a streamed one cannot. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Downloads into `localPath` (created exclusively: it must not exist) and returns the digest of the bytes
 * written. `open` starts the transfer and tells the object's size when known; a connection that drops
 * mid-body, or a body shorter than that size, restarts the download (the store's client already retries
 * its requests, not a body cut off half-way). A failed download leaves no file behind.
 */
export async function downloadToFile(
  uri: string,
  localPath: string,
  options: TransferOptions,
  open: () => Promise<{ body: Readable; size?: number }>,
): Promise<{ sha256: string; size: number }> {
  let created = false;
  try {
    return await withRetries(async () => {
      const { body, size } = await open();
      const meter = new ProgressMeter(options.onProgress, size);
      const digest = new Digest();
      let handle;
      try {
        handle = await openFile(localPath, created ? 'w' : 'wx');
      } catch (err) {
        body.destroy();
        throw err;
      }
      created = true;
      await pipeline(body, tap(digest, 0, (n) => meter.add(n)), handle.createWriteStream(), { signal: options.signal });
      if (size !== undefined && digest.bytes !== size) throw new TransientError(`download truncated: got ${digest.bytes} of ${size} bytes`);
      meter.done();
      return { sha256: digest.hex(), size: digest.bytes };
    }, options.signal);
  } catch (err) {
    if (created) await rm(localPath, { force: true });
    if (err instanceof StorageError) throw err;
    throw new StorageError(uri, `download failed: ${causeText(err)}`, { cause: err, file: localPath });
  }
}

/** Checks after an upload that the bytes sent are the file's size when the upload began. */
export function checkUploadedSize(uri: string, localPath: string, sent: number, expected: number): void {
  if (sent !== expected) {
    throw new StorageError(uri, `file changed while uploading: sent ${sent} bytes, expected ${expected}`, { file: localPath });
  }
}

/** Splits `scheme://first/rest` into its first segment and the literal remainder (no percent-decoding: keys are stored as written). */
export function splitUri(uri: string, scheme: string): { first: string; rest: string } {
  const prefix = `${scheme}://`;
  if (!uri.startsWith(prefix)) throw new StorageError(uri, `not a ${scheme}:// URI`);
  const body = uri.slice(prefix.length);
  const slash = body.indexOf('/');
  return slash < 0 ? { first: body, rest: '' } : { first: body.slice(0, slash), rest: body.slice(slash + 1) };
}

/** Joins a key prefix and a name with exactly one `/`. */
export function joinKey(prefix: string, name: string): string {
  return prefix ? `${prefix.replace(/\/+$/, '')}/${name}` : name;
}
