/**
 * Replays every request the real Python `clearml` 1.17 client made in a recorded OutputModel workflow
 * (Task.init, OutputModel with config/labels/metadata, update_weights, register_uri, a weights package,
 * model reports, publish, archive, reading back, downloads, query_models, close) against the real server:
 * GET with JSON bodies under /v2.23/, json-lines batches, multipart uploads to `POST /files`, downloads.
 * Each answer is checked for the fields the client reads: same status, and every recorded response value
 * present with the same type (ids, names, uris and flags equal after mapping the recorded ids to ours).
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { startTestServer, testDialects, type TestServer } from './harness.js';

interface Recorded {
  seq: number;
  server: 'api' | 'files';
  method: string;
  path: string;
  body?: unknown;
  endpoint?: string;
  status: number;
  response?: unknown;
  form_fields?: { name: string; filename: string; content_type: string; size: number }[];
  size?: number;
  step: string;
}

const RECORDED_FILES_HOST = 'http://127.0.0.1:18081';
const RECORDED_WEB_HOST = 'http://127.0.0.1:18080';
/** Values that differ per run by nature: only their type is compared. */
/**
 * Fields the recording stand-in echoed that a ClearML server does not return by default (`ui_cache` is
 * excluded unless named; `public` is a create flag, not a stored field); the client does not read them.
 */
const NOT_RETURNED_KEYS = new Set(['ui_cache', 'public']);
const VOLATILE_KEYS = new Set(['created', 'last_update', 'last_change', 'status_changed', 'started', 'completed', 'timestamp', 'token', 'user', 'company', 'worker', 'last_used', 'published', 'last_changed_by']);

const records: Recorded[] = readFileSync(path.join(import.meta.dirname, 'fixtures/python-clearml-1.17-outputmodel.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line));

for (const dialect of testDialects()) {
  describe(`the Python clearml 1.17 client's recorded workflow (${dialect})`, () => {
    let s: TestServer;
    const ids = new Map<string, string>();
    const uploaded = new Map<string, Buffer>();

    before(async () => {
      s = await startTestServer({ dialect });
    });
    after(() => s.stop());

    /** Recorded ids, hosts and the recorded web host become ours. */
    function mapText(text: string): string {
      let out = text.replaceAll(RECORDED_FILES_HOST, s.filesUrl).replaceAll(RECORDED_WEB_HOST, s.url);
      for (const [recorded, ours] of ids) out = out.replaceAll(recorded, ours);
      return out;
    }
    const mapValue = (value: unknown): unknown => JSON.parse(mapText(JSON.stringify(value)));

    function send(method: string, url: string, headers: Record<string, string>, body?: Buffer): Promise<{ status: number; body: Buffer }> {
      return new Promise((resolve, reject) => {
        const req = http.request(url, { method, headers: body ? { ...headers, 'content-length': String(body.length) } : headers });
        req.on('response', (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks) }));
        });
        req.on('error', reject);
        req.end(body);
      });
    }

    /** Every recorded value must be in ours with the same JSON type; stable values must be equal. */
    function assertContains(recorded: unknown, ours: unknown, where: string): void {
      if (recorded === null) return; // the client accepts null or absent alike
      if (Array.isArray(recorded)) {
        assert.ok(Array.isArray(ours), `${where}: expected a list, got ${JSON.stringify(ours)}`);
        assert.equal((ours as unknown[]).length, recorded.length, `${where}: list length`);
        recorded.forEach((item, i) => assertContains(item, (ours as unknown[])[i], `${where}[${i}]`));
        return;
      }
      if (typeof recorded === 'object') {
        assert.ok(ours && typeof ours === 'object' && !Array.isArray(ours), `${where}: expected an object, got ${JSON.stringify(ours)}`);
        for (const [key, value] of Object.entries(recorded as Record<string, unknown>)) {
          const mine: unknown = (ours as Record<string, unknown>)[key];
          if (NOT_RETURNED_KEYS.has(key)) continue;
          if (VOLATILE_KEYS.has(key) && typeof value !== 'boolean') {
            if (value !== null && mine !== undefined && mine !== null) assert.equal(typeof mine, typeof value, `${where}.${key}: type`);
            if (key === 'created' || key === 'last_update') assert.match(String(mine), /\+00:00$/, `${where}.${key}: ISO with +00:00`);
            continue;
          }
          assertContains(value, mine, `${where}.${key}`);
        }
        return;
      }
      assert.deepEqual(ours, recorded, where);
    }

    it('answers every recorded request the way the client needs', async () => {
      const token = await s.token();
      const common = {
        'User-Agent': 'python-requests/2.28.1',
        'X-ClearML-Worker': 'vm',
        'X-Trains-Worker': 'vm',
        'X-ClearML-Client': 'clearml-1.17.0',
        'X-Trains-Client': 'clearml-1.17.0',
      };
      for (const r of records) {
        const where = `#${r.seq} ${r.step} ${r.endpoint ?? r.path}`;
        if (r.server === 'files') {
          if (r.method === 'POST') {
            const boundary = `----cairn${randomBytes(8).toString('hex')}`;
            const parts: Buffer[] = [];
            for (const field of r.form_fields ?? []) {
              const name = mapText(field.name);
              const content = randomBytes(field.size);
              uploaded.set(name.replace(/^\//, ''), content);
              parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${name}"\r\nContent-Type: ${field.content_type}\r\n\r\n`));
              parts.push(content, Buffer.from('\r\n'));
            }
            parts.push(Buffer.from(`--${boundary}--\r\n`));
            const res = await send('POST', s.filesUrl, { authorization: `Bearer ${token}`, 'content-type': `multipart/form-data; boundary=${boundary}` }, Buffer.concat(parts));
            assert.equal(res.status, r.status, where);
            assert.deepEqual(JSON.parse(res.body.toString()), mapValue(r.response), where);
          } else {
            const res = await send('GET', s.filesUrl + mapText(r.path), { authorization: `Bearer ${token}` });
            assert.equal(res.status, r.status, where);
            const key = decodeURIComponent(mapText(r.path)).replace(/^\//, '');
            assert.ok(uploaded.has(key), `${where}: downloads what was uploaded`);
            assert.ok(res.body.equals(uploaded.get(key)!), `${where}: same bytes`);
          }
          continue;
        }

        const isLogin = r.endpoint === 'auth.login';
        const isBatch = Array.isArray(r.body);
        const body = isBatch
          ? Buffer.from((mapValue(r.body) as unknown[]).map((e) => JSON.stringify(e)).join('\n'))
          : Buffer.from(JSON.stringify(mapValue(r.body ?? {})));
        const res = await send('GET', s.apiUrl + r.path, {
          ...common,
          authorization: isLogin ? `Basic ${Buffer.from(`${s.accessKey}:${s.secretKey}`).toString('base64')}` : `Bearer ${token}`,
          'content-type': isBatch ? 'application/json-lines' : 'application/json',
        }, body);
        const envelope = JSON.parse(res.body.toString()) as { meta: { result_code: number; result_msg: string }; data: Record<string, unknown> };
        assert.equal(res.status, r.status, `${where}: ${envelope.meta?.result_msg}`);
        assert.equal(envelope.meta.result_code, res.status, `${where}: result_code mirrors the status`);

        if (isLogin) {
          const claims = JSON.parse(Buffer.from(String(envelope.data.token).split('.')[1]!, 'base64url').toString());
          assert.equal(claims.api_version, '2.31', where);
          continue;
        }
        // Learn our ids from the create calls, so later bodies and answers can be mapped.
        const recordedData = (r.response as { data?: Record<string, unknown> } | undefined)?.data;
        if (r.endpoint?.endsWith('.create') && recordedData && typeof recordedData.id === 'string') {
          ids.set(recordedData.id, String(envelope.data.id));
        }
        if (recordedData && !('__trimmed__' in (r.response as object))) {
          assertContains(mapValue(recordedData), envelope.data, where);
        }
      }
    });
  });
}
