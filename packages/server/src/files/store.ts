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

/** A write that collides with what is there: a file where a folder is needed, or the reverse. */
export class PathConflictError extends Error {}

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

/** Files are read in 1 MiB chunks: Node's default of 64 KiB costs several times the CPU per byte served. */
const READ_CHUNK_BYTES = 1024 * 1024;

/** Longest name one path segment may have on the file systems Cairn runs on (ext4, xfs, APFS, NTFS). */
const MAX_SEGMENT_BYTES = 255;
/** Longest whole key: Linux's PATH_MAX, less room for the files root itself. */
const MAX_KEY_BYTES = 3072;

/**
 * Turns a URL path (still percent-encoded) into a safe relative key: decoded exactly once, then checked
 * by `safeLiteralKey`. A `%252e` therefore stays the literal text `%2e`, never a dot.
 */
export function safeKey(urlPath: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    throw new UnsafePathError('malformed percent-encoding or invalid UTF-8 in path');
  }
  return safeLiteralKey(decoded);
}

/**
 * Checks a path that is not URL-encoded (a multipart field name, a resumable upload's metadata) and returns
 * it as a relative key: split on `/`, empty and `.` segments dropped. Refused: NUL and other control
 * characters, backslashes, `..` segments and segments that Unicode compatibility folding (NFKC) turns into
 * `.`/`..` or a separator, replacement characters left by invalid UTF-8, over-long names, and an empty
 * result. A key can therefore never name anything outside the files root, whatever tricks the path carried.
 */
export function safeLiteralKey(text: string): string {
  if (/[\u0000-\u001f\u007f]/.test(text)) throw new UnsafePathError(text.includes('\0') ? 'NUL byte in path' : 'control character in path');
  if (text.includes('\ufffd')) throw new UnsafePathError('invalid UTF-8 in path');
  if (text.includes('\\')) throw new UnsafePathError('backslash in path');
  const segments = text.split('/').filter((s) => s !== '' && s !== '.');
  for (const segment of segments) {
    if (segment === '..') throw new UnsafePathError('parent segment (..) in path');
    const folded = segment.normalize('NFKC');
    if (folded === '.' || folded === '..' || /[/\\]/.test(folded)) throw new UnsafePathError('path segment that folds to a dot or separator');
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES) throw new UnsafePathError(`path segment longer than ${MAX_SEGMENT_BYTES} bytes`);
  }
  if (!segments.length) throw new UnsafePathError('empty path');
  const key = segments.join('/');
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new UnsafePathError(`path longer than ${MAX_KEY_BYTES} bytes`);
  return key;
}

const CONFLICT_CODES = new Set(['EEXIST', 'ENOTDIR', 'EISDIR', 'ENOTEMPTY']);

function isConflict(err: unknown): boolean {
  return CONFLICT_CODES.has((err as NodeJS.ErrnoException).code ?? '');
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
    await this.makeParent(target);
    // The partial file lives beside the target so the final rename stays on one file system; its name is
    // short so that a target name of the maximum length still leaves room for it.
    const partial = path.join(path.dirname(target), `.cairn-${randomUUID()}.partial`);
    try {
      await pipeline(source, createWriteStream(partial, { mode: 0o640 }));
      await this.replace(partial, target);
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
    const s = await stat(target);
    return { size: s.size, mtimeMs: s.mtimeMs };
  }

  /**
   * Moves a complete local file into the store under `key`: a rename when it is on the same file system
   * (atomic, no copy), else a streamed copy through `write`. The source is gone afterwards either way.
   */
  async moveIn(key: string, localPath: string): Promise<StoredFile> {
    const target = this.resolve(key);
    await this.makeParent(target);
    try {
      await this.replace(localPath, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      await this.write(key, createReadStream(localPath));
      await rm(localPath, { force: true });
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
    return createReadStream(this.resolve(key), { ...(range ? { start: range.start, end: range.end } : {}), highWaterMark: READ_CHUNK_BYTES });
  }

  async delete(key: string): Promise<boolean> {
    try {
      await unlink(this.resolve(key));
      await this.pruneEmptyParents(key);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // EISDIR on Linux, EPERM on macOS: a folder is not "one file".
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'EPERM' || code === 'ENOTDIR') return false;
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

  private async makeParent(target: string): Promise<void> {
    try {
      await mkdir(path.dirname(target), { recursive: true });
    } catch (err) {
      if (isConflict(err)) throw new PathConflictError('a parent of the path is a file');
      throw err;
    }
  }

  private async replace(from: string, target: string): Promise<void> {
    try {
      await rename(from, target);
    } catch (err) {
      if (isConflict(err)) throw new PathConflictError('the path is a folder');
      throw err;
    }
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

/**
 * Moves a complete local file into any store: by rename into a local store, else streamed through
 * `write` (an object store); the local file is removed afterwards.
 */
export async function moveIntoStore(store: FileStore, key: string, localPath: string): Promise<StoredFile> {
  if (store instanceof LocalFileStore) return store.moveIn(key, localPath);
  const stored = await store.write(key, createReadStream(localPath));
  await rm(localPath, { force: true });
  return stored;
}
