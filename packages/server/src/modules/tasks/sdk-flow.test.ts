/**
 * The task calls the real Python `clearml` 1.17 client made in the recorded OutputModel workflow
 * (Task.init, the status probes, the task edits made by update_design/update_labels, model
 * registration, task.close), sent the way it sends them: GET with a JSON body under /v2.23/.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { operations } from '@cairn/protocol';
import { startTestServer, testDialects, type TestServer } from '../../../test/harness.js';

interface Recorded {
  seq: number;
  endpoint?: string;
  path: string;
  body?: Record<string, unknown>;
  status: number;
  response?: { data?: Record<string, unknown> } | string;
  step: string;
}

const RECORDED_FILES_HOST = 'http://127.0.0.1:18081';
/** Values that differ per run: only their JSON type is compared. */
const VOLATILE = new Set(['created', 'last_update', 'last_change', 'status_changed', 'started', 'completed', 'user', 'company']);

const records: Recorded[] = readFileSync(path.join(import.meta.dirname, '../../../test/fixtures/python-clearml-1.17-outputmodel.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => JSON.parse(line) as Recorded)
  .filter((r) => r.endpoint?.startsWith('tasks.') || r.endpoint?.startsWith('projects.'));

/** Every value the client got is in our answer with the same JSON type; stable values are equal. */
function assertShape(recorded: unknown, ours: unknown, where: string): void {
  if (recorded === null) return;
  if (Array.isArray(recorded)) {
    assert.ok(Array.isArray(ours), `${where}: a list`);
    assert.equal(ours.length, recorded.length, `${where}: length`);
    recorded.forEach((v, i) => assertShape(v, ours[i], `${where}[${i}]`));
  } else if (typeof recorded === 'object') {
    assert.ok(ours !== null && typeof ours === 'object' && !Array.isArray(ours), `${where}: an object`);
    for (const [key, value] of Object.entries(recorded)) {
      const mine: unknown = (ours as Record<string, unknown>)[key];
      if (VOLATILE.has(key)) {
        if (value !== null) assert.equal(typeof mine, typeof value, `${where}.${key}`);
      } else {
        assertShape(value, mine, `${where}.${key}`);
      }
    }
  } else {
    assert.deepEqual(ours, recorded, where);
  }
}

function get(url: string, token: string, body: unknown): Promise<{ status: number; json: { meta: { result_code: number; result_msg: string }; data: Record<string, unknown> } }> {
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'GET',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'content-length': String(payload.length),
        'x-clearml-worker': 'vm',
        'x-clearml-client': 'clearml-1.17.0',
      },
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(Buffer.concat(chunks).toString()) }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

for (const dialect of testDialects()) {
  describe(`the Python client's task calls (${dialect})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer({ dialect });
    });
    after(() => s.stop());

    it('answers Task.init, the probes, the task edits and task.close as the client needs', async () => {
      const token = await s.token();
      const ids = new Map<string, string>();
      const map = (value: unknown): unknown => {
        let text = JSON.stringify(value).replaceAll(RECORDED_FILES_HOST, s.filesUrl);
        for (const [recorded, ours] of ids) text = text.replaceAll(recorded, ours);
        return JSON.parse(text);
      };
      assert.ok(records.some((r) => r.endpoint === 'tasks.create') && records.some((r) => r.endpoint === 'tasks.completed'));
      for (const r of records) {
        const where = `#${r.seq} ${r.step} ${r.endpoint}`;
        const res = await get(`${s.apiUrl}${r.path}`, token, map(r.body ?? {}));
        assert.equal(res.status, r.status, `${where}: ${res.json.meta.result_msg}`);
        assert.equal(res.json.meta.result_code, res.status, where);
        const data = typeof r.response === 'object' ? r.response.data : undefined;
        if (r.endpoint?.endsWith('.create') && typeof data?.id === 'string') ids.set(data.id, String(res.json.data.id));
        if (data) assertShape(map(data), res.json.data, where);
      }

      // The state the client left behind, as it reads it.
      const taskId = ids.get(String((records.find((r) => r.endpoint === 'tasks.create')!.response as { data: { id: string } }).data.id))!;
      const task = (await s.ok(operations.tasks.get_by_id, { task: taskId })).task;
      assert.equal(task.status, 'completed');
      assert.equal(task.status_reason, 'completed');
      assert.deepEqual(task.system_tags, ['development']);
      assert.equal(task.output?.destination, s.filesUrl);
      assert.deepEqual(task.runtime, { 'CLEARML VERSION': 'clearml-1.17.0', CLI: '/data/run/train.py', progress: '100' });
      assert.deepEqual(task.execution?.model_labels, { background: 0, cat: 1, dog: 2, bird: 3 });
      assert.equal(task.configuration?.General?.value, 'lr = 0.0005\nlayers = [128, 64, 10]\nactivation = "relu"');
      assert.deepEqual(task.models?.output?.map((m) => m.name), ['weights_v1', 'weights_v2', 'model_package']);
      assert.ok(task.started && task.completed);
    });
  });
}
