import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { operations } from '@cairn/protocol';
import { startTestServer, testDialects, type TestServer } from '../../test/harness.js';

for (const dialect of testDialects()) {
  describe(`transport (${dialect})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer({ dialect });
    });
    after(() => s.stop());

    it('answers with the {meta, data} envelope and HTTP status = result_code', async () => {
      const res = await s.call('server.info', {}, { token: null });
      assert.equal(res.status, 200);
      assert.equal(res.meta.result_code, 200);
      assert.equal(res.meta.result_subcode, 0);
      assert.equal(res.meta.result_msg, 'OK');
      assert.match(res.meta.id, /^[0-9a-f]{32}$/);
      assert.equal(res.meta.trx, res.meta.id);
      assert.deepEqual(res.meta.endpoint, { name: 'server.info', requested_version: '2.23', actual_version: '1.0' });
      assert.equal(res.meta.error_stack, null);
      assert.deepEqual(res.meta.error_data, {});
      assert.equal(res.headers.get('server'), 'clearml');
      operations.server.info.response.parse(res.data);
      assert.equal((res.data as { api_version: string }).api_version, '2.31');
    });

    it('accepts no version, any version including /v999.0/, and echoes X-ClearML-Trx', async () => {
      const noVersion = await s.call('server.info', {}, { version: '', token: null });
      assert.equal(noVersion.meta.endpoint.requested_version, '2.31');
      const v999 = await s.call('server.info', {}, { version: '999.0', token: null, headers: { 'X-ClearML-Trx': 'abc' } });
      assert.equal(v999.status, 200);
      assert.equal(v999.meta.endpoint.requested_version, '999.0');
      assert.equal(v999.meta.trx, 'abc');
      const trains = await s.call('server.info', {}, { token: null, headers: { 'X-Trains-Trx': 'xyz' } });
      assert.equal(trains.meta.trx, 'xyz');
    });

    it('accepts GET, PUT and POST with a JSON body alike, and a trailing slash', async () => {
      for (const method of ['GET', 'PUT', 'POST']) {
        const res = await fetch(`${s.apiUrl}/v2.23/users.get_preferences`, {
          method,
          headers: { authorization: `Bearer ${await s.token()}`, 'content-type': 'application/json' },
          // fetch refuses a GET body, so GET goes through node:http below
          body: method === 'GET' ? undefined : '{}',
        });
        assert.equal(res.status, 200, method);
      }
      const http = await import('node:http');
      const token = await s.token();
      const body = JSON.stringify({ expiration_sec: 600 });
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request(`${s.apiUrl}/v2.23/auth.login/`, {
          method: 'GET',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
        req.end(body);
      });
      assert.equal(status, 200);
    });

    it('GET with a JSON body is read as the request (the Python SDK default)', async () => {
      const http = await import('node:http');
      const token = await s.token();
      const body = JSON.stringify({ expiration_sec: 'not a number' });
      const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = http.request(`${s.apiUrl}/v2.23/auth.login`, {
          method: 'GET',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        });
        req.on('response', (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode!, text }));
        });
        req.on('error', reject);
        req.end(body);
      });
      assert.equal(answer.status, 400);
      assert.equal(JSON.parse(answer.text).meta.result_subcode, 12);
    });

    it('merges query parameters into the body with type coercion', async () => {
      const res = await s.call<{ token: string }>('auth.login', {}, { query: { expiration_sec: '120' } });
      assert.equal(res.status, 200);
      const claims = JSON.parse(Buffer.from(res.data.token.split('.')[1]!, 'base64url').toString());
      assert.equal(claims.exp - claims.iat, 120);
      const bad = await s.call('auth.login', {}, { query: { expiration_sec: 'abc' } });
      assert.equal(bad.status, 400);
      assert.equal(bad.meta.result_subcode, 12);
    });

    it('answers unknown endpoints with 404/0 and ClearML message', async () => {
      const res = await s.call('models.no_such_thing', {});
      assert.equal(res.status, 404);
      assert.equal(res.meta.result_subcode, 0);
      assert.equal(res.meta.result_msg, 'Unable to find endpoint for name models.no_such_thing and version 2.23');
    });

    it('answers endpoints newer than the requested version with 404', async () => {
      const res = await s.call('auth.create_credentials', {}, { version: '1.5' });
      assert.equal(res.status, 404);
    });

    it('answers a malformed path with 400/0', async () => {
      const res = await s.call('not-a-valid-endpoint', {});
      assert.equal(res.status, 400);
      assert.equal(res.meta.result_subcode, 0);
      assert.match(res.meta.result_msg, /Invalid request path/);
    });

    it('refuses malformed JSON, non-object bodies and wrong types with 400/12, never 500', async () => {
      for (const rawBody of ['{not json', '[1,2]', '"text"', '{"expiration_sec": [1]}', '{"expiration_sec": 99999999999}']) {
        const res = await s.call('auth.login', undefined, { rawBody });
        assert.equal(res.status, 400, rawBody);
        assert.equal(res.meta.result_subcode, 12, rawBody);
      }
    });

    it('refuses oversized bodies with 413 in the envelope', async () => {
      const huge = Buffer.alloc(33 * 1024 * 1024, 32);
      const res = await s.call('users.get_preferences', undefined, { rawBody: huge });
      assert.equal(res.status, 413);
    });

    it('answers Content-Encoding with 415 as ClearML does', async () => {
      const res = await fetch(`${s.apiUrl}/server.info`, { method: 'POST', headers: { 'content-encoding': 'gzip' }, body: 'x' });
      assert.equal(res.status, 415);
    });

    it('answers OPTIONS with an empty 200', async () => {
      const res = await fetch(`${s.apiUrl}/v2.23/models.get_all`, { method: 'OPTIONS' });
      assert.equal(res.status, 200);
      assert.equal(await res.text(), '');
    });

    it('serves an OpenAPI document generated from the protocol at /api/docs', async () => {
      const res = await fetch(`${s.url}/api/docs`);
      assert.equal(res.status, 200);
      const doc = (await res.json()) as { openapi: string; paths: Record<string, { post: { requestBody: unknown } }> };
      assert.equal(doc.openapi, '3.1.0');
      assert.ok(doc.paths['/auth.login']);
      assert.ok(doc.paths['/models.get_all']);
    });

    it('serves /health without credentials', async () => {
      const res = await fetch(`${s.url}/health`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { status: 'ok' });
    });
  });
}
