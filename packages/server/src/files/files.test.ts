import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startTestServer, testDialects, type TestServer } from '../../test/harness.js';
import { multipartBody, rawRequest } from './test-support.js';
import { uploadFolders } from './uploads.js';

const basic = (key: string, secret: string) => `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;

/** Uploads exactly as ClearML's Python client does: `POST /files`, no trailing slash, one part per file. */
async function upload(s: TestServer, parts: { name: string | Buffer; data: Buffer | string }[], token?: string) {
  const { body, contentType } = multipartBody(parts);
  return fetch(s.filesUrl, { method: 'POST', body, headers: { 'content-type': contentType, authorization: `Bearer ${token ?? (await s.token())}` } });
}

async function get(s: TestServer, urlPath: string, headers: Record<string, string> = {}, method = 'GET') {
  return fetch(`${s.filesUrl}/${urlPath}`, { method, headers: { authorization: `Bearer ${await s.token()}`, ...headers } });
}

for (const dialect of testDialects()) {
  describe(`file server auth (${dialect})`, () => {
    let s: TestServer;
    let now = Date.now();
    before(async () => {
      s = await startTestServer({ dialect, clock: { now: () => now } });
      const res = await upload(s, [{ name: '/auth/probe.txt', data: 'probe' }]);
      assert.equal(res.status, 200);
    });
    after(() => s.stop());

    it('answers the health check without a token, and refuses a bad one there', async () => {
      const ok = await fetch(s.filesUrl);
      assert.equal(ok.status, 200);
      assert.equal(await ok.text(), 'OK');
      assert.equal((await fetch(`${s.filesUrl}/`)).status, 200);
      const withToken = await fetch(s.filesUrl, { headers: { authorization: `Bearer ${await s.token()}` } });
      assert.equal(withToken.status, 200);
      const bad = await fetch(s.filesUrl, { headers: { authorization: 'Bearer not-a-token' } });
      assert.equal(bad.status, 401);
    });

    it('refuses every route without a token', async () => {
      const { body, contentType } = multipartBody([{ name: '/auth/none.txt', data: 'x' }]);
      const answers = [
        await fetch(`${s.filesUrl}/auth/probe.txt`),
        await fetch(`${s.filesUrl}/auth/probe.txt`, { method: 'HEAD' }),
        await fetch(`${s.filesUrl}/auth/probe.txt`, { method: 'DELETE' }),
        await fetch(s.filesUrl, { method: 'POST', body, headers: { 'content-type': contentType } }),
        await fetch(`${s.filesUrl}/delete_many`, { method: 'POST', body: JSON.stringify({ files: ['auth'] }) }),
        await fetch(`${s.url}/uploads/`, { method: 'POST', headers: { 'tus-resumable': '1.0.0', 'upload-length': '1', 'upload-metadata': `path ${Buffer.from('auth/t.bin').toString('base64')}` } }),
      ];
      for (const res of answers) assert.equal(res.status, 401, res.url);
      assert.ok(existsSync(path.join(s.server.config.filesRoot, 'auth/probe.txt')), 'nothing was deleted');
      assert.ok(!existsSync(path.join(s.server.config.filesRoot, 'auth/none.txt')), 'nothing was uploaded');
    });

    it('refuses Basic credentials, even valid ones, with ClearML message', async () => {
      for (const res of [
        await fetch(`${s.filesUrl}/auth/probe.txt`, { headers: { authorization: basic(s.accessKey, s.secretKey) } }),
        await fetch(`${s.url}/uploads/`, { method: 'POST', headers: { authorization: basic(s.accessKey, s.secretKey), 'tus-resumable': '1.0.0', 'upload-length': '1' } }),
      ]) {
        assert.equal(res.status, 401);
        assert.equal(await res.text(), 'Only bearer token authorization is supported');
      }
    });

    it('refuses a forged and a revoked token', async () => {
      const forged = await fetch(`${s.filesUrl}/auth/probe.txt`, { headers: { authorization: 'Bearer eyJhbGciOiJIUzI1NiJ9.eyJhIjoxfQ.c2lnbmF0dXJl' } });
      assert.equal(forged.status, 401);
      const fresh = await s.call<{ token: string }>('auth.login', {});
      const token = fresh.data.token;
      assert.equal((await fetch(`${s.filesUrl}/auth/probe.txt`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
      assert.equal((await s.call('auth.logout', {}, { token })).status, 200);
      const revoked = await fetch(`${s.filesUrl}/auth/probe.txt`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(revoked.status, 401);
      assert.match(await revoked.text(), /revoked/);
    });

    it('refuses an expired token', async () => {
      const { token } = (await s.call<{ token: string }>('auth.login', { expiration_sec: 60 })).data;
      const probe = () => fetch(`${s.filesUrl}/auth/probe.txt`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal((await probe()).status, 200);
      now += 61_000;
      try {
        const expired = await probe();
        assert.equal(expired.status, 401);
        assert.equal(await expired.text(), 'Invalid token');
      } finally {
        now -= 61_000;
      }
    });

    it('accepts a token of any company: files belong to the deployment', async () => {
      const other = await s.createUser({ newCompany: true });
      const res = await fetch(`${s.filesUrl}/auth/probe.txt`, { headers: { authorization: `Bearer ${other.token}` } });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), 'probe');
    });

    it('reads with the session cookie; changes with it only from this origin', async () => {
      const cookie = `clearml_token_basic=${await s.token()}`;
      const read = await fetch(`${s.filesUrl}/auth/probe.txt`, { headers: { cookie } });
      assert.equal(read.status, 200);
      assert.equal(await read.text(), 'probe');
      const { body, contentType } = multipartBody([{ name: '/auth/by-cookie.txt', data: 'c' }]);
      const crossSite = await fetch(s.filesUrl, { method: 'POST', body, headers: { cookie, 'content-type': contentType, origin: 'http://localhost:9999' } });
      assert.equal(crossSite.status, 403);
      const noOrigin = await fetch(`${s.filesUrl}/auth/probe.txt`, { method: 'DELETE', headers: { cookie } });
      assert.equal(noOrigin.status, 403);
      assert.ok(!existsSync(path.join(s.server.config.filesRoot, 'auth/by-cookie.txt')));
      const sameOrigin = await fetch(s.filesUrl, { method: 'POST', body, headers: { cookie, 'content-type': contentType, origin: s.url } });
      assert.equal(sameOrigin.status, 200);
      assert.deepEqual(await sameOrigin.json(), ['auth/by-cookie.txt']);
      // An explicit header wins over the cookie.
      const headerWins = await fetch(`${s.filesUrl}/auth/probe.txt`, { headers: { cookie, authorization: 'Bearer bad' } });
      assert.equal(headerWins.status, 401);
    });
  });
}

for (const dialect of testDialects()) {
  describe(`file server (${dialect})`, () => {
    let s: TestServer;
    let root: string;
    before(async () => {
      s = await startTestServer({ dialect });
      root = s.server.config.filesRoot;
    });
    after(() => s.stop());

    it('stores the Python client upload under its path and serves the URL-quoted path, twice', async () => {
      const name = '/OutputModel Acceptance/outputmodel-workflow-demo0001.0b08/models/weights_v1.bin';
      const data = Buffer.from(Array.from({ length: 4125 }, (_, i) => i % 251));
      const res = await upload(s, [{ name, data }]);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), ['OutputModel Acceptance/outputmodel-workflow-demo0001.0b08/models/weights_v1.bin']);
      assert.deepEqual(readFileSync(path.join(root, name)), data);
      const url = 'OutputModel%20Acceptance/outputmodel-workflow-demo0001.0b08/models/weights_v1.bin';
      for (let i = 0; i < 2; i++) {
        const got = await get(s, url);
        assert.equal(got.status, 200);
        assert.equal(got.headers.get('content-length'), '4125');
        assert.equal(got.headers.get('content-type'), 'application/octet-stream');
        assert.equal(got.headers.get('cache-control'), 'max-age=300');
        assert.deepEqual(Buffer.from(await got.arrayBuffer()), data);
      }
    });

    it('accepts POST /files/ too, several parts, non-ASCII names; overwrites and creates folders', async () => {
      const { body, contentType } = multipartBody([
        { name: '/deep/a/b/c/one.txt', data: 'one' },
        { name: 'naïve/模型 ✓.txt', data: 'two' },
      ]);
      const res = await fetch(`${s.filesUrl}/`, { method: 'POST', body, headers: { 'content-type': contentType, authorization: `Bearer ${await s.token()}` } });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), ['deep/a/b/c/one.txt', 'naïve/模型 ✓.txt']);
      assert.equal(await (await get(s, encodeURI('naïve/模型 ✓.txt'))).text(), 'two');
      assert.equal((await upload(s, [{ name: '/deep/a/b/c/one.txt', data: 'one, again' }])).status, 200);
      assert.equal(readFileSync(path.join(root, 'deep/a/b/c/one.txt'), 'utf8'), 'one, again');
    });

    it('stores all parts or none: an unsafe path in any part refuses the whole request', async () => {
      const res = await upload(s, [
        { name: '/all-or-none/first.txt', data: 'first' },
        { name: '/all-or-none/../../escape.txt', data: 'bad' },
      ]);
      assert.equal(res.status, 400);
      assert.match(await res.text(), /parent segment/);
      assert.ok(!existsSync(path.join(root, 'all-or-none')));
      assert.deepEqual(readdirSync(uploadFolders(s.dataDir).staging), []);
    });

    it('refuses a file where a folder is (409), a body that is not multipart, and encoded bodies', async () => {
      assert.equal((await upload(s, [{ name: '/conflict/dir/file.txt', data: 'x' }])).status, 200);
      const onFolder = await upload(s, [{ name: '/conflict/dir', data: 'y' }]);
      assert.equal(onFolder.status, 409);
      const underFile = await upload(s, [{ name: '/conflict/dir/file.txt/inner', data: 'z' }]);
      assert.equal(underFile.status, 409);
      const json = await fetch(s.filesUrl, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json', authorization: `Bearer ${await s.token()}` } });
      assert.equal(json.status, 400);
      const { body, contentType } = multipartBody([{ name: '/gz.txt', data: 'x' }]);
      const encoded = await fetch(s.filesUrl, { method: 'POST', body, headers: { 'content-type': contentType, 'content-encoding': 'gzip', authorization: `Bearer ${await s.token()}` } });
      assert.equal(encoded.status, 415);
      const truncated = await fetch(s.filesUrl, { method: 'POST', body: body.subarray(0, body.length - 20), headers: { 'content-type': contentType, authorization: `Bearer ${await s.token()}` } });
      assert.equal(truncated.status, 400);
      assert.ok(!existsSync(path.join(root, 'gz.txt')));
    });

    it('serves single ranges (206), refuses unsatisfiable ones (416) and ignores several', async () => {
      const data = Buffer.from('0123456789abcdefghij');
      assert.equal((await upload(s, [{ name: '/range/r.bin', data }])).status, 200);
      const cases: [string, number, string, string | undefined][] = [
        ['bytes=0-4', 206, '01234', 'bytes 0-4/20'],
        ['bytes=15-', 206, 'fghij', 'bytes 15-19/20'],
        ['bytes=-3', 206, 'hij', 'bytes 17-19/20'],
        ['bytes=18-100', 206, 'ij', 'bytes 18-19/20'],
        ['bytes=0-1,4-5', 200, data.toString(), undefined],
        ['lines=1-2', 200, data.toString(), undefined],
      ];
      for (const [range, status, body, contentRange] of cases) {
        const res = await get(s, 'range/r.bin', { range });
        assert.equal(res.status, status, range);
        assert.equal(await res.text(), body, range);
        assert.equal(res.headers.get('content-length'), String(Buffer.byteLength(body)), range);
        assert.equal(res.headers.get('content-range') ?? undefined, contentRange, range);
      }
      const past = await get(s, 'range/r.bin', { range: 'bytes=20-' });
      assert.equal(past.status, 416);
      assert.equal(past.headers.get('content-range'), 'bytes */20');
    });

    it('sends ?download as an attachment, .gz as bytes, answers HEAD without a body, 404 when missing', async () => {
      assert.equal((await upload(s, [{ name: '/dl/report final.json', data: '{"a":1}' }, { name: '/dl/logs.tar.gz', data: 'gz' }])).status, 200);
      const attachment = await get(s, 'dl/report%20final.json?download');
      assert.equal(attachment.status, 200);
      assert.equal(attachment.headers.get('content-disposition'), `attachment; filename="report final.json"; filename*=UTF-8''report%20final.json`);
      assert.equal(attachment.headers.get('content-type'), 'application/json');
      const inline = await get(s, 'dl/report%20final.json');
      assert.equal(inline.headers.get('content-disposition'), null);
      assert.equal((await get(s, 'dl/logs.tar.gz')).headers.get('content-type'), 'application/octet-stream');
      const head = await rawRequest(s.url, { method: 'HEAD', target: '/files/dl/report%20final.json', headers: { authorization: `Bearer ${await s.token()}` } });
      assert.equal(head.status, 200);
      assert.equal(head.headers['content-length'], '7');
      assert.equal(head.body.length, 0);
      const etag = inline.headers.get('etag')!;
      assert.ok(etag && inline.headers.get('last-modified'));
      const unchanged = await get(s, 'dl/report%20final.json', { 'if-none-match': etag });
      assert.equal(unchanged.status, 304);
      assert.equal((await unchanged.arrayBuffer()).byteLength, 0);
      const missing = await get(s, 'dl/nothing.bin');
      assert.equal(missing.status, 404);
      assert.equal(await missing.text(), 'File dl/nothing.bin not found');
      assert.equal((await get(s, 'dl')).status, 404, 'a folder is not a file');
    });

    it('never serves an uploaded page as a page of this origin', async () => {
      assert.equal((await upload(s, [{ name: '/xss/page.html', data: '<script>alert(1)</script>' }, { name: '/xss/pic.svg', data: '<svg/>' }])).status, 200);
      const html = await get(s, 'xss/page.html');
      assert.equal(html.headers.get('content-type'), 'application/octet-stream');
      assert.equal(html.headers.get('x-content-type-options'), 'nosniff');
      const svg = await get(s, 'xss/pic.svg');
      assert.equal(svg.headers.get('content-type'), 'image/svg+xml');
      assert.match(svg.headers.get('content-security-policy') ?? '', /sandbox/);
    });

    it('deletes one file and answers its path; a missing file or a folder is 404', async () => {
      assert.equal((await upload(s, [{ name: '/del/one file.bin', data: '1' }, { name: '/del/keep.bin', data: '2' }])).status, 200);
      const res = await get(s, 'del/one%20file.bin', {}, 'DELETE');
      assert.equal(res.status, 200);
      assert.equal(await res.json(), 'del/one file.bin');
      assert.ok(!existsSync(path.join(root, 'del/one file.bin')));
      const again = await get(s, 'del/one%20file.bin', {}, 'DELETE');
      assert.equal(again.status, 404);
      assert.equal(await again.text(), 'File del/one file.bin not found');
      assert.equal((await get(s, 'del', {}, 'DELETE')).status, 404);
      assert.ok(existsSync(path.join(root, 'del/keep.bin')));
    });

    it('deletes many files and folders, URL-encoded paths allowed, and reports each failure', async () => {
      assert.equal(
        (await upload(s, [{ name: '/many/a b.bin', data: '1' }, { name: '/many/dir/x.bin', data: '2' }, { name: '/many/dir/sub/y.bin', data: '3' }, { name: '/many/c+d.bin', data: '4' }])).status,
        200,
      );
      const files = ['many/a%20b.bin', 'many/dir', 'many/c+d.bin', 'many/missing.bin', '', '/', 'many/../../x'];
      const res = await fetch(`${s.filesUrl}/delete_many`, { method: 'POST', body: JSON.stringify({ files }), headers: { authorization: `Bearer ${await s.token()}` } });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { deleted: Record<string, string>; errors: Record<string, string[]> };
      assert.deepEqual(body.deleted, { 'many/a%20b.bin': 'many/a b.bin', 'many/dir': 'many/dir', 'many/c+d.bin': 'many/c+d.bin' });
      assert.deepEqual(body.errors['Not found'], ['many/missing.bin']);
      assert.deepEqual(body.errors['Empty path not allowed'], ['', '/']);
      assert.deepEqual(Object.values(body.errors).flat().sort(), ['', '/', 'many/../../x', 'many/missing.bin'].sort());
      assert.ok(!existsSync(path.join(root, 'many')), 'emptied folders are removed');
      for (const bad of ['', 'not json', '{}', '{"files":[]}', '{"files":"a"}']) {
        const refused = await fetch(`${s.filesUrl}/delete_many`, { method: 'POST', body: bad, headers: { authorization: `Bearer ${await s.token()}` } });
        assert.equal(refused.status, 400, bad);
      }
    });

    it('handles a root file named delete_many like any other file', async () => {
      assert.equal((await upload(s, [{ name: '/delete_many', data: 'not a command' }])).status, 200);
      assert.equal(await (await get(s, 'delete_many')).text(), 'not a command');
      assert.equal((await get(s, 'delete_many', {}, 'DELETE')).status, 200);
    });

    it('stores a 0-byte file and names that differ only in case as separate files', async () => {
      assert.equal((await upload(s, [{ name: '/edge/empty.bin', data: '' }, { name: '/edge/Case.txt', data: 'upper' }, { name: '/edge/case.txt', data: 'lower' }])).status, 200);
      const empty = await get(s, 'edge/empty.bin');
      assert.equal(empty.status, 200);
      assert.equal(empty.headers.get('content-length'), '0');
      assert.equal((await empty.arrayBuffer()).byteLength, 0);
      assert.equal((await get(s, 'edge/empty.bin', { range: 'bytes=0-' })).status, 416);
      assert.equal(await (await get(s, 'edge/Case.txt')).text(), 'upper');
      assert.equal(await (await get(s, 'edge/case.txt')).text(), 'lower');
    });

    it('clears staging left by a stopped server', async () => {
      const staging = uploadFolders(s.dataDir).staging;
      mkdirSync(staging, { recursive: true });
      writeFileSync(path.join(staging, 'left-over'), 'x');
      s = await s.restart();
      assert.ok(!existsSync(path.join(staging, 'left-over')));
      assert.equal(await (await get(s, 'edge/case.txt')).text(), 'lower', 'files survive a restart');
    });
  });
}

for (const dialect of testDialects()) {
  describe(`file server upload limit (${dialect})`, () => {
    const limit = 64 * 1024;
    let s: TestServer;
    before(async () => {
      s = await startTestServer({ dialect, config: { maxUploadBytes: limit } });
    });
    after(() => s.stop());

    it('refuses a declared Content-Length above the limit with 413, before reading the body', async () => {
      const { body, contentType } = multipartBody([{ name: '/big/declared.bin', data: Buffer.alloc(limit * 2) }]);
      const res = await rawRequest(s.url, {
        method: 'POST',
        target: '/files',
        headers: { 'content-type': contentType, authorization: `Bearer ${await s.token()}` },
        body,
      });
      assert.equal(res.status, 413);
      assert.ok(!existsSync(path.join(s.server.config.filesRoot, 'big')));
    });

    it('counts a chunked body while streaming: 413, and the partial file is removed', async () => {
      const { body, contentType } = multipartBody([{ name: '/big/chunked.bin', data: Buffer.alloc(limit * 4, 7) }]);
      const chunked = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
      const res = await rawRequest(s.url, {
        method: 'POST',
        target: '/files',
        headers: { 'content-type': contentType, 'transfer-encoding': 'chunked', authorization: `Bearer ${await s.token()}` },
        body: chunked,
      });
      assert.equal(res.status, 413);
      assert.match(res.body.toString(), /limit is 65536 bytes/);
      assert.ok(!existsSync(path.join(s.server.config.filesRoot, 'big')));
      assert.deepEqual(readdirSync(uploadFolders(s.dataDir).staging), []);
    });

    it('still takes uploads under the limit, and says the limit to resumable clients', async () => {
      assert.equal((await upload(s, [{ name: '/small.bin', data: Buffer.alloc(limit / 2) }])).status, 200);
      const health = await fetch(s.filesUrl);
      assert.equal(health.headers.get('tus-max-size'), String(limit));
      assert.equal(health.headers.get('tus-version'), '1.0.0');
    });
  });
}
