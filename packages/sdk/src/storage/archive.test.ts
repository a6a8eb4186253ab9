import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crc32, gunzipSync, gzipSync } from 'node:zlib';
import yauzl from 'yauzl';
import { create as tarCreate } from 'tar';
import { StorageError } from '../errors.js';
import { archiveKindOf, createZipPackage, extractArchive } from './archive.js';

/** A zip built byte by byte, so that entries no zip library would write (traversal, symlinks) can be tested. */
function craftZip(entries: { name: string; data?: string; unixMode?: number }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const data = Buffer.from(e.data ?? '');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x800, 6); // UTF-8 names
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(0x0314, 4); // made by Unix
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x800, 8);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((e.unixMode ?? 0o100644) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += local.length + name.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** A ustar archive built byte by byte (gzipped), for the same reason. */
function craftTarGz(entries: { name: string; type?: string; data?: string; linkname?: string }[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    const h = Buffer.alloc(512);
    h.write(e.name, 0, 100);
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
    h.write('00000000000\0', 136);
    h.write('        ', 148);
    h.write(e.type ?? '0', 156);
    h.write(e.linkname ?? '', 157, 100);
    h.write('ustar\0', 257);
    h.write('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

function listZip(file: string): Promise<{ name: string; method: number }[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: false }, (err, zip) => {
      if (err || !zip) return reject(err);
      const out: { name: string; method: number }[] = [];
      zip.on('entry', (e: yauzl.Entry) => out.push({ name: e.fileName, method: e.compressionMethod }));
      zip.on('end', () => resolve(out));
      zip.on('error', reject);
    });
  });
}

function tree(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix + e.name;
    if (e.isDirectory()) out.push(...tree(path.join(dir, e.name), `${rel}/`));
    else out.push(rel);
  }
  return out.sort();
}

describe('archives', () => {
  let work: string;
  before(() => {
    work = mkdtempSync(path.join(os.tmpdir(), 'cairn-archive-'));
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('recognises .zip, .tgz and .tar.gz in any case', () => {
    assert.equal(archiveKindOf('m/model_package.ZIP'), 'zip');
    assert.equal(archiveKindOf('a.TGZ'), 'tar.gz');
    assert.equal(archiveKindOf('a.tar.gz'), 'tar.gz');
    assert.equal(archiveKindOf('a.gz'), undefined);
    assert.equal(archiveKindOf('a.pt'), undefined);
  });

  it('packages a folder as a stored zip with relative POSIX names and extracts it back', async () => {
    const src = path.join(work, 'weights');
    mkdirSync(path.join(src, 'sub', 'deeper'), { recursive: true });
    writeFileSync(path.join(src, 'a.bin'), 'alpha');
    writeFileSync(path.join(src, 'sub', 'b.bin'), 'bravo');
    writeFileSync(path.join(src, 'sub', 'deeper', 'c with space.bin'), 'charlie');
    const files = [path.join(src, 'a.bin'), path.join(src, 'sub'), path.join(src, 'sub', 'b.bin')];
    const zip = await createZipPackage(files, { basePath: src, tmpDir: work });
    assert.match(path.basename(zip), /^model_package\.[0-9a-f]+\.zip$/);
    assert.equal(path.dirname(zip), work);
    const entries = await listZip(zip);
    assert.deepEqual(entries.map((e) => e.name).sort(), ['a.bin', 'sub/', 'sub/b.bin', 'sub/deeper/', 'sub/deeper/c with space.bin']);
    assert.ok(entries.every((e) => e.method === 0), 'entries are stored, not deflated');

    const out = path.join(work, 'out-zip');
    const stats = await extractArchive(zip, out);
    assert.deepEqual(tree(out), ['a.bin', 'sub/b.bin', 'sub/deeper/c with space.bin']);
    assert.equal(readFileSync(path.join(out, 'sub', 'deeper', 'c with space.bin'), 'utf8'), 'charlie');
    assert.deepEqual(stats, { files: 3, bytes: 5 + 5 + 7 });
    assert.deepEqual(readdirSync(work).filter((n) => n.includes('.partial')), [], 'no temporary folder is left');
  });

  it('names entries by basename without a base path and refuses two files with one name', async () => {
    mkdirSync(path.join(work, 'x'), { recursive: true });
    mkdirSync(path.join(work, 'y'), { recursive: true });
    writeFileSync(path.join(work, 'x', 'm.bin'), 'x');
    writeFileSync(path.join(work, 'y', 'n.bin'), 'y');
    writeFileSync(path.join(work, 'y', 'm.bin'), 'y');
    const zip = await createZipPackage([path.join(work, 'x', 'm.bin'), path.join(work, 'y', 'n.bin')], { tmpDir: work });
    assert.deepEqual((await listZip(zip)).map((e) => e.name).sort(), ['m.bin', 'n.bin']);
    await assert.rejects(createZipPackage([path.join(work, 'x', 'm.bin'), path.join(work, 'y', 'm.bin')], { tmpDir: work }), (err: Error) => {
      assert.ok(err instanceof StorageError);
      assert.match(err.message, /same name in the package: m\.bin/);
      return true;
    });
    await assert.rejects(createZipPackage([path.join(work, 'nope.bin')], { tmpDir: work }), /cannot add .*nope\.bin/);
    await assert.rejects(createZipPackage([path.join(work, 'x', 'm.bin')], { basePath: path.join(work, 'y'), tmpDir: work }), /not below the package base path/);
  });

  it('extracts a .tar.gz and a .tgz made by tar', async () => {
    const src = path.join(work, 'tarsrc');
    mkdirSync(path.join(src, 'd'), { recursive: true });
    writeFileSync(path.join(src, 'one.txt'), 'one');
    writeFileSync(path.join(src, 'd', 'two.txt'), 'two');
    for (const name of ['pkg.tar.gz', 'pkg.tgz']) {
      const archive = path.join(work, name);
      await tarCreate({ gzip: true, file: archive, cwd: src }, ['one.txt', 'd']);
      const out = path.join(work, `out-${name}`);
      const stats = await extractArchive(archive, out);
      assert.deepEqual(tree(out), ['d/two.txt', 'one.txt']);
      assert.equal(readFileSync(path.join(out, 'd', 'two.txt'), 'utf8'), 'two');
      assert.equal(stats.files, 2);
    }
  });

  it('keeps an existing target folder when the extraction finishes after someone else', async () => {
    const zip = path.join(work, 'again.zip');
    writeFileSync(zip, craftZip([{ name: 'f.txt', data: 'new' }]));
    const out = path.join(work, 'already');
    mkdirSync(out);
    writeFileSync(path.join(out, 'f.txt'), 'old');
    await extractArchive(zip, out);
    assert.equal(readFileSync(path.join(out, 'f.txt'), 'utf8'), 'old');
    assert.deepEqual(readdirSync(work).filter((n) => n.startsWith('already.')), []);
  });

  // lessons.md §4.2: zip-slip (CVE-2024-24591) and the tar cases.
  const zipCases: { label: string; entries: { name: string; data?: string; unixMode?: number }[]; bad: string }[] = [
    { label: 'a ../ entry', entries: [{ name: 'ok.txt', data: 'ok' }, { name: '../evil.txt', data: 'x' }], bad: '../evil.txt' },
    { label: 'a nested ../ entry', entries: [{ name: 'a/b/../../../evil.txt', data: 'x' }], bad: 'a/b/../../../evil.txt' },
    { label: 'an absolute path', entries: [{ name: '/tmp/evil.txt', data: 'x' }], bad: '/tmp/evil.txt' },
    { label: 'a drive letter', entries: [{ name: 'C:/evil.txt', data: 'x' }], bad: 'C:/evil.txt' },
    { label: 'backslash traversal', entries: [{ name: '..\\..\\evil.txt', data: 'x' }], bad: '..\\..\\evil.txt' },
    { label: 'a backslash name', entries: [{ name: 'dir\\evil.txt', data: 'x' }], bad: 'dir\\evil.txt' },
    { label: 'a symlink entry', entries: [{ name: 'link', data: '/etc/passwd', unixMode: 0o120777 }], bad: 'link' },
    { label: 'a NUL byte in a name', entries: [{ name: 'a\0b.txt', data: 'x' }], bad: 'a\0b.txt' },
  ];
  for (const c of zipCases) {
    it(`refuses a zip with ${c.label}, naming the entry and writing nothing`, async () => {
      const box = mkdtempSync(path.join(work, 'zipslip-'));
      const zip = path.join(box, 'evil.zip');
      writeFileSync(zip, craftZip(c.entries));
      const target = path.join(box, 'deep', 'out');
      mkdirSync(path.dirname(target));
      await assert.rejects(extractArchive(zip, target), (err: Error) => {
        assert.ok(err instanceof StorageError, `StorageError, got ${err}`);
        assert.ok(err.message.includes(c.bad), `"${err.message}" names ${c.bad}`);
        return true;
      });
      assert.equal(existsSync(target), false, 'no target folder');
      assert.deepEqual(readdirSync(path.dirname(target)), [], 'no temporary folder left');
      assert.deepEqual(readdirSync(box).sort(), ['deep', 'evil.zip'], 'nothing written beside the target');
      assert.equal(existsSync('/tmp/evil.txt'), false);
    });
  }

  const tarCases: { label: string; entries: { name: string; type?: string; data?: string; linkname?: string }[]; bad: string }[] = [
    { label: 'a ../ entry', entries: [{ name: 'ok.txt', data: 'ok' }, { name: '../evil.txt', data: 'x' }], bad: '../evil.txt' },
    { label: 'an absolute path', entries: [{ name: '/tmp/evil.txt', data: 'x' }], bad: '/tmp/evil.txt' },
    { label: 'backslash traversal', entries: [{ name: '..\\evil.txt', data: 'x' }], bad: '..\\evil.txt' },
    { label: 'a symlink', entries: [{ name: 'link', type: '2', linkname: '/etc' }, { name: 'link/passwd', data: 'x' }], bad: 'link' },
    { label: 'a hardlink', entries: [{ name: 'hard', type: '1', linkname: '/etc/passwd' }], bad: 'hard' },
    { label: 'a device', entries: [{ name: 'dev', type: '3' }], bad: 'dev' },
  ];
  for (const c of tarCases) {
    it(`refuses a .tar.gz with ${c.label}, naming the entry and writing nothing`, async () => {
      const box = mkdtempSync(path.join(work, 'tarslip-'));
      const archive = path.join(box, 'evil.tar.gz');
      writeFileSync(archive, craftTarGz(c.entries));
      const target = path.join(box, 'deep', 'out');
      mkdirSync(path.dirname(target));
      await assert.rejects(extractArchive(archive, target), (err: Error) => {
        assert.ok(err instanceof StorageError, `StorageError, got ${err}`);
        assert.ok(err.message.includes(`"${c.bad}"`), `"${err.message}" names ${c.bad}`);
        return true;
      });
      assert.equal(existsSync(target), false, 'no target folder');
      assert.deepEqual(readdirSync(path.dirname(target)), [], 'no temporary folder left');
      assert.deepEqual(readdirSync(box).sort(), ['deep', 'evil.tar.gz']);
    });
  }

  it('refuses a zip that names one file twice instead of overwriting the first', async () => {
    const zip = path.join(work, 'dup.zip');
    writeFileSync(zip, craftZip([{ name: 'w.bin', data: 'first' }, { name: 'w.bin', data: 'second' }]));
    await assert.rejects(extractArchive(zip, path.join(work, 'dup-out')), StorageError);
    assert.equal(existsSync(path.join(work, 'dup-out')), false);
  });

  it('refuses a truncated .tar.gz instead of extracting part of it', async () => {
    const whole = craftTarGz([{ name: 'big.bin', data: 'z'.repeat(5000) }]);
    const archive = path.join(work, 'cut.tgz');
    // Cut inside the gzip stream: the tar entry ends early.
    writeFileSync(archive, gzipSync(Buffer.from(gunzipSync(whole).subarray(0, 2048))));
    await assert.rejects(extractArchive(archive, path.join(work, 'cut-out')), StorageError);
    assert.equal(existsSync(path.join(work, 'cut-out')), false);
  });
});

