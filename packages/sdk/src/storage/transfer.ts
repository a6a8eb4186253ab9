/**
 * What every transfer shares: a SHA-256 computed over the bytes as they stream past, throttled progress
 * events, retries with backoff for transient failures, and a watchdog that aborts a transfer that stopped
 * moving (timeouts follow progress, never the wall clock).
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ProgressListener } from './types.js';

/** Progress events are throttled to this interval (plus one final event) so a listener never slows a transfer. */
export const PROGRESS_INTERVAL_MS = 100;
/** Attempts per transfer step (1 + 4 retries, about 7.5 s of backoff in all), like ClearML's HTTP helpers. */
export const MAX_ATTEMPTS = 5;
/** First backoff delay; doubled on every retry. */
export const RETRY_BASE_DELAY_MS = 500;
/** Upper bound of one backoff delay. */
export const RETRY_MAX_DELAY_MS = 30_000;
/** HTTP statuses worth retrying: timeouts, rate limits and gateway errors. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 502, 503, 504]);
/** A transfer that moves no byte for this long is aborted and retried (a stalled connection, not a slow one). */
export const STALL_TIMEOUT_MS = 60_000;
/** A request without a body to stream (HEAD, DELETE, OPTIONS, creating an upload) must be answered within this. */
export const REQUEST_TIMEOUT_MS = 60_000;

/**
 * Read size for local files that are sent or hashed: Node's default of 64 KiB costs about four times the CPU
 * per byte (one stream chunk and one allocation per 64 KiB), which shows on every large transfer.
 */
export const FILE_READ_CHUNK_BYTES = 1024 * 1024;
/** Downloads are written to disk in blocks of this size, for the same reason. */
export const FILE_WRITE_CHUNK_BYTES = 1024 * 1024;

/** SHA-256 of the empty input. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** A running SHA-256 over a byte sequence that may be re-read in part (a resumed upload re-sends a tail). */
export class Digest {
  private readonly hash: Hash = createHash('sha256');
  /** Bytes hashed so far: the position the next new byte has in the sequence. */
  bytes = 0;

  /** Feeds `chunk`, which starts at `position`; bytes already hashed are skipped. */
  update(chunk: Buffer, position: number = this.bytes): void {
    if (position > this.bytes) throw new Error(`digest gap: chunk at ${position}, hashed up to ${this.bytes}`);
    const skip = this.bytes - position;
    if (skip >= chunk.length) return;
    this.hash.update(skip ? chunk.subarray(skip) : chunk);
    this.bytes += chunk.length - skip;
  }

  hex(): string {
    return this.hash.digest('hex');
  }
}

/** Throttled progress for one transfer. */
export class ProgressMeter {
  private readonly started = Date.now();
  private lastEmit = 0;
  bytes = 0;

  constructor(
    private readonly listener: ProgressListener | undefined,
    /** Total bytes, when known (a download learns it from the response). */
    public total?: number,
  ) {}

  /** Sets the absolute position (a resumed transfer jumps to the server's offset). */
  set(bytes: number): void {
    this.bytes = bytes;
    this.maybeEmit();
  }

  add(n: number): void {
    this.set(this.bytes + n);
  }

  /** The final event, always sent. */
  done(): void {
    this.emit();
  }

  private maybeEmit(): void {
    if (Date.now() - this.lastEmit >= PROGRESS_INTERVAL_MS) this.emit();
  }

  private emit(): void {
    if (!this.listener) return;
    this.lastEmit = Date.now();
    const seconds = (this.lastEmit - this.started) / 1000;
    const rate = seconds > 0 ? this.bytes / seconds : 0;
    this.listener(this.total === undefined ? { bytes: this.bytes, rate } : { bytes: this.bytes, total: this.total, rate });
  }
}

/** A pass-through stream that hashes (from `position`) and counts the bytes flowing through it. */
export function tap(digest: Digest, position: number, onBytes: (n: number) => void): Transform {
  let at = position;
  return new Transform({
    transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback) {
      digest.update(chunk, at);
      at += chunk.length;
      onBytes(chunk.length);
      cb(null, chunk);
    },
  });
}

/** SHA-256 and size of a local file, streamed. */
export async function hashFile(file: string, onProgress?: ProgressListener, total?: number): Promise<{ sha256: string; size: number }> {
  const digest = new Digest();
  const meter = new ProgressMeter(onProgress, total);
  await pipeline(createReadStream(file, { highWaterMark: FILE_READ_CHUNK_BYTES }), tap(digest, 0, (n) => meter.add(n)), async function* (source) {
    for await (const chunk of source) void chunk;
  });
  meter.done();
  return { sha256: digest.hex(), size: digest.bytes };
}

/** A failure worth retrying (connection dropped, retryable status, truncated body). */
export class TransientError extends Error {}

const CONNECTION_ERROR_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH',
  'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT',
]);

/** True for errors a retry may cure: transient ones and connection failures anywhere in the cause chain. */
export function isRetryable(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof TransientError) return true;
    if (e instanceof Error && e.name === 'TimeoutError') return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && CONNECTION_ERROR_CODES.has(code)) return true;
    // undici reports a dropped connection as a bare TypeError ("fetch failed", "terminated").
    if (e instanceof TypeError && /fetch failed|terminated|other side closed/i.test(e.message)) return true;
  }
  return false;
}

export function delay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function backoffMs(failures: number): number {
  return Math.min(RETRY_MAX_DELAY_MS, RETRY_BASE_DELAY_MS * 2 ** (failures - 1));
}

/**
 * Runs `step` until it succeeds, retrying retryable failures with backoff. `step` gets the number of
 * failures so far. Non-retryable errors and the last failure are rethrown.
 */
export async function withRetries<T>(step: (failures: number) => Promise<T>, signal?: AbortSignal): Promise<T> {
  for (let failures = 0; ; ) {
    try {
      return await step(failures);
    } catch (err) {
      failures++;
      if (signal?.aborted || !isRetryable(err) || failures >= MAX_ATTEMPTS) throw err;
      await delay(backoffMs(failures), signal);
    }
  }
}

/**
 * An AbortSignal that fires when the caller aborts or when `poke()` has not been called for
 * STALL_TIMEOUT_MS. Call `stop()` when the transfer is over.
 */
export class StallWatch {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private readonly onAbort = () => this.controller.abort(this.outer?.reason);

  constructor(
    private readonly outer?: AbortSignal,
    private readonly timeoutMs = STALL_TIMEOUT_MS,
  ) {
    if (outer?.aborted) this.controller.abort(outer.reason);
    outer?.addEventListener('abort', this.onAbort, { once: true });
    this.poke();
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  poke(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(
      () => this.controller.abort(new TransientError(`no progress for ${this.timeoutMs / 1000} s`)),
      this.timeoutMs,
    );
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.outer?.removeEventListener('abort', this.onAbort);
  }
}
