import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { appendFileSync, existsSync, readdirSync, readFileSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import * as tus from 'tus-js-client';
import { startTestServer, testDialects, type TestServer } from '../../test/harness.js';
import { uploadFolders } from './uploads.js';

const MiB = 1024 * 1024;
const meta = (fields: Record<string, string>) =>
  Object.entries(fields)
    .map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`)
    .join(',');

for (const dialect of testDialects()) {
  describe(`resumable uploads (tus) (${dialect})`, () => {
    let s: TestServer;
    let token: string;
    before(async () => {
      s = await startTestServer({ dialect });
      token = await s.token();
    });
    after(() => s.stop());

    const headers = (extra: Record<string, string> = {}) => ({ authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0', ...extra });

    async function create(destination: string, length: number): Promise<string> {
      const res = await fetch(`${s.url}/uploads/`, { method: 'POST', headers: headers({ 'upload-length': String(length), 'upload-metadata': meta({ path: destination, filename: 'x' }) }) });
      assert.equal(res.status, 201, await res.text());
      const location = res.headers.get('location')!;
      assert.match(location, /^\/uploads\/[0-9a-f]{32}$/);
      return new URL(location, s.url).href;
    }

    async function patch(url: string, offset: number, body: Buffer): Promise<Response> {
      return fetch(url, { method: 'PATCH', headers: headers({ 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' }), body });
    }

    async function offsetOf(url: string): Promise<number> {
      const res = await fetch(url, { method: 'HEAD', headers: headers() });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      return Number(res.headers.get('upload-offset'));
    }

    const file = (key: string) => fetch(`${s.filesUrl}/${key.split('/').map(encodeURIComponent).join('/')}`, { headers: { authorization: `Bearer ${token}` } });

    it('tells clients it is there: OPTIONS without credentials, no CORS for other origins', async () => {
      const res = await fetch(`${s.url}/uploads/`, { method: 'OPTIONS', headers: { origin: 'http://evil.example' } });
      assert.equal(res.status, 204);
      assert.equal(res.headers.get('tus-resumable'), '1.0.0');
      assert.equal(res.headers.get('tus-version'), '1.0.0');
      assert.match(res.headers.get('tus-extension') ?? '', /\bcreation\b.*\btermination\b/);
      assert.equal(res.headers.get('access-control-allow-origin'), null);
      assert.equal((await fetch(`${s.url}/uploads/`, { headers: headers() })).status, 404, 'uploads are not read here');
    });

    it('takes a file in chunks, reports the offset, and shows it under /files/ only when complete', async () => {
      const data = randomBytes(3 * MiB);
      const url = await create('resumable/model one.bin', data.length);
      assert.equal((await file('resumable/model one.bin')).status, 404);

      const first = await patch(url, 0, data.subarray(0, MiB));
      assert.equal(first.status, 204);
      assert.equal(first.headers.get('upload-offset'), String(MiB));
      assert.equal(await offsetOf(url), MiB);
      const head = await fetch(url, { method: 'HEAD', headers: headers() });
      assert.equal(head.headers.get('upload-length'), String(data.length));
      assert.equal((await file('resumable/model one.bin')).status, 404, 'not visible while partial');
      const root = s.server.config.filesRoot;
      assert.deepEqual(existsSync(root) ? readdirSync(root, { recursive: true }) : [], [], 'nothing partial in the files root');

      assert.equal((await patch(url, 0, data.subarray(0, 10))).status, 409, 'a wrong offset is a conflict');
      assert.equal((await patch(url, MiB, data.subarray(MiB, 2 * MiB))).status, 204);
      const last = await patch(url, 2 * MiB, data.subarray(2 * MiB));
      assert.equal(last.status, 204);
      assert.equal(last.headers.get('upload-offset'), String(data.length));

      const got = await file('resumable/model one.bin');
      assert.equal(got.status, 200);
      assert.deepEqual(Buffer.from(await got.arrayBuffer()), data);
      // A client that lost the last answer asks again and learns it is done.
      assert.equal(await offsetOf(url), data.length);
      assert.equal((await patch(url, data.length, Buffer.alloc(0))).status, 404);
    });

    it('resumes from the server offset after the connection dropped mid-PATCH', async () => {
      const data = randomBytes(2 * MiB);
      const url = await create('resumable/dropped.bin', data.length);
      const { port, pathname } = new URL(url);
      await new Promise<void>((resolve, reject) => {
        const socket = net.connect(Number(port), '127.0.0.1');
        socket.on('error', reject);
        socket.write(
          `PATCH ${pathname} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token}\r\nTus-Resumable: 1.0.0\r\n` +
            `Upload-Offset: 0\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: ${data.length}\r\n\r\n`,
        );
        socket.write(data.subarray(0, MiB), () => {
          setTimeout(() => {
            socket.destroy();
            resolve();
          }, 300);
        });
      });
      let offset = 0;
      for (let i = 0; i < 50 && offset === 0; i++) {
        offset = await offsetOf(url);
        if (!offset) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(offset > 0 && offset <= MiB, `kept what arrived (${offset} bytes)`);
      assert.equal((await patch(url, offset, data.subarray(offset))).status, 204);
      assert.deepEqual(Buffer.from(await (await file('resumable/dropped.bin')).arrayBuffer()), data);
    });

    it('resumes after a server restart on the same data folder', async () => {
      const data = randomBytes(2 * MiB);
      const url = await create('resumable/restart.bin', data.length);
      assert.equal((await patch(url, 0, data.subarray(0, MiB))).status, 204);
      s = await s.restart();
      token = await s.token();
      const moved = new URL(new URL(url).pathname, s.url).href;
      assert.equal(await offsetOf(moved), MiB);
      assert.equal((await patch(moved, MiB, data.subarray(MiB))).status, 204);
      assert.deepEqual(Buffer.from(await (await file('resumable/restart.bin')).arrayBuffer()), data);
    });

    it('finishes on start an upload whose last bytes arrived before the server stopped', async () => {
      const data = randomBytes(MiB);
      const url = await create('resumable/finished-offline.bin', data.length);
      assert.equal((await patch(url, 0, data.subarray(0, MiB / 2))).status, 204);
      const id = new URL(url).pathname.split('/').pop()!;
      // As if the last PATCH was written but the server stopped before moving the file in.
      s = await s.restart(() => appendFileSync(path.join(uploadFolders(s.dataDir).parts, id), data.subarray(MiB / 2)));
      token = await s.token();
      const got = await file('resumable/finished-offline.bin');
      assert.equal(got.status, 200);
      assert.deepEqual(Buffer.from(await got.arrayBuffer()), data);
      assert.equal(await offsetOf(new URL(`/uploads/${id}`, s.url).href), data.length);
    });

    it('works with tus-js-client, the client the SDK uses', async () => {
      const data = randomBytes(MiB + 12345);
      await new Promise<void>((resolve, reject) => {
        const upload = new tus.Upload(data, {
          endpoint: `${s.url}/uploads/`,
          chunkSize: 256 * 1024,
          metadata: { path: '/Project/task.abc/models/tus client.bin' },
          headers: { authorization: `Bearer ${token}` },
          retryDelays: [],
          onError: reject,
          onSuccess: () => resolve(),
        });
        upload.start();
      });
      assert.deepEqual(Buffer.from(await (await file('Project/task.abc/models/tus client.bin')).arrayBuffer()), data);
    });

    it('takes a 0-byte file and a whole file in the creating request', async () => {
      const empty = await fetch(`${s.url}/uploads/`, { method: 'POST', headers: headers({ 'upload-length': '0', 'upload-metadata': meta({ path: 'resumable/empty.bin' }) }) });
      assert.equal(empty.status, 201);
      const got = await file('resumable/empty.bin');
      assert.equal(got.status, 200);
      assert.equal((await got.arrayBuffer()).byteLength, 0);

      const body = Buffer.from('all at once');
      const once = await fetch(`${s.url}/uploads/`, {
        method: 'POST',
        headers: headers({ 'upload-length': String(body.length), 'upload-metadata': meta({ path: 'resumable/once.txt' }), 'content-type': 'application/offset+octet-stream' }),
        body,
      });
      assert.equal(once.status, 201);
      assert.equal(once.headers.get('upload-offset'), String(body.length));
      assert.equal(await (await file('resumable/once.txt')).text(), 'all at once');
    });

    it('refuses an upload without a destination, a body past the declared length, and drops a terminated one', async () => {
      const noPath = await fetch(`${s.url}/uploads/`, { method: 'POST', headers: headers({ 'upload-length': '3', 'upload-metadata': meta({ filename: 'a.bin' }) }) });
      assert.equal(noPath.status, 400);
      const noMeta = await fetch(`${s.url}/uploads/`, { method: 'POST', headers: headers({ 'upload-length': '3' }) });
      assert.equal(noMeta.status, 400);

      const url = await create('resumable/terminated.bin', 4);
      assert.equal((await patch(url, 0, Buffer.from('too long'))).status, 413);
      const del = await fetch(url, { method: 'DELETE', headers: headers() });
      assert.equal(del.status, 204);
      assert.equal((await fetch(url, { method: 'HEAD', headers: headers() })).status, 404);
      assert.equal((await file('resumable/terminated.bin')).status, 404);
    });

    it('answers 400 and drops the upload when its destination is a folder', async () => {
      mkdirSync(path.join(s.server.config.filesRoot, 'resumable/a-folder'), { recursive: true });
      const url = await create('resumable/a-folder', 3);
      const res = await patch(url, 0, Buffer.from('abc'));
      assert.equal(res.status, 400);
      assert.match(await res.text(), /Cannot store resumable\/a-folder/);
      assert.equal((await fetch(url, { method: 'HEAD', headers: headers() })).status, 404);
      assert.ok(!existsSync(path.join(uploadFolders(s.dataDir).parts, new URL(url).pathname.split('/').pop()!)));
    });
  });
}

for (const dialect of testDialects()) {
  describe(`resumable uploads with a size limit (${dialect})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer({ dialect, config: { maxUploadBytes: MiB } });
    });
    after(() => s.stop());

    it('refuses an Upload-Length above the limit with 413 and says the limit', async () => {
      const token = await s.token();
      const options = await fetch(`${s.url}/uploads/`, { method: 'OPTIONS' });
      assert.equal(options.headers.get('tus-max-size'), String(MiB));
      const over = await fetch(`${s.url}/uploads/`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0', 'upload-length': String(MiB + 1), 'upload-metadata': meta({ path: 'big.bin' }) },
      });
      assert.equal(over.status, 413);
      const under = await fetch(`${s.url}/uploads/`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0', 'upload-length': String(MiB), 'upload-metadata': meta({ path: 'big.bin' }) },
      });
      assert.equal(under.status, 201);
      assert.equal(readFileSync(path.join(uploadFolders(s.dataDir).parts, `${under.headers.get('location')!.split('/').pop()}.json`), 'utf8').includes('big.bin'), true);
    });
  });
}
