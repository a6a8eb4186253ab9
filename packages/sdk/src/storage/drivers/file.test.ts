import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StorageError } from '../../errors.js';
import type { TransferProgress } from '../types.js';
import { sha256Of, writeRandomFile } from '../test-support.js';
import { FileDriver } from './file.js';

describe('file:// driver', () => {
  let work: string;
  const driver = new FileDriver();
  before(() => {
    work = mkdtempSync(path.join(os.tmpdir(), 'cairn-file-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('uploads by a streamed copy into new folders, with digest, size, mode 0664 and no temporary file left', async () => {
    const src = path.join(work, 'model.bin');
    const sha = await writeRandomFile(src, 3 * 1024 * 1024 + 17);
    const progress: TransferProgress[] = [];
    const dest = `file://${work}/out/a b/model.bin`;
    const result = await driver.upload(src, dest, { onProgress: (p) => progress.push(p) });
    assert.deepEqual(result, { uri: `file://${work}/out/a b/model.bin`, sha256: sha, size: 3 * 1024 * 1024 + 17 });
    const target = path.join(work, 'out', 'a b', 'model.bin');
    assert.equal(sha256Of(readFileSync(target)), sha);
    assert.equal(statSync(target).mode & 0o777, 0o664);
    assert.deepEqual(readdirSync(path.dirname(target)), ['model.bin']);
    assert.equal(progress.at(-1)?.bytes, 3 * 1024 * 1024 + 17);
    assert.equal(progress.at(-1)?.total, 3 * 1024 * 1024 + 17);
    // Replacing keeps the target whole (rename over it).
    writeFileSync(src, 'smaller');
    const again = await driver.upload(src, dest);
    assert.equal(again.sha256, sha256Of('smaller'));
    assert.equal(readFileSync(target, 'utf8'), 'smaller');
  });

  it('refuses a source that changes while it is copied', async () => {
    const src = path.join(work, 'growing.bin');
    await writeRandomFile(src, 2 * 1024 * 1024);
    let grown = false;
    const grow = () => {
      if (!grown) appendFileSync(src, 'more');
      grown = true;
    };
    await assert.rejects(driver.upload(src, `file://${work}/grown/growing.bin`, { onProgress: grow }), (err: Error) => {
      assert.ok(err instanceof StorageError);
      assert.match(err.message, /changed while it was uploaded/);
      return true;
    });
    assert.ok(grown);
  });

  it('registers a file in place: digest only, no copy', async () => {
    const src = path.join(work, 'inplace.bin');
    writeFileSync(src, 'in place');
    const result = await driver.upload(src, `file://${src}`);
    assert.deepEqual(result, { uri: `file://${src}`, sha256: sha256Of('in place'), size: 8 });
  });

  it('downloads, heads, lists and deletes', async () => {
    const src = path.join(work, 'tree', 'sub', 'x.bin');
    mkdirSync(path.dirname(src), { recursive: true });
    writeFileSync(src, 'xx');
    writeFileSync(path.join(work, 'tree', 'y.bin'), 'yyy');
    writeFileSync(path.join(work, 'tree', 'yz.txt'), 'z');
    const copy = path.join(work, 'x-copy.bin');
    assert.deepEqual(await driver.download(`file://${src}`, copy), { sha256: sha256Of('xx'), size: 2 });
    await assert.rejects(driver.download(`file://${src}`, copy), StorageError, 'the target must not exist');
    assert.equal(readFileSync(copy, 'utf8'), 'xx', 'a refused download leaves the existing file alone');
    assert.deepEqual(await driver.head(`file://${src}`), { uri: `file://${src}`, size: 2 });
    assert.equal(await driver.head(`file://${work}/tree/none`), undefined);
    assert.equal(await driver.head(`file://${work}/tree`), undefined, 'a folder is no object');

    const all = [];
    for await (const o of driver.list(`file://${work}/tree`)) all.push(o.uri);
    assert.deepEqual(all.sort(), [`file://${work}/tree/sub/x.bin`, `file://${work}/tree/y.bin`, `file://${work}/tree/yz.txt`]);
    const prefixed = [];
    for await (const o of driver.list(`file://${work}/tree/y`)) prefixed.push(o.uri);
    assert.deepEqual(prefixed.sort(), [`file://${work}/tree/y.bin`, `file://${work}/tree/yz.txt`]);

    assert.equal(await driver.delete(`file://${src}`), true);
    assert.equal(existsSync(src), false);
    assert.equal(await driver.delete(`file://${src}`), false);
    assert.equal(await driver.delete(`file://${work}/tree`), false, 'delete never removes a folder');
    assert.equal(existsSync(path.join(work, 'tree', 'y.bin')), true);
  });

  it('checks a destination folder by creating it and writing a probe', async () => {
    await driver.verifyWritable(`file://${work}/new/deeper`);
    assert.deepEqual(readdirSync(path.join(work, 'new', 'deeper')), [], 'the probe is removed');
    // A file where a folder should be cannot be written below, whoever runs the test.
    writeFileSync(path.join(work, 'plain-file'), '');
    await assert.rejects(driver.verifyWritable(`file://${work}/plain-file/sub`), (err: Error) => err instanceof StorageError && /not writable/.test(err.message));
  });

  it('refuses a missing source, a folder as source, and file:// URIs without an absolute path', async () => {
    await assert.rejects(driver.upload(path.join(work, 'nope'), `file://${work}/n`), (err: Error) => err instanceof StorageError && /file not found/.test(err.message));
    await assert.rejects(driver.upload(work, `file://${work}/n`), /not a regular file/);
    writeFileSync(path.join(work, 'r.bin'), 'r');
    await assert.rejects(driver.upload(path.join(work, 'r.bin'), 'file://relative/r.bin'), /absolute path/);
  });
});
