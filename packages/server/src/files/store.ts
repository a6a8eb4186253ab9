import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat, unlink, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** A path a client sent that must never be served: answered 400 (malformed) or 404 (not there). */
export class UnsafePathError extends Error {
  constructor(message: string, readonly status: 400 | 404 = 400) {
    super(message);
  }
}

export interface StoredFile {
  size: number;
  mtimeMs: number;
}

/** Where the file server keeps files: a local folder (embedded default) or an object store. */
export interface FileStore {
  /** Streams `source` to a temporary object and renames it into place once complete. */
  write(key: string, source: Readable): Promise<StoredFile>;
  stat(key: string): Promise<StoredFile | undefined>;
  /** `end` is inclusive, as in an HTTP Range. */
  read(key: string, range?: { start: number; end: number }): Readable;
  /** Deletes one file; false when there was none. */
  delete(key: string): Promise<boolean>;
  /** Deletes a file or a folder with everything below it; false when there was none. */
  deleteTree(key: string): Promise<boolean>;
}

/**
 * Turns a URL path (still percent-encoded) into a safe relative key: decoded exactly once, split on `/`,
 * and refused when any segment is `..`, holds a NUL or a backslash, or the result is empty. A key can
 * therefore never name anything outside the files root, whatever encoding tricks the path carried.
 */
export function safeKey(urlPath: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    throw new UnsafePathError('malformed percent-encoding in path');
  }
  if (decoded.includes('\0')) throw new UnsafePathError('NUL byte in path');
  if (decoded.includes('\\')) throw new UnsafePathError('backslash in path');
  const segments = decoded.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.some((s) => s === '..')) throw new UnsafePathError('parent segment (..) in path');
  if (!segments.length) throw new UnsafePathError('empty path');
  if (segments.some((s) => Buffer.byteLength(s) > 255)) throw new UnsafePathError('path segment longer than 255 bytes');
  return segments.join('/');
}

export class LocalFileStore implements FileStore {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /** Absolute path of a key, checked once more to lie below the root. */
  resolve(key: string): string {
    const full = path.resolve(this.root, key);
    if (!full.startsWith(this.root + path.sep)) throw new UnsafePathError('path outside the files root');
    return full;
  }

  async write(key: string, source: Readable): Promise<StoredFile> {
    const target = this.resolve(key);
    await mkdir(path.dirname(target), { recursive: true });
    // The partial file lives beside the target so the final rename stays on one file system.
    const partial = path.join(path.dirname(target), `.${path.basename(target)}.${randomUUID()}.partial`);
    try {
      await pipeline(source, createWriteStream(partial, { mode: 0o640 }));
      await rename(partial, target);
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
    const s = await stat(target);
    return { size: s.size, mtimeMs: s.mtimeMs };
  }

  async stat(key: string): Promise<StoredFile | undefined> {
    try {
      const s = await stat(this.resolve(key));
      return s.isFile() ? { size: s.size, mtimeMs: s.mtimeMs } : undefined;
    } catch {
      return undefined;
    }
  }

  read(key: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.resolve(key), range ? { start: range.start, end: range.end } : {});
  }

  async delete(key: string): Promise<boolean> {
    try {
      await unlink(this.resolve(key));
      await this.pruneEmptyParents(key);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'EISDIR') return false;
      throw err;
    }
  }

  async deleteTree(key: string): Promise<boolean> {
    const full = this.resolve(key);
    try {
      await stat(full);
    } catch {
      return false;
    }
    await rm(full, { recursive: true, force: true });
    await this.pruneEmptyParents(key);
    return true;
  }

  /** Removes folders left empty by a delete, up to the root. */
  private async pruneEmptyParents(key: string): Promise<void> {
    let dir = path.dirname(this.resolve(key));
    while (dir.startsWith(this.root + path.sep)) {
      try {
        await rmdir(dir);
      } catch {
        return;
      }
      dir = path.dirname(dir);
    }
  }
}
