/**
 * `file://` URIs and plain local paths. Uploads are a streamed copy to a temporary name beside the target
 * and a rename, so the target only ever holds a complete file; the digest is computed in the same pass.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, open, opendir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { StorageError } from '../../errors.js';
import { Digest, hashFile, ProgressMeter, tap } from '../transfer.js';
import type { ObjectInfo, StorageDriver, TransferOptions, UploadResult } from '../types.js';
import { fileUriOf, localPathOf } from '../url.js';

/** Uploaded files are group-writable, as ClearML's local driver leaves them. */
const UPLOADED_FILE_MODE = 0o664;

export class FileDriver implements StorageDriver {
  readonly schemes = ['file'] as const;

  async upload(localPath: string, uri: string, options: TransferOptions = {}): Promise<UploadResult> {
    const target = localPathOf(uri);
    const source = path.resolve(localPath);
    const info = await statFile(source, uri);
    if (source === target) {
      // Registering a file in place: nothing to copy, only the digest to compute.
      const { sha256, size } = await hashFile(source, options.onProgress, info.size);
      await assertUnchanged(source, info, uri);
      return { uri: fileUriOf(target), sha256, size };
    }
    const meter = new ProgressMeter(options.onProgress, info.size);
    const digest = new Digest();
    await copyWithDigest(source, target, digest, meter, uri, options.signal);
    meter.done();
    await assertUnchanged(source, info, uri);
    return { uri: fileUriOf(target), sha256: digest.hex(), size: digest.bytes };
  }

  async download(uri: string, localPath: string, options: TransferOptions = {}): Promise<{ sha256: string; size: number }> {
    const source = localPathOf(uri);
    const info = await statFile(source, uri);
    const meter = new ProgressMeter(options.onProgress, info.size);
    const digest = new Digest();
    try {
      await pipeline(createReadStream(source), tap(digest, 0, (n) => meter.add(n)), createWriteStream(localPath, { flags: 'wx' }), {
        signal: options.signal,
      });
    } catch (err) {
      // Only remove what this call created (the target must not have existed).
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') await rm(localPath, { force: true });
      throw new StorageError(uri, `copy failed: ${(err as Error).message}`, { cause: err, file: localPath });
    }
    meter.done();
    return { sha256: digest.hex(), size: digest.bytes };
  }

  async head(uri: string): Promise<ObjectInfo | undefined> {
    try {
      const s = await stat(localPathOf(uri));
      return s.isFile() ? { uri, size: s.size } : undefined;
    } catch {
      return undefined;
    }
  }

  async delete(uri: string): Promise<boolean> {
    try {
      await unlink(localPathOf(uri));
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'EPERM') return false;
      throw new StorageError(uri, `delete failed: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Files below a folder, or the files of the prefix's folder whose path starts with the prefix. */
  async *list(prefixUri: string): AsyncIterable<ObjectInfo> {
    const prefix = localPathOf(prefixUri);
    let root = prefix;
    let isDir = false;
    try {
      isDir = (await stat(prefix)).isDirectory();
    } catch {
      // Not an existing folder: a name prefix inside its parent.
    }
    if (!isDir) root = path.dirname(prefix);
    for await (const file of walk(root)) {
      if (!isDir && !file.startsWith(prefix)) continue;
      const s = await stat(file).catch(() => undefined);
      if (s?.isFile()) yield { uri: fileUriOf(file), size: s.size };
    }
  }

  /** Creates the folder and writes and removes a probe file in it. */
  async verifyWritable(baseUri: string): Promise<void> {
    const dir = localPathOf(baseUri);
    const probe = path.join(dir, `.cairn.${randomBytes(8).toString('hex')}.test`);
    try {
      await mkdir(dir, { recursive: true });
      await writeFile(probe, '');
      await unlink(probe);
    } catch (err) {
      throw new StorageError(baseUri, `folder is not writable: ${(err as Error).message}`, { cause: err });
    }
  }
}

async function copyWithDigest(source: string, target: string, digest: Digest, meter: ProgressMeter, uri: string, signal?: AbortSignal) {
  const partial = path.join(path.dirname(target), `.${path.basename(target)}.${randomBytes(6).toString('hex')}.partial`);
  try {
    await mkdir(path.dirname(target), { recursive: true });
    await pipeline(createReadStream(source), tap(digest, 0, (n) => meter.add(n)), createWriteStream(partial, { flags: 'wx', mode: UPLOADED_FILE_MODE }), {
      signal,
    });
    await fsync(partial);
    // The umask may have masked the mode at creation.
    await chmod(partial, UPLOADED_FILE_MODE);
    await rename(partial, target);
  } catch (err) {
    await rm(partial, { force: true });
    throw new StorageError(uri, `copy failed: ${(err as Error).message}`, { cause: err, file: source });
  }
}

/** Flushes a file to disk so a crash after the rename cannot leave a renamed but empty file. */
export async function fsync(file: string): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function statFile(file: string, uri: string): Promise<{ size: number; mtimeMs: number }> {
  let s;
  try {
    s = await stat(file);
  } catch (err) {
    throw new StorageError(uri, `file not found: ${file}`, { cause: err, file });
  }
  if (!s.isFile()) throw new StorageError(uri, `not a regular file: ${file}`, { file });
  return { size: s.size, mtimeMs: s.mtimeMs };
}

/** Refuses a source that changed while it was read: its digest would describe neither version. */
export async function assertUnchanged(file: string, before: { size: number; mtimeMs: number }, uri: string): Promise<void> {
  const after = await stat(file);
  if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) {
    throw new StorageError(uri, `file changed while it was uploaded (size ${before.size} → ${after.size})`, { file });
  }
}

async function* walk(dir: string): AsyncIterable<string> {
  let handle;
  try {
    handle = await opendir(dir);
  } catch {
    return;
  }
  for await (const entry of handle) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else if (entry.isFile()) yield full;
  }
}
