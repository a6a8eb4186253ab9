/**
 * http(s) URLs: the file server (Cairn's or ClearML's) and any other web server. Requests to the configured
 * files host carry the session's auth headers; others carry none.
 *
 * Upload: to a files host that speaks tus (`OPTIONS <origin>/uploads/` answers `Tus-Resumable`) the file
 * goes up in resumable chunks and a dropped connection resumes from the server's offset; otherwise it is
 * ClearML's one-part multipart POST to the host root (field name and filename = `/<path>`, traffic §6),
 * streamed with a computed Content-Length. Either way the SHA-256 is computed while the bytes go out and
 * the resulting URI is `<files host>/<url-quoted path>`.
 *
 * Download: a streamed GET into the target file with the Content-Length checked; an interrupted download
 * continues with a Range request when the server supports it.
 */
import { createReadStream } from 'node:fs';
import { open, rm, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StorageError } from '../../errors.js';
import {
  Digest,
  FILE_READ_CHUNK_BYTES,
  FILE_WRITE_CHUNK_BYTES,
  ProgressMeter,
  RETRYABLE_STATUSES,
  StallWatch,
  TransientError,
  backoffMs,
  delay,
  isRetryable,
  MAX_ATTEMPTS,
  REQUEST_TIMEOUT_MS,
  tap,
  withRetries,
} from '../transfer.js';
import type { ObjectInfo, StorageDriver, TransferOptions, UploadResult } from '../types.js';
import { quotePath, splitHttpUri } from '../url.js';
import { assertUnchanged } from './file.js';

/**
 * Bytes per tus PATCH. A dropped connection resumes from the server's offset whatever the chunk size, so
 * chunks only bound what one request carries through a proxy; a proxy that answers 413 gets smaller ones.
 */
export const TUS_CHUNK_BYTES = 128 * 1024 * 1024;
/** Smallest chunk tried after a proxy answered 413 to a larger one. */
const TUS_MIN_CHUNK_BYTES = 1024 * 1024;
const TUS_VERSION = '1.0.0';
/** Upload answers are short (a path list, an error text): more than this is not kept. */
const MAX_ANSWER_BYTES = 64 * 1024;

export interface HttpDriverOptions {
  /** The configured file server, without a trailing slash. */
  filesHost?: string;
  authHeaders?: () => Promise<Record<string, string>>;
  fetch: typeof fetch;
}

export class HttpDriver implements StorageDriver {
  readonly schemes = ['http', 'https'] as const;
  private readonly filesHost: string | undefined;
  /** Whether a files host speaks tus, asked once per origin. */
  private readonly tusSupport = new Map<string, Promise<boolean>>();

  constructor(private readonly options: HttpDriverOptions) {
    this.filesHost = options.filesHost?.replace(/\/+$/, '');
  }

  /** True when `uri` is on the configured files host (ClearML's rule: a plain prefix match). */
  isFilesHost(uri: string): boolean {
    return !!this.filesHost && (uri === this.filesHost || uri.startsWith(`${this.filesHost}/`));
  }

  async upload(localPath: string, uri: string, options: TransferOptions & { contentType?: string } = {}): Promise<UploadResult> {
    const { origin, path: urlPath } = splitHttpUri(uri);
    const onFilesHost = this.isFilesHost(uri);
    // The object name: the path below the files host (or below the origin for another server), taken literally.
    const name = onFilesHost ? uri.slice((this.filesHost as string).length) : urlPath;
    if (!name.replace(/\//g, '')) throw new StorageError(uri, 'the destination names no file');
    const info = await statSource(localPath, uri);
    const resultUri = onFilesHost ? `${this.filesHost}${quotePath(name)}` : `${origin}${quotePath(urlPath)}`;
    const result =
      onFilesHost && info.size > 0 && (await this.speaksTus(origin))
        ? await this.uploadTus(localPath, uri, `${origin}/uploads/`, name, info.size, options)
        : await this.uploadMultipart(localPath, uri, onFilesHost ? (this.filesHost as string) : origin, name, info.size, options);
    await assertUnchanged(localPath, info, uri);
    if (result.size !== info.size) throw new StorageError(uri, `sent ${result.size} bytes of ${info.size}`, { file: localPath });
    return { uri: resultUri, ...result };
  }

  async download(uri: string, localPath: string, options: TransferOptions = {}): Promise<{ sha256: string; size: number }> {
    const file = await open(localPath, 'wx');
    let done = false;
    try {
      const result = await this.downloadInto(uri, file, localPath, options);
      done = true;
      return result;
    } finally {
      await file.close();
      // A failed download leaves no file behind (this call created it).
      if (!done) await rm(localPath, { force: true });
    }
  }

  async head(uri: string, options: { signal?: AbortSignal } = {}): Promise<ObjectInfo | undefined> {
    const res = await withRetries(async () => {
      const r = await this.request(uri, { method: 'HEAD', signal: options.signal });
      if (RETRYABLE_STATUSES.has(r.status)) throw new TransientError(`HTTP ${r.status}`);
      return r;
    }, options.signal).catch((err) => {
      throw this.failure(uri, 'HEAD failed', err);
    });
    if (res.status === 404) return undefined;
    if (!res.ok) throw new StorageError(uri, `HEAD answered ${res.status} ${res.statusText}`);
    const length = res.headers.get('content-length');
    return { uri, size: length === null ? 0 : Number(length) };
  }

  async delete(uri: string): Promise<boolean> {
    const res = await withRetries(async () => {
      const r = await this.request(uri, { method: 'DELETE' });
      if (RETRYABLE_STATUSES.has(r.status)) throw new TransientError(`HTTP ${r.status}`);
      return r;
    }).catch((err) => {
      throw this.failure(uri, 'DELETE failed', err);
    });
    const text = await res.text();
    if (res.status === 404) return false;
    if (!res.ok) throw new StorageError(uri, `DELETE answered ${res.status}: ${text.slice(0, 200)}`);
    return true;
  }

  // The file server protocol has no listing (neither ClearML's nor Cairn's).
  async *list(prefixUri: string): AsyncIterable<ObjectInfo> {
    throw new StorageError(prefixUri, 'listing is not supported over http(s)');
  }

  /**
   * The files host must answer its health check with these credentials; another web server cannot be
   * checked without writing to it (ClearML does not check http destinations either).
   */
  async verifyWritable(baseUri: string): Promise<void> {
    if (!this.isFilesHost(baseUri)) return;
    let res: Response;
    try {
      res = await this.request(`${this.filesHost}/`, { method: 'GET' });
      await res.arrayBuffer();
    } catch (err) {
      throw this.failure(baseUri, 'the file server cannot be reached', err);
    }
    if (!res.ok) throw new StorageError(baseUri, `the file server refused access: ${res.status} ${res.statusText}`);
  }

  private async headersFor(uri: string): Promise<Record<string, string>> {
    return this.isFilesHost(uri) || this.isUploadsEndpoint(uri) ? ((await this.options.authHeaders?.()) ?? {}) : {};
  }

  /** The tus endpoint lives at the files host's origin (`/uploads/`), outside the files prefix. */
  private isUploadsEndpoint(uri: string): boolean {
    if (!this.filesHost) return false;
    return uri.startsWith(`${splitHttpUri(this.filesHost).origin}/uploads/`);
  }

  /**
   * A request through the configured fetch. Short exchanges (everything but a download, which has its
   * stall watch) get REQUEST_TIMEOUT_MS to answer.
   */
  private async request(uri: string, init: RequestInit & { headers?: Record<string, string> }, short = true): Promise<Response> {
    const headers = { ...(await this.headersFor(uri)), ...init.headers };
    const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    const signal = short ? (init.signal ? AbortSignal.any([init.signal, timeout]) : timeout) : init.signal;
    return this.options.fetch(uri, { ...init, headers, signal });
  }

  private failure(uri: string, what: string, err: unknown, file?: string): StorageError {
    if (err instanceof StorageError) return err;
    const cause = err instanceof Error ? (err.cause instanceof Error ? `${err.message}: ${err.cause.message}` : err.message) : String(err);
    return new StorageError(uri, `${what}: ${cause}`, { cause: err, file });
  }

  /**
   * Sends a request whose body is a stream of known length, over node:http(s): Node 20's fetch reads such a
   * body ahead without bound when a Content-Length is set, which would hold a whole file in memory.
   */
  private async sendStreamed(
    url: string,
    init: { method: string; headers: Record<string, string>; body: Readable; signal: AbortSignal },
  ): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
    const headers = { ...(await this.headersFor(url)), ...init.headers };
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      let answered = false;
      const req = send(target, { method: init.method, headers, signal: init.signal }, (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (chunk: Buffer) => {
          if (kept < MAX_ANSWER_BYTES) chunks.push(chunk);
          kept += chunk.length;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      // A server may answer (413, 401) before reading the whole body; its answer is what counts then.
      pipeline(init.body, req).catch((err) => {
        if (!answered) reject(err);
      });
    });
  }

  private speaksTus(origin: string): Promise<boolean> {
    let known = this.tusSupport.get(origin);
    if (!known) {
      known = this.request(`${origin}/uploads/`, { method: 'OPTIONS' })
        .then(async (res) => {
          await res.arrayBuffer();
          return res.headers.has('tus-resumable') || res.headers.has('tus-version');
        })
        .catch(() => false);
      this.tusSupport.set(origin, known);
    }
    return known;
  }

  /** ClearML's upload: one multipart/form-data POST with one part named after the destination path. */
  private async uploadMultipart(
    localPath: string,
    uri: string,
    postUrl: string,
    name: string,
    size: number,
    options: TransferOptions & { contentType?: string },
  ): Promise<{ sha256: string; size: number }> {
    const meter = new ProgressMeter(options.onProgress, size);
    const boundary = randomBytes(16).toString('hex');
    const field = formDataName(name);
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${field}"\r\n` +
        `Content-Type: ${options.contentType ?? guessContentType(name)}\r\n\r\n`,
    );
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    const result = await withRetries(async () => {
      // A one-part POST cannot resume: every attempt sends (and hashes) the whole file again.
      const digest = new Digest();
      meter.set(0);
      const watch = new StallWatch(options.signal);
      try {
        const fileStream = createReadStream(localPath, { highWaterMark: FILE_READ_CHUNK_BYTES }).pipe(
          tap(digest, 0, (n) => {
            meter.add(n);
            watch.poke();
          }),
        );
        const body = Readable.from(
          (async function* () {
            yield head;
            yield* fileStream;
            yield tail;
          })(),
        );
        const { status, text } = await this.sendStreamed(postUrl, {
          method: 'POST',
          headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': String(head.length + size + tail.length) },
          body,
          signal: watch.signal,
        });
        if (RETRYABLE_STATUSES.has(status)) throw new TransientError(`HTTP ${status}: ${text.slice(0, 200)}`);
        if (status !== 200) throw new StorageError(uri, `Failed uploading object ${name} (${status}): ${text.slice(0, 500)}`, { file: localPath });
        return { sha256: digest.hex(), size: digest.bytes };
      } finally {
        watch.stop();
      }
    }, options.signal).catch((err) => {
      throw this.failure(uri, 'upload failed', err, localPath);
    });
    meter.done();
    return result;
  }

  /** tus 1.0: create the upload, then PATCH chunks; after a failure ask the server's offset and go on from there. */
  private async uploadTus(
    localPath: string,
    uri: string,
    endpoint: string,
    name: string,
    size: number,
    options: TransferOptions,
  ): Promise<{ sha256: string; size: number }> {
    const meter = new ProgressMeter(options.onProgress, size);
    const digest = new Digest();
    const tus = { 'tus-resumable': TUS_VERSION };
    const fail = (err: unknown) => this.failure(uri, 'upload failed', err, localPath);

    const location = await withRetries(async () => {
      const res = await this.request(endpoint, {
        method: 'POST',
        headers: {
          ...tus,
          'upload-length': String(size),
          'upload-metadata': `path ${b64(name.replace(/^\/+/, ''))},filename ${b64(path.basename(name))}`,
        },
        signal: options.signal,
      });
      const text = await res.text();
      if (RETRYABLE_STATUSES.has(res.status)) throw new TransientError(`HTTP ${res.status}: ${text.slice(0, 200)}`);
      const where = res.headers.get('location');
      if (res.status !== 201 || !where) throw new StorageError(uri, `creating the upload failed (${res.status}): ${text.slice(0, 500)}`, { file: localPath });
      return new URL(where, endpoint).toString();
    }, options.signal).catch((err) => {
      throw fail(err);
    });

    let offset = 0;
    let chunkBytes = TUS_CHUNK_BYTES;
    let failures = 0;
    while (offset < size) {
      const length = Math.min(chunkBytes, size - offset);
      const watch = new StallWatch(options.signal);
      try {
        const body = createReadStream(localPath, { start: offset, end: offset + length - 1, highWaterMark: FILE_READ_CHUNK_BYTES }).pipe(
          tap(digest, offset, (n) => {
            meter.add(n);
            watch.poke();
          }),
        );
        const res = await this.sendStreamed(location, {
          method: 'PATCH',
          headers: { ...tus, 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream', 'content-length': String(length) },
          body,
          signal: watch.signal,
        });
        const text = res.text;
        if (res.status === 413 && chunkBytes > TUS_MIN_CHUNK_BYTES) {
          // A proxy in front of the server limits request bodies: smaller chunks get through.
          chunkBytes = Math.max(TUS_MIN_CHUNK_BYTES, Math.floor(chunkBytes / 4));
          throw new TransientError('413: chunk too large for the proxy');
        }
        if (RETRYABLE_STATUSES.has(res.status) || res.status === 409) throw new TransientError(`HTTP ${res.status}: ${text.slice(0, 200)}`);
        if (res.status !== 204 && res.status !== 200) throw new StorageError(uri, `upload chunk refused (${res.status}): ${text.slice(0, 500)}`, { file: localPath });
        offset = Number(res.headers['upload-offset'] ?? offset + length);
        failures = 0;
      } catch (err) {
        if (options.signal?.aborted || !isRetryable(err) || ++failures >= MAX_ATTEMPTS) throw fail(err);
        await delay(backoffMs(failures), options.signal).catch((e) => {
          throw fail(e);
        });
        offset = await this.tusOffset(location, options.signal).catch((e) => {
          throw fail(e);
        });
      } finally {
        watch.stop();
      }
      if (offset > digest.bytes) throw fail(new Error(`the server reports offset ${offset} beyond the ${digest.bytes} bytes sent`));
      meter.set(offset);
    }
    meter.done();
    return { sha256: digest.hex(), size: digest.bytes };
  }

  /** Where the server's copy of an upload ends (tus HEAD). */
  private async tusOffset(location: string, signal?: AbortSignal): Promise<number> {
    return withRetries(async () => {
      const res = await this.request(location, { method: 'HEAD', headers: { 'tus-resumable': TUS_VERSION }, signal });
      await res.arrayBuffer();
      if (RETRYABLE_STATUSES.has(res.status)) throw new TransientError(`HTTP ${res.status}`);
      const offset = res.headers.get('upload-offset');
      if (!res.ok || offset === null) throw new StorageError(location, `the upload cannot be resumed (${res.status})`);
      return Number(offset);
    }, signal);
  }

  private async downloadInto(uri: string, file: FileHandle, localPath: string, options: TransferOptions): Promise<{ sha256: string; size: number }> {
    let digest = new Digest();
    const meter = new ProgressMeter(options.onProgress);
    await withRetries(async () => {
      const watch = new StallWatch(options.signal);
      try {
        // Bytes are hashed as they are written, so `digest.bytes` is what the file holds once a write has finished.
        const resumeAt = digest.bytes;
        const res = await this.request(
          uri,
          { method: 'GET', headers: resumeAt ? { range: `bytes=${resumeAt}-` } : {}, signal: watch.signal },
          false,
        );
        if (RETRYABLE_STATUSES.has(res.status)) {
          await res.arrayBuffer();
          throw new TransientError(`HTTP ${res.status}`);
        }
        if (res.status === 404) {
          await res.arrayBuffer();
          throw new StorageError(uri, 'not found (404)', { file: localPath });
        }
        if (res.status !== 200 && !(resumeAt && res.status === 206)) {
          const text = await res.text();
          throw new StorageError(uri, `download answered ${res.status}: ${text.slice(0, 300)}`, { file: localPath });
        }
        if (res.status === 200 && resumeAt) {
          // The server ignored the Range: start over.
          await file.truncate(0);
          digest = new Digest();
        }
        const start = digest.bytes;
        const length = res.headers.get('content-length');
        const expectedEnd = length === null ? undefined : start + Number(length);
        meter.total = expectedEnd;
        meter.set(start);
        if (!res.body) throw new TransientError('empty response body');
        const sink = digest;
        // Network chunks (~64 KiB) are gathered into FILE_WRITE_CHUNK_BYTES blocks: one write per block costs a
        // fraction of one write per chunk. A block is hashed while its write runs. Whatever ends the attempt, its
        // last write is awaited: a failed write (not retryable) ends the download, so the digest never counts
        // bytes the file does not hold.
        let block: Buffer[] = [];
        let blockBytes = 0;
        let writing: Promise<void> = Promise.resolve();
        const writeBlock = () => {
          const data = block.length === 1 ? block[0]! : Buffer.concat(block, blockBytes);
          block = [];
          blockBytes = 0;
          const written = file.write(data, 0, data.length, sink.bytes);
          sink.update(data);
          writing = written.then(() => meter.add(data.length));
          return writing;
        };
        try {
          await pipeline(
            Readable.fromWeb(res.body as import('node:stream/web').ReadableStream),
            new Writable({
              write(chunk: Buffer, _enc, cb) {
                watch.poke();
                block.push(chunk);
                blockBytes += chunk.length;
                if (blockBytes < FILE_WRITE_CHUNK_BYTES) return cb();
                writeBlock().then(() => cb(), cb);
              },
              final(cb) {
                if (!blockBytes) return cb();
                writeBlock().then(() => cb(), cb);
              },
            }),
          );
        } finally {
          await writing;
        }
        if (expectedEnd !== undefined && digest.bytes !== expectedEnd) {
          throw new TransientError(`connection closed after ${digest.bytes} of ${expectedEnd} bytes`);
        }
      } finally {
        watch.stop();
      }
    }, options.signal).catch((err) => {
      throw this.failure(uri, 'download failed', err, localPath);
    });
    meter.done();
    return { sha256: digest.hex(), size: digest.bytes };
  }
}

async function statSource(localPath: string, uri: string): Promise<{ size: number; mtimeMs: number }> {
  let s;
  try {
    s = await stat(localPath);
  } catch (err) {
    throw new StorageError(uri, `file not found: ${localPath}`, { cause: err, file: localPath });
  }
  if (!s.isFile()) throw new StorageError(uri, `not a regular file: ${localPath}`, { file: localPath });
  return { size: s.size, mtimeMs: s.mtimeMs };
}

function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

/** A form-data name as HTML5 (and urllib3) escape it: quotes and line breaks percent-encoded, UTF-8 kept. */
function formDataName(name: string): string {
  return name.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Python's `mimetypes` answers for the extensions models come in; ClearML falls back to `binary/octet-stream`. */
const CONTENT_TYPES: Record<string, string> = {
  '.bin': 'application/octet-stream',
  '.zip': 'application/zip',
  '.tar': 'application/x-tar',
  '.tgz': 'application/x-tar',
  '.json': 'application/json',
  '.txt': 'text/plain',
  '.csv': 'text/csv',
  '.html': 'text/html',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.pdf': 'application/pdf',
};

function guessContentType(name: string): string {
  const lower = name.toLowerCase();
  if (lower.endsWith('.tar.gz')) return 'application/x-tar';
  return CONTENT_TYPES[path.extname(lower)] ?? 'binary/octet-stream';
}
