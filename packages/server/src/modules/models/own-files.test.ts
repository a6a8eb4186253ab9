/**
 * Which weights URIs are this server's own files (deleted from its store with their model) and which belong
 * to someone else: two servers on one machine must never delete each other's keys from their own stores.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Readable } from 'node:stream';
import { operations } from '@cairn/protocol';
import { startTestServer, testDialects, type TestServer } from '../../../test/harness.js';
import { ownBaseUrls } from '../../server.js';
import { ownFileKey } from './delete.js';

const { models, tasks } = operations;

/** models.delete sent with a chosen `Host` header (fetch always sends the URL's own). */
async function deleteVia(s: TestServer, host: string, model: string): Promise<number> {
  const body = JSON.stringify({ model });
  const token = await s.token();
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${s.apiUrl}/v2.23/models.delete`,
      { method: 'POST', headers: { host, authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('ownBaseUrls', () => {
  it('lists the public URL and every name the bound address answers to', () => {
    assert.deepEqual(ownBaseUrls({ host: '127.0.0.1' }, 8080), ['http://127.0.0.1:8080', 'http://localhost:8080']);
    assert.deepEqual(ownBaseUrls({ host: '::' }, 81), ['http://127.0.0.1:81', 'http://[::1]:81', 'http://localhost:81']);
    assert.deepEqual(ownBaseUrls({ host: '10.1.2.3', publicUrl: 'https://models.example.com/cairn/' }, 8080), ['https://models.example.com/cairn', 'http://10.1.2.3:8080']);
    assert.deepEqual(ownBaseUrls({ host: 'fe80::1' }, 9), ['http://[fe80::1]:9']);
  });

  it('with a public URL, files are under its path; the same host without the path is not', () => {
    const ctx = { services: { baseUrls: ownBaseUrls({ host: '127.0.0.1', publicUrl: 'https://models.example.com/cairn' }, 8080) } };
    assert.equal(ownFileKey(ctx, 'https://models.example.com/cairn/files/pub/my%20w.bin'), 'pub/my w.bin');
    assert.equal(ownFileKey(ctx, 'https://models.example.com/files/pub/w.bin'), undefined);
    assert.equal(ownFileKey(ctx, 'http://models.example.com/cairn/files/pub/w.bin'), undefined, 'another scheme is another origin');
    assert.equal(ownFileKey(ctx, 'http://localhost:8080/files/pub/w.bin'), 'pub/w.bin');
    assert.equal(ownFileKey(ctx, 'http://localhost:8081/files/pub/w.bin'), undefined);
    assert.equal(ownFileKey(ctx, 'http://localhost:8080/files/../etc/passwd'), undefined, 'dot segments resolve outside the files');
    assert.equal(ownFileKey(ctx, 'http://localhost:8080/files/a%2F..%2F..%2Fx'), undefined, 'encoded parent segments are refused');
    assert.equal(ownFileKey(ctx, 's3://bucket/files/w.bin'), undefined);
  });
});

for (const dialect of testDialects()) {
  describe(`a model's weights are deleted only from their own server (${dialect})`, () => {
    let a: TestServer;
    let b: TestServer;
    before(async () => {
      [a, b] = await Promise.all([startTestServer({ dialect }), startTestServer({ dialect })]);
    });
    after(() => Promise.all([a.stop(), b.stop()]));

    const put = (s: TestServer, key: string) => s.server.services.files.write(key, Readable.from([Buffer.from(key)]));
    const has = async (s: TestServer, key: string) => (await s.server.services.files.stat(key)) !== undefined;
    const model = async (s: TestServer, uri: string, fields: Record<string, unknown> = {}) => (await s.ok(models.create, { name: 'weights owner', uri, ready: false, ...fields })).id;

    it("a URI on another server of this machine is not this server's file, whatever the key", async () => {
      await put(a, 'same/w.bin');
      await put(b, 'same/w.bin');
      await a.ok(models.delete, { model: await model(a, `${b.filesUrl}/same/w.bin`) });
      assert.deepEqual([await has(a, 'same/w.bin'), await has(b, 'same/w.bin')], [true, true]);

      const task = (await a.ok(tasks.create, { name: 'foreign weights run', type: 'training' })).id;
      await model(a, `http://localhost:${b.server.port}/files/same/w.bin`, { task });
      await a.ok(tasks.delete, { task, force: true });
      assert.equal(await has(a, 'same/w.bin'), true, 'task cleanup follows the same rule');
    });

    it('its own URL, under any loopback name of its address, is its file', async () => {
      await put(a, 'own/one.bin');
      await put(a, 'own/two.bin');
      await a.ok(models.delete, { model: await model(a, `${a.filesUrl}/own/one.bin`) });
      await a.ok(models.delete, { model: await model(a, `http://localhost:${a.server.port}/files/own/two.bin`) });
      assert.deepEqual([await has(a, 'own/one.bin'), await has(a, 'own/two.bin')], [false, false]);
    });

    it('a weights URI that climbs out of the files folder deletes nothing outside it', async () => {
      const outside = path.join(a.dataDir, 'secrets-copy.json');
      writeFileSync(outside, 'keep me');
      await put(a, 'inside/w.bin');
      for (const uri of [
        `${a.filesUrl}/../secrets-copy.json`,
        `${a.filesUrl}/%2E%2E/secrets-copy.json`,
        `${a.filesUrl}/inside%2F..%2F..%2Fsecrets-copy.json`,
        `${a.filesUrl}/inside/..%2F..%2F..%2Fsecrets-copy.json`,
      ]) {
        await a.ok(models.delete, { model: await model(a, uri) });
      }
      assert.equal(readFileSync(outside, 'utf8'), 'keep me');
      assert.equal(await has(a, 'inside/w.bin'), true);
    });

    it('the host the caller reached the server at is its own, with either scheme', async () => {
      await put(a, 'proxied/w.bin');
      await put(a, 'elsewhere/w.bin');
      const via = await model(a, 'https://cairn.internal:8443/files/proxied/w.bin');
      const other = await model(a, 'https://cairn.other:8443/files/elsewhere/w.bin');
      assert.equal(await deleteVia(a, 'cairn.internal:8443', via), 200);
      assert.equal(await deleteVia(a, 'cairn.internal:8443', other), 200);
      assert.deepEqual([await has(a, 'proxied/w.bin'), await has(a, 'elsewhere/w.bin')], [false, true]);
    });
  });
}
