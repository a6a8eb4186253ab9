import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startTestServer, testDialects, type TestServer } from '../../../../server/test/harness.js';
import { StorageError } from '../../errors.js';
import type { TransferProgress } from '../types.js';
import { recordingFetch, sha256Of, startCuttingProxy, writeRandomFile } from '../test-support.js';
import { HttpDriver, TUS_CHUNK_BYTES } from './http.js';

const MiB = 1024 * 1024;

for (const dialect of testDialects()) {
  describe(`http(s) driver against the file server (${dialect})`, () => {
    let s: TestServer;
    let work: string;
    let auth: () => Promise<Record<string, string>>;
    let filesRoot: string;
    before(async () => {
      s = await startTestServer({ dialect });
      work = mkdtempSync(path.join(os.tmpdir(), 'cairn-http-'));
      auth = async () => ({ authorization: `Bearer ${await s.token()}` });
      filesRoot = path.join(s.dataDir, 'files');
    });
    after(async () => {
      await s.stop();
      rmSync(work, { recursive: true, force: true });
    });

    it("uploads to a ClearML-style file server with one multipart POST of exactly the Python client's shape", async () => {
      const proxy = await startCuttingProxy(Number(new URL(s.url).port));
      try {
        const filesHost = `http://127.0.0.1:${proxy.port}/files`;
        // A server without /uploads/ (ClearML's): the OPTIONS probe finds no tus, so the driver falls back.
        const rec = recordingFetch({ intercept: (req) => (req.method === 'OPTIONS' ? new Response('not found', { status: 404 }) : undefined) });
        const driver = new HttpDriver({ filesHost, authHeaders: auth, fetch: rec.fetch });
        const local = path.join(work, 'weights v1.bin');
        const sha = await writeRandomFile(local, 300_000);
        const result = await driver.upload(local, `${filesHost}/My Project/train v1.abc/models/weights v1.bin`);

        assert.equal(result.uri, `${filesHost}/My%20Project/train%20v1.abc/models/weights%20v1.bin`);
        assert.equal(result.sha256, sha);
        assert.equal(result.size, 300_000);
        const stored = path.join(filesRoot, 'My Project', 'train v1.abc', 'models', 'weights v1.bin');
        assert.equal(sha256Of(readFileSync(stored)), sha, 'the server stored the bytes at the literal path');

        const posts = proxy.requests().filter((r) => r.method === 'POST');
        assert.equal(posts.length, 1, 'one request');
        const post = posts[0];
        assert.equal(post.target, '/files', 'POST to the files host itself, no trailing slash');
        assert.match(post.headers.authorization, /^Bearer /);
        const boundary = /^multipart\/form-data; boundary=(.+)$/.exec(post.headers['content-type'])?.[1];
        assert.ok(boundary, post.headers['content-type']);
        assert.equal(Number(post.headers['content-length']), post.body.length);
        assert.equal(post.headers['transfer-encoding'], undefined, 'a Content-Length, not chunked');
        const text = post.body.toString('latin1');
        const head =
          `--${boundary}\r\nContent-Disposition: form-data; name="/My Project/train v1.abc/models/weights v1.bin"; ` +
          `filename="/My Project/train v1.abc/models/weights v1.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`;
        assert.ok(text.startsWith(head), text.slice(0, 300));
        assert.ok(text.endsWith(`\r\n--${boundary}--\r\n`));
        assert.equal(post.body.length, head.length + 300_000 + `\r\n--${boundary}--\r\n`.length, 'exactly one part');
        assert.equal(sha256Of(post.body.subarray(head.length, head.length + 300_000)), sha);

        // Downloading the recorded URI gives the bytes back.
        const copy = path.join(work, 'copy.bin');
        const got = await driver.download(result.uri, copy);
        assert.deepEqual(got, { sha256: sha, size: 300_000 });
        assert.equal(sha256Of(readFileSync(copy)), sha);
        const get = proxy.requests().find((r) => r.method === 'GET');
        assert.equal(get?.target, '/files/My%20Project/train%20v1.abc/models/weights%20v1.bin');
        assert.match(get?.headers.authorization ?? '', /^Bearer /);
      } finally {
        await proxy.close();
      }
    });

    it('uploads to its own server with the resumable protocol and resumes from the offset after a dropped connection', async () => {
      const proxy = await startCuttingProxy(Number(new URL(s.url).port));
      try {
        const filesHost = `http://127.0.0.1:${proxy.port}/files`;
        const progress: TransferProgress[] = [];
        const driver = new HttpDriver({ filesHost, authHeaders: auth, fetch });
        const size = 24 * MiB;
        assert.ok(size < TUS_CHUNK_BYTES, 'one chunk: a second PATCH can only be the resume');
        const local = path.join(work, 'big.bin');
        const sha = await writeRandomFile(local, size);
        // Cut the connection once 10 MiB have gone towards the server.
        proxy.cutUpload(10 * MiB);
        const result = await driver.upload(local, `${filesHost}/p/t.1/models/big file.bin`, { onProgress: (p) => progress.push(p) });

        assert.equal(proxy.cuts, 1, 'the connection was cut once');
        assert.equal(result.uri, `${filesHost}/p/t.1/models/big%20file.bin`);
        assert.equal(result.sha256, sha);
        assert.equal(result.size, size);
        assert.equal(sha256Of(readFileSync(path.join(filesRoot, 'p', 't.1', 'models', 'big file.bin'))), sha);

        const sent = proxy.requests();
        const probes = sent.filter((r) => r.method === 'OPTIONS');
        assert.equal(probes.length, 1);
        assert.equal(probes[0].target, '/uploads/');
        const creates = sent.filter((r) => r.method === 'POST');
        assert.equal(creates.length, 1);
        assert.equal(creates[0].target, '/uploads/');
        assert.equal(creates[0].headers['upload-length'], String(size));
        assert.match(creates[0].headers.authorization, /^Bearer /);
        const meta = Object.fromEntries(creates[0].headers['upload-metadata'].split(',').map((kv) => kv.split(' ')));
        assert.equal(Buffer.from(meta.path, 'base64').toString(), 'p/t.1/models/big file.bin');
        const patches = sent.filter((r) => r.method === 'PATCH');
        assert.equal(patches.length, 2, 'the cut PATCH and the resumed one');
        assert.equal(patches[0].headers['upload-offset'], '0');
        const resumedAt = Number(patches[1].headers['upload-offset']);
        assert.ok(resumedAt > 0 && resumedAt <= 10 * MiB, `resumed from the server's offset ${resumedAt}, not from 0`);
        assert.equal(Number(patches[1].headers['content-length']), size - resumedAt, 'only the rest is sent again');
        assert.ok(sent.some((r) => r.method === 'HEAD' && r.target === patches[0].target), 'asked the server for its offset');

        assert.ok(progress.length >= 2);
        assert.equal(progress.at(-1)?.bytes, size);
        assert.equal(progress.at(-1)?.total, size);
        assert.ok(progress.every((p) => p.rate >= 0));

        // The same URI, a second time: the file is replaced, and the tus support answer was cached.
        writeFileSync(local, 'replaced');
        const again = await driver.upload(local, `${filesHost}/p/t.1/models/big file.bin`);
        assert.equal(again.sha256, sha256Of('replaced'));
        assert.equal(readFileSync(path.join(filesRoot, 'p', 't.1', 'models', 'big file.bin'), 'utf8'), 'replaced');
        assert.equal(proxy.requests().filter((r) => r.method === 'OPTIONS').length, 1, 'tus support is asked once per host');
      } finally {
        await proxy.close();
      }
    });

    it('continues an interrupted download with a Range request and checks the digest of the whole', async () => {
      const proxy = await startCuttingProxy(Number(new URL(s.url).port));
      try {
        const filesHost = `http://127.0.0.1:${proxy.port}/files`;
        const driver = new HttpDriver({ filesHost, authHeaders: auth, fetch });
        const local = path.join(work, 'down.bin');
        const sha = await writeRandomFile(local, 6 * MiB);
        const { uri } = await driver.upload(local, `${filesHost}/dl/down.bin`);
        proxy.cutDownload(2 * MiB);
        const target = path.join(work, 'down-copy.bin');
        const progress: TransferProgress[] = [];
        const got = await driver.download(uri, target, { onProgress: (p) => progress.push(p) });
        assert.equal(proxy.cuts, 1);
        assert.deepEqual(got, { sha256: sha, size: 6 * MiB });
        assert.equal(sha256Of(readFileSync(target)), sha);
        const gets = proxy.requests().filter((r) => r.method === 'GET');
        assert.equal(gets.length, 2);
        assert.equal(gets[0].headers.range, undefined);
        const from = Number(/^bytes=(\d+)-$/.exec(gets[1].headers.range ?? '')?.[1]);
        assert.ok(from > 0 && from < 6 * MiB, `resumed at ${from}`);
        assert.equal(progress.at(-1)?.bytes, 6 * MiB);
        assert.equal(progress.at(-1)?.total, 6 * MiB);
      } finally {
        await proxy.close();
      }
    });

    it('sends credentials only to the files host', async () => {
      // Another web server, which records what it is sent.
      const seen: (string | undefined)[] = [];
      const other = http.createServer((req, res) => {
        seen.push(req.headers.authorization);
        res.writeHead(200, { 'content-length': '5' }).end('other');
      });
      other.listen(0, '127.0.0.1');
      await once(other, 'listening');
      try {
        const driver = new HttpDriver({ filesHost: s.filesUrl, authHeaders: auth, fetch });
        const otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}/files/x.bin`;
        const got = await driver.download(otherUrl, path.join(work, 'x.bin'));
        assert.deepEqual(got, { sha256: sha256Of('other'), size: 5 });
        assert.deepEqual(seen, [undefined], 'no token for another host');
        // The files host itself refuses a request without the token: it was sent above.
        const anonymous = new HttpDriver({ filesHost: s.filesUrl, fetch });
        await assert.rejects(anonymous.download(`${s.filesUrl}/x.bin`, path.join(work, 'y.bin')), (err: Error) => {
          assert.ok(err instanceof StorageError);
          assert.match(err.message, /401/);
          return true;
        });
        assert.equal(existsSync(path.join(work, 'y.bin')), false, 'a failed download leaves no file');
      } finally {
        other.close();
      }
    });

    it('heads, deletes and checks the files host', async () => {
      const driver = new HttpDriver({ filesHost: s.filesUrl, authHeaders: auth, fetch });
      const local = path.join(work, 'h.bin');
      writeFileSync(local, 'hello');
      const { uri } = await driver.upload(local, `${s.filesUrl}/h/h.bin`);
      assert.deepEqual(await driver.head(uri), { uri, size: 5 });
      assert.equal(await driver.head(`${s.filesUrl}/h/none.bin`), undefined);
      assert.equal(await driver.delete(uri), true);
      assert.equal(await driver.delete(uri), false);
      assert.equal(existsSync(path.join(filesRoot, 'h', 'h.bin')), false);
      await driver.verifyWritable(`${s.filesUrl}/anything`);
      const badToken = new HttpDriver({ filesHost: s.filesUrl, authHeaders: async () => ({ authorization: 'Bearer nope' }), fetch });
      await assert.rejects(badToken.verifyWritable(s.filesUrl), (err: Error) => err instanceof StorageError && /refused access: 401/.test(err.message));
      await assert.rejects(badToken.upload(local, `${s.filesUrl}/h/x.bin`), (err: Error) => err instanceof StorageError && /401/.test(err.message));
    });

    it('refuses a missing source, a destination without a file name and a missing object', async () => {
      const driver = new HttpDriver({ filesHost: s.filesUrl, authHeaders: auth, fetch });
      await assert.rejects(driver.upload(path.join(work, 'none.bin'), `${s.filesUrl}/a.bin`), /file not found/);
      writeFileSync(path.join(work, 'n.bin'), 'n');
      await assert.rejects(driver.upload(path.join(work, 'n.bin'), `${s.filesUrl}/`), /names no file/);
      await assert.rejects(driver.download(`${s.filesUrl}/missing/m.bin`, path.join(work, 'm.bin')), /not found \(404\)/);
      await assert.rejects(
        (async () => {
          for await (const o of driver.list(`${s.filesUrl}/`)) void o;
        })(),
        /listing is not supported/,
      );
    });

    it('uploads a 0-byte file and reads it back', async () => {
      const driver = new HttpDriver({ filesHost: s.filesUrl, authHeaders: auth, fetch });
      const local = path.join(work, 'empty.bin');
      writeFileSync(local, '');
      const result = await driver.upload(local, `${s.filesUrl}/e/empty.bin`);
      assert.deepEqual(result, { uri: `${s.filesUrl}/e/empty.bin`, sha256: sha256Of(''), size: 0 });
      assert.equal(readFileSync(path.join(filesRoot, 'e', 'empty.bin')).length, 0);
    });
  });
}

// File transfers do not touch the database, so this one runs on SQLite only: it measures the SDK's memory.
describe('http(s) driver memory', () => {
  let s: TestServer;
  let work: string;
  before(async () => {
    s = await startTestServer({ dialect: 'sqlite' });
    work = mkdtempSync(path.join(os.tmpdir(), 'cairn-http-mem-'));
  });
  after(async () => {
    await s.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('keeps memory flat while uploading (resumable and multipart) and downloading a large file', async () => {
    const size = 192 * MiB;
    const file = path.join(work, 'large.bin');
    const sha = await writeRandomFile(file, size);
    // The SDK side runs in its own process so that its RSS is not mixed with the server's.
    const script = `
      import { writeFileSync } from 'node:fs';
      import { StorageManager } from ${JSON.stringify(path.join(import.meta.dirname, '..', 'manager.ts'))};
      const { FILES, TOKEN, FILE, WORK } = process.env;
      const authHeaders = async () => ({ authorization: 'Bearer ' + TOKEN });
      const noTus = async (input, init) => (init?.method === 'OPTIONS' ? new Response('', { status: 404 }) : fetch(input, init));
      const resumable = new StorageManager({ filesHost: FILES, authHeaders, cacheDir: WORK + '/cache' });
      const multipart = new StorageManager({ filesHost: FILES, authHeaders, cacheDir: WORK + '/cache', fetch: noTus });
      // Warm up every code path on a small file before taking the baseline.
      writeFileSync(WORK + '/small.bin', 'warm');
      for (const m of [resumable, multipart]) await m.upload(WORK + '/small.bin', FILES + '/mem/small.bin');
      await resumable.getLocalCopy(FILES + '/mem/small.bin', { forceDownload: true });
      globalThis.gc?.();
      const base = process.memoryUsage().rss;
      let peak = base;
      const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 10);
      const a = await resumable.upload(FILE, FILES + '/mem/large-tus.bin');
      const b = await multipart.upload(FILE, FILES + '/mem/large-multipart.bin');
      const local = await resumable.getLocalCopy(b.uri, { expectedSha256: b.sha256, expectedSize: b.size });
      clearInterval(timer);
      console.log(JSON.stringify({ growth: peak - base, tus: a.sha256, multipart: b.sha256, local }));
    `;
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], {
      env: { ...process.env, FILES: s.filesUrl, TOKEN: await s.token(), FILE: file, WORK: work },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 0, out);
    const result = JSON.parse(out.trim().split('\n').pop() as string) as { growth: number; tus: string; multipart: string; local: string };
    assert.equal(result.tus, sha);
    assert.equal(result.multipart, sha);
    assert.equal(sha256Of(readFileSync(result.local)), sha);
    assert.equal(sha256Of(readFileSync(path.join(s.dataDir, 'files', 'mem', 'large-tus.bin'))), sha);
    assert.ok(result.growth < 100 * MiB, `SDK memory grew by ${Math.round(result.growth / MiB)} MiB moving ${size / MiB} MiB three times`);
  });
});
