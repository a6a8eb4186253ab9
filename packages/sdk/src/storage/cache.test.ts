import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { startTestServer, testDialects, type TestServer } from '../../../server/test/harness.js';
import { IntegrityError, StorageError } from '../errors.js';
import { createZipPackage } from './archive.js';
import { StorageManager } from './manager.js';
import { EMPTY_SHA256 } from './transfer.js';
import type { TransferProgress, UploadResult } from './types.js';
import { recordingFetch, sha256Of, writeRandomFile } from './test-support.js';

const KiB = 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Bytes of content in the cache: blobs and extracted files, not sidecars or locks. */
function cachedBytes(root: string): number {
  let total = 0;
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'locks') walk(full);
      } else if (!e.name.endsWith('.json')) total += statSync(full).size;
    }
  };
  if (existsSync(root)) walk(root);
  return total;
}

for (const dialect of testDialects()) {
  describe(`download cache (${dialect})`, () => {
    let s: TestServer;
    let work: string;
    let auth: () => Promise<Record<string, string>>;
    let uploader: StorageManager;
    /** Uploads `size` random bytes to the file server; returns the URI, digest and size. */
    const publish = async (name: string, size: number) => {
      const local = path.join(work, `src-${name}`);
      const sha = await writeRandomFile(local, size);
      const result = await uploader.upload(local, `${s.filesUrl}/cache-test/${name}`);
      assert.equal(result.sha256, sha);
      return result;
    };
    const freshManager = (options: { cacheMaxBytes?: number } = {}) => {
      const rec = recordingFetch();
      const cacheDir = mkdtempSync(path.join(work, 'cache-'));
      const manager = new StorageManager({ filesHost: s.filesUrl, authHeaders: auth, fetch: rec.fetch, cacheDir, ...options });
      return { manager, rec, cacheDir, root: path.join(cacheDir, 'cairn') };
    };
    const gets = (rec: ReturnType<typeof recordingFetch>) => rec.requests.filter((r) => r.method === 'GET').length;

    before(async () => {
      s = await startTestServer({ dialect });
      work = mkdtempSync(path.join(os.tmpdir(), 'cairn-cache-'));
      auth = async () => ({ authorization: `Bearer ${await s.token()}` });
      uploader = new StorageManager({ filesHost: s.filesUrl, authHeaders: auth, cacheDir: path.join(work, 'unused') });
    });
    after(async () => {
      await s.stop();
      rmSync(work, { recursive: true, force: true });
    });

    it('stores a download under its digest and answers the next call without the network (matrix 134-135 adjusted by decision 13)', async () => {
      const obj = await publish('hit.bin', 200 * KiB);
      const { manager, rec, root } = freshManager();
      const progress: TransferProgress[] = [];
      const local = await manager.getLocalCopy(obj.uri, { expectedSha256: obj.sha256, expectedSize: obj.size, onProgress: (p) => progress.push(p) });
      assert.equal(local, path.join(root, 'blobs', obj.sha256));
      assert.equal(sha256Of(readFileSync(local)), obj.sha256);
      assert.equal(manager.remoteUrlOf(local), obj.uri, 'the cached path maps back to its URL');
      assert.equal(manager.remoteUrlOf(path.join(root, 'elsewhere')), undefined);
      assert.equal(gets(rec), 1);
      assert.equal(progress.at(-1)?.bytes, obj.size);
      assert.equal(progress.at(-1)?.total, obj.size);

      const again = await manager.getLocalCopy(obj.uri, { expectedSha256: obj.sha256, expectedSize: obj.size });
      assert.equal(again, local);
      assert.equal(rec.requests.length, 1, 'no request at all for a hit');

      // Another manager on the same cache (another process, a later run) finds it too.
      const other = recordingFetch();
      const second = new StorageManager({ filesHost: s.filesUrl, authHeaders: auth, fetch: other.fetch, cacheDir: path.dirname(root) });
      assert.equal(await second.getLocalCopy(obj.uri, { expectedSha256: obj.sha256 }), local);
      assert.equal(other.requests.length, 0);

      await manager.getLocalCopy(obj.uri, { expectedSha256: obj.sha256, forceDownload: true });
      assert.equal(gets(rec), 2, 'forceDownload downloads again');
      assert.equal(sha256Of(readFileSync(local)), obj.sha256);
    });

    it('keys a download without a known digest by its URL and verifies it by size (decision 13)', async () => {
      const obj = await publish('by url.bin', 50 * KiB);
      const { manager, rec, root } = freshManager();
      const local = await manager.getLocalCopy(obj.uri);
      assert.equal(path.dirname(local), path.join(root, 'urls'));
      assert.match(path.basename(local), /^[0-9a-f]{64}$/);
      assert.equal(sha256Of(readFileSync(local)), obj.sha256);
      assert.equal(await manager.getLocalCopy(obj.uri), local);
      assert.equal(await manager.getLocalCopy(obj.uri, { expectedSize: obj.size }), local);
      assert.equal(gets(rec), 1);
      // A size that disagrees with the cached copy means the object changed: download again (and fail here,
      // since the server's object still has the old size).
      await assert.rejects(manager.getLocalCopy(obj.uri, { expectedSize: obj.size + 1 }), /size mismatch/);
      assert.equal(gets(rec), 2);
      assert.equal(existsSync(local), false, 'the mismatching copy is gone');
    });

    it('downloads one object once when asked for it twice at the same time', async () => {
      const obj = await publish('twice.bin', 100 * KiB);
      const { manager, rec } = freshManager();
      const [a, b] = await Promise.all([
        manager.getLocalCopy(obj.uri, { expectedSha256: obj.sha256 }),
        manager.getLocalCopy(obj.uri, { expectedSha256: obj.sha256 }),
      ]);
      assert.equal(a, b);
      assert.equal(gets(rec), 1);
    });

    it('treats 0-byte objects as valid only when the digest or size says so (matrix 136 adjusted by decisions 11 and 13)', async () => {
      const obj = await publish('empty.bin', 0);
      assert.equal(obj.sha256, EMPTY_SHA256);
      const { manager, rec, root } = freshManager();
      await assert.rejects(manager.getLocalCopy(obj.uri), (err: Error) => {
        assert.ok(err instanceof StorageError);
        assert.match(err.message, /0-byte/);
        assert.ok(err.message.includes(obj.uri));
        return true;
      });
      assert.equal(cachedBytes(root), 0);
      assert.deepEqual(readdirSync(path.join(root, 'urls')), [], 'nothing cached');

      const local = await manager.getLocalCopy(obj.uri, { expectedSha256: obj.sha256, expectedSize: 0 });
      assert.equal(statSync(local).size, 0);
      const before = gets(rec);
      assert.equal(await manager.getLocalCopy(obj.uri, { expectedSha256: obj.sha256, expectedSize: 0 }), local, 'a cached 0-byte file is a hit');
      assert.equal(gets(rec), before);
      assert.equal(await manager.getLocalCopy(obj.uri, { expectedSize: 0 }).then((p) => statSync(p).size), 0);
    });

    it('refuses bytes that do not match the digest, naming the URL and both digests, and caches nothing (decision 11)', async () => {
      const obj = await publish('mismatch.bin', 64 * KiB);
      const { manager, root } = freshManager();
      const wrong = sha256Of('something else');
      await assert.rejects(manager.getLocalCopy(obj.uri, { expectedSha256: wrong }), (err: Error) => {
        assert.ok(err instanceof IntegrityError);
        assert.ok(err.message.includes(obj.uri), err.message);
        assert.ok(err.message.includes(wrong));
        assert.ok(err.message.includes(obj.sha256));
        assert.equal(err.expectedSha256, wrong);
        assert.equal(err.actualSha256, obj.sha256);
        return true;
      });
      assert.deepEqual(readdirSync(path.join(root, 'blobs')), [], 'no blob, no partial file, no sidecar');
      await assert.rejects(manager.getLocalCopy(obj.uri, { expectedSha256: 'abc' }), /64 hex characters/);
    });

    it('re-hashes a cached file only when its size or mtime changed, and downloads a corrupted one again (decision 13)', async () => {
      const obj = await publish('corrupt.bin', 128 * KiB);
      const { manager, rec } = freshManager();
      const opts = { expectedSha256: obj.sha256, expectedSize: obj.size };
      const local = await manager.getLocalCopy(obj.uri, opts);
      const original = readFileSync(local);
      // A whole-second mtime can be restored exactly. Touched but intact: re-hashed, found good, kept.
      const stamp = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
      utimesSync(local, stamp, stamp);
      await manager.getLocalCopy(obj.uri, opts);
      assert.equal(gets(rec), 1);

      // Same size, same mtime: the sidecar vouches for it and the file is not read again. (Flipping a byte
      // and restoring the mtime is how this test sees that no re-hash happened.)
      const flipped = Buffer.from(original);
      flipped[0] ^= 0xff;
      writeFileSync(local, flipped);
      utimesSync(local, stamp, stamp);
      await manager.getLocalCopy(obj.uri, opts);
      assert.equal(gets(rec), 1, 'unchanged size and mtime: trusted');

      // The mtime moved: re-hashed, found corrupt, deleted and downloaded again.
      utimesSync(local, new Date(), new Date(Date.now() + 5000));
      assert.equal(await manager.getLocalCopy(obj.uri, opts), local);
      assert.equal(gets(rec), 2);
      assert.ok(readFileSync(local).equals(original));

      // Truncated: same.
      writeFileSync(local, original.subarray(0, 1000));
      await manager.getLocalCopy(obj.uri, opts);
      assert.equal(gets(rec), 3);
      assert.ok(readFileSync(local).equals(original));

      // A lost sidecar: the file is hashed and kept.
      rmSync(`${local}.json`);
      await manager.getLocalCopy(obj.uri, opts);
      assert.equal(gets(rec), 3);
      assert.ok(existsSync(`${local}.json`));
    });

    it('trusts a sidecar only within the boot it was written in: after a reboot the file is hashed again (decision 13)', async () => {
      const obj = await publish('reboot.bin', 64 * KiB);
      const { manager, rec } = freshManager();
      const opts = { expectedSha256: obj.sha256, expectedSize: obj.size };
      const local = await manager.getLocalCopy(obj.uri, opts);
      const original = readFileSync(local);
      // A crash lost unflushed bytes: same size and mtime, other content, and the sidecar is from an earlier boot.
      const { mtime } = statSync(local);
      const lost = Buffer.from(original);
      lost.fill(0, 0, 4 * KiB);
      writeFileSync(local, lost);
      utimesSync(local, mtime, mtime);
      const sidecar = JSON.parse(readFileSync(`${local}.json`, 'utf8'));
      assert.equal(typeof sidecar.boot, 'string', 'the sidecar names its boot');
      writeFileSync(`${local}.json`, JSON.stringify({ ...sidecar, boot: 'an earlier boot' }));
      assert.equal(await manager.getLocalCopy(obj.uri, opts), local);
      assert.equal(gets(rec), 2, 'hashed, found damaged, downloaded again');
      assert.ok(readFileSync(local).equals(original));
      // Verified in this boot now: the next hit trusts the sidecar again.
      await manager.getLocalCopy(obj.uri, opts);
      assert.equal(gets(rec), 2);
    });

    it('never holds more than its size bound, evicting the least recently used first (matrix 138 adjusted by decision 13)', async () => {
      const bound = 1000 * KiB;
      const { manager, rec, root } = freshManager({ cacheMaxBytes: bound });
      const objs: UploadResult[] = [];
      for (const n of ['a', 'b', 'c', 'd', 'e', 'f']) objs.push(await publish(`lru-${n}.bin`, 300 * KiB));
      const [a, b, c, d, e, f] = objs;
      const get = async (o: UploadResult) => {
        const p = await manager.getLocalCopy(o.uri, { expectedSha256: o.sha256 });
        assert.ok(cachedBytes(root) <= bound, `cache holds ${cachedBytes(root)} > ${bound}`);
        await sleep(15); // distinct last-use times
        return p;
      };
      const pa = await get(a);
      const pb = await get(b);
      const pc = await get(c);
      assert.equal(cachedBytes(root), 900 * KiB);
      await get(a); // a is now more recent than b and c
      assert.equal(gets(rec), 3);
      const pd = await get(d);
      assert.equal(existsSync(pb), false, 'b, the least recently used, was evicted');
      assert.ok(existsSync(pa) && existsSync(pc) && existsSync(pd));
      assert.equal(existsSync(`${pb}.json`), false, 'with its sidecar');
      await get(e);
      assert.equal(existsSync(pc), false, 'then c');
      await get(f);
      assert.equal(existsSync(pa), false, 'then a');
      assert.ok(existsSync(pd));
      assert.equal(gets(rec), 6);
      assert.ok((await manager.cache.usage()) <= bound);
      // 6 × 300 KiB went through a 1000 KiB cache.
    });

    it('does not evict a file in use by this process, nor one held by another live process', async () => {
      const bound = 700 * KiB;
      const objs: UploadResult[] = [];
      for (const n of ['a', 'b', 'c', 'd', 'e']) objs.push(await publish(`use-${n}.bin`, 300 * KiB));
      const [a, b, c, d, e] = objs;
      const { manager, cacheDir, root } = freshManager({ cacheMaxBytes: bound });
      const opts = (o: UploadResult) => ({ expectedSha256: o.sha256 });

      // In this process: a is in use while b, c, d come in.
      const pa = await manager.withLocalCopy(a.uri, opts(a), async (pathA) => {
        for (const o of [b, c, d]) {
          await manager.getLocalCopy(o.uri, opts(o));
          await sleep(15);
          assert.ok(existsSync(pathA), 'a stays while in use');
        }
        assert.equal(readFileSync(pathA).length, 300 * KiB);
        return pathA;
      });
      await sleep(15);
      await manager.getLocalCopy(e.uri, opts(e));
      assert.equal(existsSync(pa), false, 'released, a is the oldest and goes');

      // Another process holds b (it downloads it into the same cache and keeps it while waiting for us).
      const script = `
        import { StorageManager } from ${JSON.stringify(path.join(import.meta.dirname, 'manager.ts'))};
        const m = new StorageManager({ filesHost: process.env.FILES, cacheDir: process.env.CACHE, cacheMaxBytes: ${bound},
          authHeaders: async () => ({ authorization: 'Bearer ' + process.env.TOKEN }) });
        await m.withLocalCopy(process.env.URI, { expectedSha256: process.env.SHA }, async (p) => {
          console.log('held ' + p);
          for await (const line of process.stdin) void line;
        });
        console.log('released');
      `;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        env: { ...process.env, FILES: s.filesUrl, CACHE: cacheDir, TOKEN: await s.token(), URI: b.uri, SHA: b.sha256 },
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      const lines = createInterface({ input: child.stdout });
      const [first] = (await once(lines, 'line')) as [string];
      const pb = first.replace(/^held /, '');
      assert.equal(pb, path.join(root, 'blobs', b.sha256));
      assert.ok(readdirSync(path.join(root, 'locks')).some((n) => n.startsWith(`blobs-${b.sha256}.${child.pid}.`)), 'the other process keeps a lock file');
      for (const o of [c, d, e, a]) {
        await sleep(15);
        await manager.getLocalCopy(o.uri, opts(o));
        assert.ok(existsSync(pb), 'b stays while the other process holds it');
      }
      // Killed without releasing: its lock file is stale and no longer protects b.
      child.kill('SIGKILL');
      await once(child, 'exit');
      await sleep(15);
      for (const o of [c, d]) {
        await sleep(15);
        await manager.getLocalCopy(o.uri, { ...opts(o), forceDownload: true });
      }
      assert.equal(existsSync(pb), false, 'b is evicted once its holder is gone');
      assert.ok(!readdirSync(path.join(root, 'locks')).some((n) => n.includes(`.${child.pid}.`)), 'the stale lock file was removed');
    });

    it('cleans up partial files a crashed process left behind (decision 13: crash-safe)', async () => {
      const obj = await publish('leftover.bin', 10 * KiB);
      const { manager, root } = freshManager();
      mkdirSync(path.join(root, 'blobs'), { recursive: true });
      // pid 2^22 + 1 is above Linux's pid_max: no such process can be alive.
      const dead = `${obj.sha256}.${2 ** 22 + 1}.abcdef.partial`;
      writeFileSync(path.join(root, 'blobs', dead), 'half');
      const alive = `${'0'.repeat(64)}.${process.pid}.abcdef.partial`;
      writeFileSync(path.join(root, 'blobs', alive), 'in progress');
      await manager.getLocalCopy(obj.uri, { expectedSha256: obj.sha256 });
      const names = readdirSync(path.join(root, 'blobs'));
      assert.ok(!names.includes(dead), 'a dead process’s partial file is removed');
      assert.ok(names.includes(alive), 'a live process’s partial file is left alone');
    });

    it('extracts an archive next to its blob, reuses the folder, and refuses an unsafe archive (matrix 137 adjusted by decision 13)', async () => {
      const dir = path.join(work, 'pkg');
      mkdirSync(path.join(dir, 'sub'), { recursive: true });
      writeFileSync(path.join(dir, 'w.bin'), 'weights');
      writeFileSync(path.join(dir, 'sub', 'cfg.json'), '{}');
      const zip = await createZipPackage([path.join(dir, 'w.bin'), path.join(dir, 'sub')], { basePath: dir, tmpDir: work });
      const up = await uploader.upload(zip, `${s.filesUrl}/cache-test/model_package.zip`);
      const { manager, rec, root } = freshManager();
      const folder = await manager.getLocalCopy(up.uri, { expectedSha256: up.sha256, extractArchive: true });
      assert.equal(folder, path.join(root, 'blobs', `${up.sha256}.extracted`));
      assert.equal(readFileSync(path.join(folder, 'w.bin'), 'utf8'), 'weights');
      assert.equal(readFileSync(path.join(folder, 'sub', 'cfg.json'), 'utf8'), '{}');
      writeFileSync(path.join(folder, 'marker'), '');
      assert.equal(await manager.getLocalCopy(up.uri, { expectedSha256: up.sha256, extractArchive: true }), folder);
      assert.ok(existsSync(path.join(folder, 'marker')), 'the folder is reused, not extracted again');
      assert.equal(gets(rec), 1);
      // Without extractArchive the archive itself.
      assert.equal(await manager.getLocalCopy(up.uri, { expectedSha256: up.sha256 }), path.join(root, 'blobs', up.sha256));
      // Not an archive: the file.
      const plain = await publish('not-an-archive.bin', 10);
      assert.equal(await manager.getLocalCopy(plain.uri, { expectedSha256: plain.sha256, extractArchive: true }), path.join(root, 'blobs', plain.sha256));

      // A zip whose entry climbs out: refused, nothing extracted.
      const evil = path.join(work, 'evil.zip');
      writeFileSync(evil, zipWithEntry('../../escape.txt'));
      const bad = await uploader.upload(evil, `${s.filesUrl}/cache-test/evil.zip`);
      await assert.rejects(manager.getLocalCopy(bad.uri, { expectedSha256: bad.sha256, extractArchive: true }), (err: Error) => {
        assert.ok(err instanceof StorageError);
        assert.ok(err.message.includes('../../escape.txt'), err.message);
        return true;
      });
      assert.equal(existsSync(path.join(root, 'blobs', `${bad.sha256}.extracted`)), false);
      assert.equal(existsSync(path.join(root, 'escape.txt')), false);
      assert.equal(existsSync(path.join(root, '..', 'escape.txt')), false);
    });
  });
}

/** A one-entry stored zip with any name (no zip library writes `..` names). */
function zipWithEntry(name: string): Buffer {
  const n = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(n.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(n.length, 28);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + n.length, 12);
  end.writeUInt32LE(local.length + n.length, 16);
  return Buffer.concat([local, n, central, n, end]);
}
