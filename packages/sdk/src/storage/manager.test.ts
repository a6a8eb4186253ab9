import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IntegrityError, StorageError } from '../errors.js';
import { createZipPackage } from './archive.js';
import { DEFAULT_CACHE_MAX_BYTES } from './cache.js';
import { StorageManager } from './manager.js';
import { PROGRESS_INTERVAL_MS } from './transfer.js';
import type { ObjectInfo, StorageDriver, TransferProgress, UploadResult } from './types.js';
import { recordingFetch, sha256Of, writeRandomFile } from './test-support.js';
import { quotePath } from './url.js';

/** A driver kept in memory, to check that the manager routes schemes to the drivers it is given. */
class MemoryDriver implements StorageDriver {
  readonly schemes = ['mem'];
  readonly objects = new Map<string, Buffer>();
  async upload(localPath: string, uri: string): Promise<UploadResult> {
    const data = readFileSync(localPath);
    this.objects.set(uri, data);
    return { uri, sha256: sha256Of(data), size: data.length };
  }
  async download(uri: string, localPath: string) {
    const data = this.objects.get(uri);
    if (!data) throw new Error(`no object ${uri}`);
    writeFileSync(localPath, data, { flag: 'wx' });
    return { sha256: sha256Of(data), size: data.length };
  }
  async head(uri: string): Promise<ObjectInfo | undefined> {
    const data = this.objects.get(uri);
    return data && { uri, size: data.length };
  }
  async delete(uri: string) {
    return this.objects.delete(uri);
  }
  async *list(prefixUri: string): AsyncIterable<ObjectInfo> {
    for (const [uri, data] of this.objects) if (uri.startsWith(prefixUri)) yield { uri, size: data.length };
  }
  async verifyWritable(baseUri: string) {
    if (baseUri.includes('readonly')) throw new Error('read-only bucket');
  }
}

describe('StorageManager', () => {
  let work: string;
  before(() => {
    work = mkdtempSync(path.join(os.tmpdir(), 'cairn-manager-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));
  const manager = () => new StorageManager({ cacheDir: path.join(work, 'cache') });

  it('conforms local paths to file:// URLs and leaves URLs alone (§7.2, matrix 140)', () => {
    const m = manager();
    assert.equal(m.conformUrl('/data/a/model.pt'), 'file:///data/a/model.pt');
    assert.equal(m.conformUrl('model.pt'), `file://${process.cwd()}/model.pt`);
    assert.equal(m.conformUrl('~/model.pt'), `file://${process.cwd()}/~/model.pt`, '~ is not expanded');
    assert.equal(m.conformUrl('https://other.com/x'), 'https://other.com/x');
    assert.equal(m.conformUrl('s3://bucket/key with space'), 's3://bucket/key with space');
    assert.equal(m.conformUrl('file:///already/there'), 'file:///already/there');
    assert.equal(m.conformUrl(''), '');
  });

  it('quotes URL paths the way ClearML records file-server URLs', () => {
    assert.equal(quotePath('/Proj/train v1.abc/models/a b.pt'), '/Proj/train%20v1.abc/models/a%20b.pt');
    assert.equal(quotePath("/a%3Fb/(x)!*'é"), '/a%253Fb/%28x%29%21%2A%27%C3%A9');
  });

  it('routes each scheme to its driver, creates each driver once, and refuses unknown schemes', () => {
    const mem = new MemoryDriver();
    const m = new StorageManager({ cacheDir: path.join(work, 'cache'), drivers: [mem], filesHost: 'http://files.local/files' });
    assert.equal(m.driverFor('mem://x/y'), mem);
    assert.deepEqual(m.driverFor('/local/path').schemes, ['file']);
    assert.deepEqual(m.driverFor('file:///x').schemes, ['file']);
    assert.deepEqual(m.driverFor('http://files.local/files/a').schemes, ['http', 'https']);
    assert.equal(m.driverFor('https://elsewhere/a'), m.driverFor('http://files.local/files/a'), 'one http driver per manager');
    assert.throws(() => m.driverFor('ftp://host/x'), (err: Error) => err instanceof StorageError && /no storage driver for the scheme "ftp"/.test(err.message));
  });

  it('uploads through the chosen driver and reports failures as StorageError naming the destination', async () => {
    const mem = new MemoryDriver();
    const m = new StorageManager({ cacheDir: path.join(work, 'cache-mem'), drivers: [mem] });
    const src = path.join(work, 'mem.bin');
    writeFileSync(src, 'memory');
    const up = await m.upload(src, 'mem://bucket/m.bin');
    assert.deepEqual(up, { uri: 'mem://bucket/m.bin', sha256: sha256Of('memory'), size: 6 });
    const local = await m.getLocalCopy('mem://bucket/m.bin', { expectedSha256: up.sha256 });
    assert.equal(readFileSync(local, 'utf8'), 'memory');
    await assert.rejects(m.getLocalCopy('mem://bucket/none.bin'), (err: Error) => {
      assert.ok(err instanceof StorageError);
      assert.equal(err.uri, 'mem://bucket/none.bin');
      assert.match(err.message, /no object/);
      return true;
    });
    await assert.rejects(m.verifyWritable('mem://readonly/x'), (err: Error) => err instanceof StorageError && /read-only bucket.*mem:\/\/readonly\/x/.test(err.message));
    assert.equal(await m.delete('mem://bucket/m.bin'), true);
    assert.equal(await m.delete('mem://bucket/m.bin'), false);
  });

  it('uploads to a local path destination as file:// with throttled progress', async () => {
    const m = manager();
    const src = path.join(work, 'progress.bin');
    const size = 40 * 1024 * 1024;
    const sha = await writeRandomFile(src, size);
    const events: TransferProgress[] = [];
    const started = Date.now();
    const up = await m.upload(src, path.join(work, 'dest', 'progress.bin'), { onProgress: (p) => events.push(p) });
    const elapsed = Date.now() - started;
    assert.deepEqual(up, { uri: `file://${work}/dest/progress.bin`, sha256: sha, size });
    assert.ok(events.length >= 1);
    assert.ok(events.length <= Math.ceil(elapsed / PROGRESS_INTERVAL_MS) + 2, `${events.length} events in ${elapsed} ms`);
    assert.deepEqual({ bytes: events.at(-1)?.bytes, total: events.at(-1)?.total }, { bytes: size, total: size });
    for (let i = 1; i < events.length; i++) assert.ok(events[i].bytes >= events[i - 1].bytes, 'bytes never go back');
    assert.ok(events.every((e) => e.rate >= 0));
    await assert.rejects(m.upload(path.join(work, 'missing.bin'), path.join(work, 'dest', 'x.bin')), (err: Error) => {
      assert.ok(err instanceof StorageError);
      assert.ok(err.message.includes('missing.bin'));
      return true;
    });
  });

  it('returns local files in place, verified against the expected digest, re-reading only changed files (§7.4, matrix 139)', async () => {
    const m = manager();
    const file = path.join(work, 'local.bin');
    writeFileSync(file, 'local weights');
    const sha = sha256Of('local weights');
    assert.equal(await m.getLocalCopy(file), file);
    assert.equal(await m.getLocalCopy(`file://${file}`, { expectedSha256: sha, expectedSize: 13 }), file);
    assert.equal(existsSync(path.join(work, 'cache', 'cairn', 'blobs')), false, 'no cache copy of a local file');
    await assert.rejects(m.getLocalCopy(`file://${file}`, { expectedSha256: sha256Of('other') }), (err: Error) => {
      assert.ok(err instanceof IntegrityError);
      assert.ok(err.message.includes(`file://${file}`));
      assert.ok(err.message.includes(sha));
      return true;
    });
    await assert.rejects(m.getLocalCopy(file, { expectedSize: 12 }), /size mismatch/);

    // Same size and mtime as when it was verified: not read again (the flipped byte goes unseen).
    const stamp = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000);
    utimesSync(file, stamp, stamp);
    assert.equal(await m.getLocalCopy(file, { expectedSha256: sha }), file);
    writeFileSync(file, 'LOCAL weights');
    utimesSync(file, stamp, stamp);
    assert.equal(await m.getLocalCopy(file, { expectedSha256: sha }), file);
    // Touched: read again, and the change is found.
    utimesSync(file, new Date(), new Date());
    await assert.rejects(m.getLocalCopy(file, { expectedSha256: sha }), IntegrityError);

    await assert.rejects(m.getLocalCopy(path.join(work, 'gone.bin')), (err: Error) => err instanceof StorageError && /file not found/.test(err.message));
    assert.equal(await m.getLocalCopy(work), work, 'a folder is returned as it is');
  });

  it('extracts a local archive into the cache, keyed by its digest', async () => {
    const m = manager();
    const dir = path.join(work, 'to-zip');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'a.bin'), 'a');
    const zip = await createZipPackage([path.join(dir, 'a.bin')], { tmpDir: work });
    const sha = sha256Of(readFileSync(zip));
    const folder = await m.getLocalCopy(zip, { extractArchive: true });
    assert.equal(folder, path.join(work, 'cache', 'cairn', 'local', `${sha}.extracted`));
    assert.deepEqual(readdirSync(folder), ['a.bin']);
    assert.equal(await m.getLocalCopy(`file://${zip}`, { extractArchive: true, expectedSha256: sha }), folder);
    assert.equal(await m.getLocalCopy(zip), zip, 'without extractArchive the archive itself');
  });

  it('rewrites registered prefixes to local ones for reads (sdk.storage.path_substitution)', async () => {
    const mirror = path.join(work, 'mirror');
    mkdirSync(path.join(mirror, 'models'), { recursive: true });
    writeFileSync(path.join(mirror, 'models', 'm.bin'), 'mirrored');
    const rec = recordingFetch();
    const m = new StorageManager({
      cacheDir: path.join(work, 'cache'),
      fetch: rec.fetch,
      config: { sdk: { storage: { path_substitution: [{ registered_prefix: 'https://files.example.com/', local_prefix: `file://${mirror}/` }] } } },
    });
    assert.equal(await m.getLocalCopy('https://files.example.com/models/m.bin', { expectedSha256: sha256Of('mirrored') }), path.join(mirror, 'models', 'm.bin'));
    assert.equal(rec.requests.length, 0, 'read from the mirror, not the network');
  });

  it('finds its cache root and bound in the options, CLEARML_CACHE_DIR, then sdk.storage.cache', () => {
    const saved = process.env.CLEARML_CACHE_DIR;
    try {
      delete process.env.CLEARML_CACHE_DIR;
      process.env.CAIRN_TEST_CACHE_BASE = path.join(work, 'from-env-var');
      const config = { sdk: { storage: { cache: { default_base_dir: '$CAIRN_TEST_CACHE_BASE/cache', size_limit_gb: 0.5 } } } };
      const fromConfig = new StorageManager({ config });
      assert.equal(fromConfig.cache.root, path.join(work, 'from-env-var', 'cache', 'cairn'));
      assert.equal(fromConfig.cache.maxBytes, 512 * 1024 * 1024);
      const home = new StorageManager({ config: { sdk: { storage: { cache: { default_base_dir: '~/.my-cache' } } } } });
      assert.equal(home.cache.root, path.join(os.homedir(), '.my-cache', 'cairn'));
      assert.equal(home.cache.maxBytes, DEFAULT_CACHE_MAX_BYTES);
      assert.equal(new StorageManager().cache.root, path.join(os.homedir(), '.clearml', 'cache', 'cairn'));
      process.env.CLEARML_CACHE_DIR = path.join(work, 'env-cache');
      assert.equal(new StorageManager({ config }).cache.root, path.join(work, 'env-cache', 'cairn'));
      const explicit = new StorageManager({ config, cacheDir: path.join(work, 'explicit'), cacheMaxBytes: 1234 });
      assert.equal(explicit.cache.root, path.join(work, 'explicit', 'cairn'));
      assert.equal(explicit.cache.maxBytes, 1234);
      assert.equal(DEFAULT_CACHE_MAX_BYTES, 20 * 1024 ** 3);
    } finally {
      if (saved === undefined) delete process.env.CLEARML_CACHE_DIR;
      else process.env.CLEARML_CACHE_DIR = saved;
      delete process.env.CAIRN_TEST_CACHE_BASE;
    }
    assert.ok(statSync(work).isDirectory(), 'constructing a manager creates no folders');
    assert.equal(existsSync(path.join(work, 'explicit')), false);
  });
});
