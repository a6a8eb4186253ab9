/**
 * Model packages: zip creation (stored, zip64, streamed with yazl) and extraction of `.zip` (yauzl) and
 * `.tgz` / `.tar.gz` (tar) archives. Extraction never writes outside its target folder: entries with `..`,
 * absolute paths, drive letters, backslashes, symlinks, hardlinks or device types are refused with a
 * StorageError naming the entry, and everything is extracted into a temporary sibling folder that is only
 * renamed into place once complete.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, opendir, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import yauzl from 'yauzl';
import { Parser, type ReadEntry } from 'tar';
import { StorageError } from '../errors.js';

export type ArchiveKind = 'zip' | 'tar.gz';

/** Extracted files get ordinary permissions whatever the archive says (no setuid, no world-writable files). */
const EXTRACTED_FILE_MODE = 0o644;
/** Mode bits of a symlink in a zip entry's Unix attributes. */
const S_IFMT = 0o170000;
const S_IFLNK = 0o120000;

/** The archive kind a file name implies (`.zip`, `.tgz`, `.tar.gz`, any case), or undefined. */
export function archiveKindOf(name: string): ArchiveKind | undefined {
  const lower = name.toLowerCase();
  if (lower.endsWith('.zip')) return 'zip';
  if (lower.endsWith('.tgz') || lower.endsWith('.tar.gz')) return 'tar.gz';
  return undefined;
}

/**
 * Zips `files` (stored, no compression; zip64 when needed) into a new temporary file
 * `<tmpDir>/model_package.<random>.zip` and returns its path. Entry names are POSIX paths relative to
 * `basePath`, or basenames without one. A folder in the list adds itself and everything below it.
 */
export async function createZipPackage(files: string[], options: { basePath?: string; tmpDir?: string } = {}): Promise<string> {
  const basePath = options.basePath ? path.resolve(options.basePath) : undefined;
  const zipPath = path.join(options.tmpDir ?? os.tmpdir(), `model_package.${randomBytes(8).toString('hex')}.zip`);
  const entries = new Map<string, { file: string; dir: boolean; mtime: Date; mode: number }>();

  const collect = async (file: string, relativeTo: string | undefined): Promise<void> => {
    let s;
    try {
      s = await stat(file);
    } catch (err) {
      throw new StorageError(`file://${zipPath}`, `cannot add ${file} to the package: ${(err as Error).message}`, { cause: err, file });
    }
    const rel = relativeTo ? path.relative(relativeTo, file) : path.basename(file);
    if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) {
      throw new StorageError(`file://${zipPath}`, `${file} is not below the package base path ${relativeTo}`, { file });
    }
    const name = rel.split(path.sep).join('/') + (s.isDirectory() ? '/' : '');
    const known = entries.get(name);
    // The same path listed twice (a folder and its files) is added once; two different files may not share a name.
    if (known && known.file !== file) throw new StorageError(`file://${zipPath}`, `two files would have the same name in the package: ${name}`, { file });
    if (known) return;
    entries.set(name, { file, dir: s.isDirectory(), mtime: s.mtime, mode: s.mode });
    if (s.isDirectory()) {
      for await (const child of await opendir(file)) await collect(path.join(file, child.name), relativeTo);
    }
  };
  for (const file of files) {
    const abs = path.resolve(file);
    // Without a base path, a folder's entries are named relative to the folder's parent.
    const isDir = (await stat(abs).catch(() => undefined))?.isDirectory();
    await collect(abs, basePath ?? (isDir ? path.dirname(abs) : undefined));
  }

  const zip = new yazl.ZipFile();
  const failed = new Promise<never>((_, reject) => zip.on('error', reject));
  for (const [name, e] of entries) {
    if (e.dir) zip.addEmptyDirectory(name, { mtime: e.mtime });
    else zip.addFile(e.file, name, { compress: false, mtime: e.mtime, mode: e.mode });
  }
  zip.end();
  try {
    await Promise.race([pipeline(zip.outputStream as Readable, createWriteStream(zipPath, { flags: 'wx' })), failed]);
  } catch (err) {
    await rm(zipPath, { force: true });
    throw new StorageError(`file://${zipPath}`, `zip creation failed: ${(err as Error).message}`, { cause: err });
  }
  return zipPath;
}

/**
 * Extracts a `.zip`, `.tgz` or `.tar.gz` archive into `targetDir` (kind from the archive's name unless
 * given). Everything goes to a temporary sibling that is renamed to `targetDir` once complete; when
 * `targetDir` already exists by then (extracted meanwhile by someone else) the existing folder is kept.
 * Returns the number of files and bytes written.
 */
export async function extractArchive(
  archivePath: string,
  targetDir: string,
  options: { kind?: ArchiveKind } = {},
): Promise<{ files: number; bytes: number }> {
  const kind = options.kind ?? archiveKindOf(archivePath);
  if (!kind) throw new StorageError(`file://${path.resolve(archivePath)}`, 'not a .zip, .tgz or .tar.gz archive', { file: archivePath });
  const target = path.resolve(targetDir);
  // The pid in the name lets a cache tell a crashed extraction's leftovers from one in progress.
  const temp = `${target}.${process.pid}.${randomBytes(6).toString('hex')}.partial`;
  await mkdir(temp, { recursive: true });
  try {
    const stats = kind === 'zip' ? await extractZip(archivePath, temp) : await extractTarGz(archivePath, temp);
    try {
      await rename(temp, target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
      await rm(temp, { recursive: true, force: true });
    }
    return stats;
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    if (err instanceof StorageError) throw err;
    throw new StorageError(`file://${path.resolve(archivePath)}`, `extraction failed: ${(err as Error).message}`, { cause: err, file: archivePath });
  }
}

/**
 * The relative path an entry may be written to, or a StorageError naming it. Checked on the raw name, then
 * once more on the resolved path.
 */
function safeEntryPath(archivePath: string, root: string, name: string): string | undefined {
  const refuse = (why: string) => new StorageError(`file://${path.resolve(archivePath)}`, `archive entry "${name}" refused: ${why}`, { file: archivePath });
  if (name.includes('\0')) throw refuse('NUL byte in the name');
  if (name.includes('\\')) throw refuse('backslash in the name');
  if (name.startsWith('/') || /^[a-zA-Z]:/.test(name)) throw refuse('absolute path');
  const segments = name.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) throw refuse('parent segment (..)');
  if (!segments.length) return undefined;
  const full = path.resolve(root, ...segments);
  if (!full.startsWith(root + path.sep)) throw refuse('path outside the target folder');
  return full;
}

function entryRefused(archivePath: string, name: string, why: string): StorageError {
  return new StorageError(`file://${path.resolve(archivePath)}`, `archive entry "${name}" refused: ${why}`, { file: archivePath });
}

async function writeEntry(source: Readable, dest: string, signal?: AbortSignal): Promise<void> {
  await mkdir(path.dirname(dest), { recursive: true });
  await pipeline(source, createWriteStream(dest, { flags: 'wx', mode: EXTRACTED_FILE_MODE }), { signal });
}

function extractZip(archivePath: string, root: string): Promise<{ files: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    // strictFileNames: a backslash stays in the name (and is refused) instead of becoming a separator.
    yauzl.open(archivePath, { lazyEntries: true, decodeStrings: true, strictFileNames: true, validateEntrySizes: true }, (openErr, zip) => {
      if (openErr || !zip) return reject(openErr ?? new Error('cannot open the zip file'));
      let files = 0;
      let bytes = 0;
      let failed = false;
      const fail = (err: unknown) => {
        if (failed) return;
        failed = true;
        zip.close();
        // yauzl refuses unsafe names itself, with the name in its message.
        reject(err instanceof StorageError ? err : new StorageError(`file://${path.resolve(archivePath)}`, `zip refused: ${(err as Error).message}`, { cause: err, file: archivePath }));
      };
      zip.on('error', fail);
      zip.on('end', () => {
        if (!failed) resolve({ files, bytes });
      });
      zip.on('entry', (entry: yauzl.Entry) => {
        void (async () => {
          const dest = safeEntryPath(archivePath, root, entry.fileName);
          const unixMode = (entry.externalFileAttributes >>> 16) & S_IFMT;
          if (unixMode === S_IFLNK) throw entryRefused(archivePath, entry.fileName, 'symbolic link');
          if (entry.fileName.endsWith('/')) {
            if (dest) await mkdir(dest, { recursive: true });
          } else if (dest) {
            const stream = await new Promise<Readable>((res, rej) => zip.openReadStream(entry, (e, s) => (e || !s ? rej(e) : res(s))));
            await writeEntry(stream, dest);
            files++;
            bytes += entry.uncompressedSize;
          }
          zip.readEntry();
        })().catch(fail);
      });
      zip.readEntry();
    });
  });
}

/** Entry types written to disk; every other type (links, devices, FIFOs, unknown) is refused. */
const TAR_FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

function extractTarGz(archivePath: string, root: string): Promise<{ files: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    let files = 0;
    let bytes = 0;
    let failed = false;
    const writes: Promise<void>[] = [];
    const stop = new AbortController();
    const input = createReadStream(archivePath);
    // strict: a damaged or truncated archive is an error, not a warning.
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry: ReadEntry) => {
        try {
          const dest = safeEntryPath(archivePath, root, entry.path);
          if (entry.type === 'Directory') {
            if (dest) writes.push(mkdir(dest, { recursive: true }).then(() => undefined));
            entry.resume();
            return;
          }
          if (!TAR_FILE_TYPES.has(entry.type)) {
            const what = entry.type === 'SymbolicLink' ? 'symbolic link' : entry.type === 'Link' ? 'hard link' : `entry type ${entry.type}`;
            throw entryRefused(archivePath, entry.path, what);
          }
          if (!dest) throw entryRefused(archivePath, entry.path, 'empty name');
          files++;
          bytes += entry.size ?? 0;
          writes.push(writeEntry(entry as unknown as Readable, dest, stop.signal));
        } catch (err) {
          fail(err);
        }
      },
    });
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      input.destroy();
      parser.abort(err instanceof Error ? err : new Error(String(err)));
      // Writes still running must end before the caller removes the temporary folder.
      stop.abort(err);
      void Promise.allSettled(writes).then(() => reject(err));
    };
    parser.on('error', fail);
    parser.on('abort', fail);
    parser.on('end', () => {
      if (failed) return;
      Promise.all(writes).then(() => resolve({ files, bytes }), fail);
    });
    input.on('error', fail);
    input.pipe(parser as unknown as NodeJS.WritableStream);
  });
}
