import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import { safeKey, UnsafePathError, type FileStore } from './store.js';
import { FileServerError } from './http.js';

/** A batch-delete body is a list of paths; this bounds it far above what a cleanup sends. */
const MAX_DELETE_MANY_BODY_BYTES = 16 * 1024 * 1024;

const DeleteManyRequest = z.object({ files: z.array(z.string()) });

export interface DeleteManyResult {
  deleted: Record<string, string>;
  errors: Record<string, string[]>;
}

/** `DELETE /files/<key>`: one file; a folder or a missing file is 404, as in ClearML. */
export async function deleteOne(store: FileStore, key: string): Promise<string> {
  if (!(await store.delete(key))) throw new FileServerError(404, `File ${key} not found`);
  return key;
}

/**
 * `POST /files/delete_many` (clearml-api.md §5): files and folders, each path URL-decoded once. Unlike
 * ClearML (`unquote_plus`), a `+` stays a plus: Cairn's and ClearML's clients keep `+` literal in file URLs,
 * so reading it as a space could delete a different file.
 */
export async function deleteMany(raw: IncomingMessage, store: FileStore): Promise<DeleteManyResult> {
  const text = await readText(raw, MAX_DELETE_MANY_BODY_BYTES);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new FileServerError(400, 'Json payload is missing');
  }
  if (!body) throw new FileServerError(400, 'Json payload is missing');
  const parsed = DeleteManyRequest.safeParse(body);
  if (!parsed.success) throw new FileServerError(400, 'files must be a list of paths');
  if (!parsed.data.files.length) throw new FileServerError(400, 'files are missing');

  const deleted: Record<string, string> = {};
  const errors: Record<string, string[]> = {};
  const fail = (msg: string, file: string) => (errors[msg] ??= []).push(file);
  for (const file of parsed.data.files) {
    let key: string;
    try {
      key = safeKey(file);
    } catch (err) {
      const message = (err as UnsafePathError).message;
      // An empty path would name the whole root: refused by name, as ClearML does.
      fail(message === 'empty path' ? 'Empty path not allowed' : `Invalid path: ${message}`, file);
      continue;
    }
    if (await store.deleteTree(key)) deleted[file] = key;
    else fail('Not found', file);
  }
  return { deleted, errors };
}

/** Reads a small body; the request stays open (not destroyed) when it is refused, so the answer can go out. */
function readText(raw: IncomingMessage, limit: number): Promise<string> {
  const tooLarge = () => new FileServerError(413, `Request entity too large (the limit is ${limit} bytes)`);
  if (Number(raw.headers['content-length'] ?? 0) > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      raw.off('data', onData);
      raw.off('end', onEnd);
      raw.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        reject(tooLarge());
      } else chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    raw.on('data', onData);
    raw.once('end', onEnd);
    raw.once('error', onError);
  });
}
