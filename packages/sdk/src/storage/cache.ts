/**
 * The download cache (decision 13): content-addressed, crash-safe and bounded by size.
 *
 * Layout under `<cache root>/cairn/`:
 *   blobs/<sha256>             an object whose digest was known before the download
 *   urls/<sha256 of the URL>   an object whose digest was not known (verified by size and its own digest)
 *   local/<sha256>             (no blob) a local archive's extraction
 *   <entry>.json               sidecar: URI, SHA-256, size and mtime of the blob, bytes extracted, the boot it was written in
 *   <entry>.extracted/         the extracted archive, next to its blob
 *   locks/<kind>-<entry>.<pid>.<random>.lock   one per entry a live process is using
 *
 * A download goes to `<entry>.<pid>.<random>.partial`, is verified (digest, size) and renamed, so a process
 * sees an entry complete or not at all. It is not flushed to disk (an fsync costs about a second per GB on
 * common disks); instead the sidecar names the machine's boot, and an entry written before the last boot, whose
 * unflushed bytes a crash may have lost, is hashed again before it is trusted. A hit is verified from the
 * sidecar when the blob's size and mtime are unchanged in the same boot, re-hashed otherwise, and deleted and
 * downloaded again when it does not match.
 * Entries are evicted least-recently-used first until the total (blobs and extracted folders) fits the
 * bound; entries in use by this process (refcount) or another live one (lock file) are never evicted,
 * and neither is the one just fetched.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { IntegrityError, StorageError, UsageError } from '../errors.js';
import { extractArchive, type ArchiveKind } from './archive.js';
import { hashFile } from './transfer.js';
import type { ProgressListener } from './types.js';

/** Default bound of the cache: large enough for a few big models, small enough to never fill a disk unnoticed. */
export const DEFAULT_CACHE_MAX_BYTES = 20 * 1024 ** 3;

type EntryKind = 'blobs' | 'urls' | 'local';
const KINDS: readonly EntryKind[] = ['blobs', 'urls', 'local'];

interface EntryRef {
  kind: EntryKind;
  /** 64 hex characters. */
  name: string;
}

interface EntryMeta {
  uri: string;
  sha256: string;
  size: number;
  mtimeMs: number;
  extractedBytes?: number;
  /** The boot the blob was verified in (see BOOT). */
  boot?: string;
}

/**
 * This boot of the machine: Linux's boot id, else the boot time to the minute. Bytes written in an earlier boot
 * may not have reached the disk before a crash, so a sidecar vouches for its blob only within its own boot.
 */
const BOOT = (() => {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return `booted-${Math.round((Date.now() / 1000 - os.uptime()) / 60)}`;
  }
})();

export interface CacheFetchOptions {
  expectedSha256?: string;
  expectedSize?: number;
  forceDownload?: boolean;
  /** Extract the object as this kind of archive and hand out the folder instead of the file. */
  extract?: ArchiveKind;
  onProgress?: ProgressListener;
  /** Streams the object into `partialPath` (which does not exist yet) and returns the digest of what it wrote. */
  download(partialPath: string, onProgress?: ProgressListener): Promise<{ sha256: string; size: number }>;
}

/** A cached path handed out; the entry is not evicted (by any process) until `release()`. */
export interface CacheLease {
  path: string;
  release(): Promise<void>;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const ENTRY_FILE = /^([0-9a-f]{64})(\.json|\.extracted)?$/;
const TEMP_FILE = /^[0-9a-f]{64}(?:\.json|\.extracted)?\.(\d+)\.[0-9a-f]+\.(?:partial|tmp)$/;
const LOCK_FILE = /^(blobs|urls|local)-([0-9a-f]{64})\.(\d+)\.[0-9a-f]+\.lock$/;

export class DownloadCache {
  /** `<base>/cairn`: everything this cache writes lives below it. */
  readonly root: string;
  readonly maxBytes: number;
  /** Holders of each entry in this process. */
  private readonly holders = new Map<string, number>();
  /** The lock file this process keeps for each entry it holds. */
  private readonly lockFiles = new Map<string, string>();
  /** Work on one entry runs one at a time (two concurrent fetches of a URL download it once). */
  private readonly entryQueue = new Map<string, Promise<unknown>>();
  /** Eviction passes run one at a time. */
  private evicting: Promise<unknown> = Promise.resolve();

  constructor(options: { baseDir: string; maxBytes?: number }) {
    this.root = path.join(path.resolve(options.baseDir), 'cairn');
    this.maxBytes = options.maxBytes ?? DEFAULT_CACHE_MAX_BYTES;
    if (!(this.maxBytes >= 0)) throw new UsageError(`cache size bound must be a number of bytes, got ${options.maxBytes}`);
  }

  /** The verified local copy of `uri` (downloaded when missing, stale or corrupt), held until released. */
  async acquire(uri: string, options: CacheFetchOptions): Promise<CacheLease> {
    const expected = options.expectedSha256 === undefined ? undefined : normalizeSha(options.expectedSha256);
    const ref: EntryRef = expected ? { kind: 'blobs', name: expected } : { kind: 'urls', name: sha256(uri) };
    return this.leased(ref, async () => {
      const fresh = options.forceDownload || !(await this.verify(ref, uri, expected, options.expectedSize));
      if (fresh) await this.download(ref, uri, expected, options);
      else await this.touch(ref);
      const found = options.extract ? await this.extracted(ref, this.blobPath(ref), options.extract, uri) : this.blobPath(ref);
      return { path: found, grew: fresh || !!options.extract };
    });
  }

  /** A local archive (`file://`) extracted into the cache, keyed by its digest, held until released. */
  async acquireExtraction(uri: string, file: string, sha: string, kind: ArchiveKind): Promise<CacheLease> {
    const ref: EntryRef = { kind: 'local', name: normalizeSha(sha) };
    return this.leased(ref, async () => {
      if (!(await this.readMeta(ref))) await this.writeMeta(ref, { uri, sha256: ref.name, size: 0, mtimeMs: 0 });
      await this.touch(ref);
      return { path: await this.extracted(ref, file, kind, uri), grew: true };
    });
  }

  /** Bytes the cache holds (blobs and extracted folders), as eviction counts them. */
  async usage(): Promise<number> {
    return (await this.scan()).reduce((sum, e) => sum + e.bytes, 0);
  }

  /**
   * Holds `ref`, runs `work` serialized with other work on it, then evicts when the work added bytes (a plain
   * hit adds none, and skips the scan of the whole cache); the entry stays held for the caller.
   */
  private async leased(ref: EntryRef, work: () => Promise<{ path: string; grew: boolean }>): Promise<CacheLease> {
    await this.hold(ref);
    try {
      const result = await this.serialized(ref, work);
      if (result.grew) await this.evict(0);
      let released = false;
      return {
        path: result.path,
        release: async () => {
          if (released) return;
          released = true;
          await this.release(ref);
        },
      };
    } catch (err) {
      await this.release(ref);
      throw err;
    }
  }

  private serialized<T>(ref: EntryRef, work: () => Promise<T>): Promise<T> {
    const key = keyOf(ref);
    const previous = this.entryQueue.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.entryQueue.set(key, next);
    const cleanup = () => {
      if (this.entryQueue.get(key) === next) this.entryQueue.delete(key);
    };
    next.then(cleanup, cleanup);
    return next;
  }

  private dir(kind: EntryKind): string {
    return path.join(this.root, kind);
  }

  private blobPath(ref: EntryRef): string {
    return path.join(this.dir(ref.kind), ref.name);
  }

  private metaPath(ref: EntryRef): string {
    return `${this.blobPath(ref)}.json`;
  }

  private extractedPath(ref: EntryRef): string {
    return `${this.blobPath(ref)}.extracted`;
  }

  /** True when the entry is present and matches; a present entry that does not match is deleted. */
  private async verify(ref: EntryRef, uri: string, expected: string | undefined, expectedSize: number | undefined): Promise<boolean> {
    const blob = this.blobPath(ref);
    const st = await stat(blob).catch(() => undefined);
    if (!st?.isFile()) return false;
    const meta = await this.readMeta(ref);
    const unchanged = !!meta && meta.size === st.size && meta.mtimeMs === st.mtimeMs && meta.boot === BOOT;
    // The sidecar vouches for an unchanged file; a changed (or unexplained) one is hashed again.
    const actual = unchanged ? meta.sha256 : (await hashFile(blob)).sha256;
    const wanted = expected ?? meta?.sha256;
    const ok = wanted !== undefined && actual === wanted && (expectedSize === undefined || expectedSize === st.size);
    if (!ok) {
      await this.remove(ref);
      return false;
    }
    if (!unchanged) await this.writeMeta(ref, { uri, sha256: actual, size: st.size, mtimeMs: st.mtimeMs, extractedBytes: meta?.extractedBytes });
    return true;
  }

  private async download(ref: EntryRef, uri: string, expected: string | undefined, options: CacheFetchOptions): Promise<void> {
    // Make room first when the size is known, so the bound holds while the bytes arrive.
    if (options.expectedSize !== undefined) await this.evict(options.expectedSize, ref);
    const blob = this.blobPath(ref);
    await mkdir(path.dirname(blob), { recursive: true });
    const partial = `${blob}.${process.pid}.${randomBytes(6).toString('hex')}.partial`;
    try {
      const got = await options.download(partial, options.onProgress);
      if (expected && got.sha256 !== expected) throw new IntegrityError(uri, expected, got.sha256);
      if (options.expectedSize !== undefined && got.size !== options.expectedSize) {
        throw new StorageError(uri, `size mismatch: expected ${options.expectedSize} bytes, downloaded ${got.size}`);
      }
      // An empty answer is only a valid download when a digest or size says the object is empty.
      if (got.size === 0 && !expected && options.expectedSize === undefined) throw new StorageError(uri, 'downloaded a 0-byte file');
      await this.remove(ref);
      await rename(partial, blob);
      const st = await stat(blob);
      await this.writeMeta(ref, { uri, sha256: got.sha256, size: got.size, mtimeMs: st.mtimeMs });
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
  }

  /** The entry's extraction folder, extracted from `archive` unless it is already there. */
  private async extracted(ref: EntryRef, archive: string, kind: ArchiveKind, uri: string): Promise<string> {
    const dir = this.extractedPath(ref);
    if ((await stat(dir).catch(() => undefined))?.isDirectory()) return dir;
    const { bytes } = await extractArchive(archive, dir, { kind });
    const meta = await this.readMeta(ref);
    if (meta) await this.writeMeta(ref, { ...meta, extractedBytes: bytes });
    else throw new StorageError(uri, 'cache entry vanished during extraction');
    return dir;
  }

  private async readMeta(ref: EntryRef): Promise<EntryMeta | undefined> {
    try {
      const meta = JSON.parse(await readFile(this.metaPath(ref), 'utf8')) as EntryMeta;
      return typeof meta.sha256 === 'string' && typeof meta.size === 'number' && typeof meta.mtimeMs === 'number' ? meta : undefined;
    } catch {
      return undefined;
    }
  }

  private async writeMeta(ref: EntryRef, meta: EntryMeta): Promise<void> {
    const file = this.metaPath(ref);
    const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(temp, JSON.stringify({ ...meta, boot: BOOT }));
    await rename(temp, file);
  }

  /** Marks the entry as just used (its sidecar's mtime is the LRU clock; the blob's own mtime stays as verified). */
  private async touch(ref: EntryRef): Promise<void> {
    const now = new Date();
    await utimes(this.metaPath(ref), now, now).catch(() => undefined);
  }

  private async remove(ref: EntryRef): Promise<void> {
    await rm(this.metaPath(ref), { force: true });
    await rm(this.blobPath(ref), { force: true });
    await rm(this.extractedPath(ref), { recursive: true, force: true });
  }

  private async hold(ref: EntryRef): Promise<void> {
    const key = keyOf(ref);
    const count = this.holders.get(key) ?? 0;
    this.holders.set(key, count + 1);
    if (count) return;
    const lockDir = path.join(this.root, 'locks');
    const lock = path.join(lockDir, `${ref.kind}-${ref.name}.${process.pid}.${randomBytes(6).toString('hex')}.lock`);
    this.lockFiles.set(key, lock);
    await mkdir(lockDir, { recursive: true });
    await writeFile(lock, '');
  }

  private async release(ref: EntryRef): Promise<void> {
    const key = keyOf(ref);
    const count = (this.holders.get(key) ?? 1) - 1;
    if (count > 0) {
      this.holders.set(key, count);
      return;
    }
    this.holders.delete(key);
    const lock = this.lockFiles.get(key);
    this.lockFiles.delete(key);
    if (lock) await unlink(lock).catch(() => undefined);
  }

  /** Entries other live processes hold; lock files of dead processes are removed. */
  private async heldElsewhere(): Promise<Set<string>> {
    const held = new Set<string>();
    const lockDir = path.join(this.root, 'locks');
    for (const name of await readdir(lockDir).catch(() => [] as string[])) {
      const m = LOCK_FILE.exec(name);
      if (!m) continue;
      const pid = Number(m[3]);
      if (pid === process.pid) continue;
      if (isAlive(pid)) held.add(`${m[1]}/${m[2]}`);
      else await unlink(path.join(lockDir, name)).catch(() => undefined);
    }
    return held;
  }

  /** Every entry with its size (blob + extracted folder) and last use; leftovers of dead processes are removed. */
  private async scan(): Promise<{ ref: EntryRef; bytes: number; lastUsed: number }[]> {
    const entries = new Map<string, { ref: EntryRef; bytes: number; lastUsed: number; extractedKnown: boolean; extractedDir: boolean }>();
    for (const kind of KINDS) {
      const dir = this.dir(kind);
      for (const name of await readdir(dir).catch(() => [] as string[])) {
        const temp = TEMP_FILE.exec(name);
        if (temp) {
          if (!isAlive(Number(temp[1]))) await rm(path.join(dir, name), { recursive: true, force: true });
          continue;
        }
        const m = ENTRY_FILE.exec(name);
        if (!m) continue;
        const ref: EntryRef = { kind, name: m[1] };
        const key = keyOf(ref);
        const entry = entries.get(key) ?? { ref, bytes: 0, lastUsed: 0, extractedKnown: false, extractedDir: false };
        entries.set(key, entry);
        const st = await stat(path.join(dir, name)).catch(() => undefined);
        if (!st) continue;
        if (m[2] === '.json') {
          entry.lastUsed = Math.max(entry.lastUsed, st.mtimeMs);
          const meta = await this.readMeta(ref);
          if (meta?.extractedBytes !== undefined) {
            entry.bytes += meta.extractedBytes;
            entry.extractedKnown = true;
          }
        } else if (m[2] === '.extracted') {
          entry.extractedDir = true;
          if (!entry.lastUsed) entry.lastUsed = st.mtimeMs;
        } else {
          entry.bytes += st.size;
          if (!entry.lastUsed) entry.lastUsed = st.mtimeMs;
        }
      }
    }
    const out = [];
    for (const e of entries.values()) {
      // An extraction whose size was never recorded (a crash before the sidecar was updated) is measured.
      if (e.extractedDir && !e.extractedKnown) e.bytes += await folderBytes(this.extractedPath(e.ref));
      out.push({ ref: e.ref, bytes: e.bytes, lastUsed: e.lastUsed });
    }
    return out;
  }

  /**
   * Deletes least-recently-used entries until `incoming` more bytes fit the bound. Entries held here or by
   * another live process are skipped, and so is `keep`.
   */
  private evict(incoming: number, keep?: EntryRef): Promise<void> {
    const run = this.evicting.catch(() => undefined).then(async () => {
      const entries = await this.scan();
      let total = entries.reduce((sum, e) => sum + e.bytes, 0);
      if (total + incoming <= this.maxBytes) return;
      const elsewhere = await this.heldElsewhere();
      entries.sort((a, b) => a.lastUsed - b.lastUsed);
      for (const e of entries) {
        if (total + incoming <= this.maxBytes) break;
        const key = keyOf(e.ref);
        if (this.holders.has(key) || elsewhere.has(key) || (keep && key === keyOf(keep))) continue;
        await this.remove(e.ref);
        total -= e.bytes;
      }
    });
    this.evicting = run;
    return run;
  }
}

function keyOf(ref: EntryRef): string {
  return `${ref.kind}/${ref.name}`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function normalizeSha(sha: string): string {
  const lower = sha.toLowerCase();
  if (!SHA256_HEX.test(lower)) throw new UsageError(`expected SHA-256 must be 64 hex characters, got "${sha}"`);
  return lower;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await folderBytes(full);
    else if (entry.isFile()) total += (await stat(full).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

