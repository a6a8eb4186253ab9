import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { safeLiteralKey, moveIntoStore, UnsafePathError, PathConflictError, type FileStore } from './store.js';
import { FileServerError } from './http.js';

/** Files in one request; ClearML's client sends one, a hand-made form a few. */
const MAX_FILES_PER_REQUEST = 1000;
/** Non-file form fields are ignored, but still parsed: keep each one small. */
const MAX_FIELD_BYTES = 64 * 1024;

/** A part that is not stored: read and dropped; it errors too when the request is cut short. */
function drop(stream: Readable): void {
  stream.on('error', () => undefined).resume();
}

function tooLarge(limit: number): FileServerError {
  return new FileServerError(413, `Request entity too large (the limit is ${limit} bytes)`);
}

/**
 * ClearML's upload (`POST /files`, clearml-api.md §5): multipart/form-data where every file part's field name
 * is its destination path (not URL-encoded; a leading `/` is dropped). Every part is streamed to a staging
 * file first; only when the whole request was read and every path is safe are the files moved into the store,
 * so a refused request leaves nothing behind and no file is ever seen half-written under its name.
 * `maxBytes` bounds the whole request body, as ClearML's `max_upload_size_mb` does. Returns the stored keys
 * in order.
 */
export async function receiveMultipart(raw: IncomingMessage, store: FileStore, stagingDir: string, maxBytes: number | undefined): Promise<string[]> {
  const type = raw.headers['content-type'] ?? '';
  if (!/^multipart\/form-data\b/i.test(type)) throw new FileServerError(400, 'Expected multipart/form-data');
  if (maxBytes !== undefined && Number(raw.headers['content-length'] ?? 0) > maxBytes) throw tooLarge(maxBytes);

  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: raw.headers,
      // Python's client writes the name as raw UTF-8; busboy would read it as Latin-1 otherwise.
      defParamCharset: 'utf8',
      preservePath: true,
      limits: { files: MAX_FILES_PER_REQUEST, fieldSize: MAX_FIELD_BYTES },
    });
  } catch (err) {
    throw new FileServerError(400, `Malformed multipart request: ${(err as Error).message}`);
  }

  await mkdir(stagingDir, { recursive: true });
  const parts: { key: string; staged: string; file: WriteStream }[] = [];
  const writes: Promise<void>[] = [];
  let refused: Error | undefined;

  parser.on('file', (name, stream) => {
    if (refused) {
      drop(stream);
      return;
    }
    let key: string;
    try {
      key = safeLiteralKey(name);
    } catch (err) {
      refused = new FileServerError(400, `Invalid path ${JSON.stringify(name)}: ${(err as UnsafePathError).message}`);
      drop(stream);
      parser.destroy(refused);
      return;
    }
    const staged = path.join(stagingDir, randomUUID());
    const file = createWriteStream(staged, { mode: 0o640 });
    parts.push({ key, staged, file });
    const write = pipeline(stream, file);
    // A write error ends the whole request; the rejection is seen through `writes` below.
    write.catch((err: Error) => parser.destroy(err));
    writes.push(write);
  });
  parser.on('filesLimit', () => {
    refused = new FileServerError(400, `Too many files in one request (at most ${MAX_FILES_PER_REQUEST})`);
    parser.destroy(refused);
  });

  let received = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      if (maxBytes !== undefined && received > maxBytes) done(tooLarge(maxBytes));
      else done(null, chunk);
    },
  });

  // The request is not part of the pipeline: a failed pipeline would destroy it and with it the socket the
  // answer has to go out on. Its end and errors are forwarded by hand.
  raw.pipe(counter);
  const onAbort = () => {
    if (!raw.readableEnded) counter.destroy(new FileServerError(400, 'The upload was interrupted'));
  };
  raw.once('error', onAbort);
  raw.once('close', onAbort);
  try {
    await pipeline(counter, parser);
    await Promise.all(writes);
  } catch (err) {
    raw.unpipe(counter);
    await Promise.allSettled(writes);
    // A file stream destroyed while it was still opening creates its file afterwards: wait for it to close.
    await Promise.all(parts.map((p) => p.file.closed || new Promise<void>((closed) => p.file.once('close', () => closed()))));
    await Promise.all(parts.map((p) => rm(p.staged, { force: true })));
    if (refused) throw refused;
    if (err instanceof FileServerError) throw err;
    if (/Unexpected end of form|Malformed|boundary/i.test((err as Error).message)) {
      throw new FileServerError(400, `Malformed multipart request: ${(err as Error).message}`);
    }
    throw err;
  } finally {
    raw.off('error', onAbort);
    raw.off('close', onAbort);
  }

  const stored: string[] = [];
  for (const [i, part] of parts.entries()) {
    try {
      await moveIntoStore(store, part.key, part.staged);
    } catch (err) {
      await Promise.all(parts.slice(i).map((p) => rm(p.staged, { force: true })));
      const before = stored.length ? ` (stored before it: ${JSON.stringify(stored)})` : '';
      if (err instanceof PathConflictError) throw new FileServerError(409, `Cannot store ${part.key}: ${err.message}${before}`);
      throw err;
    }
    stored.push(part.key);
  }
  return stored;
}
