/**
 * `cairn task clone|enqueue|status|abort` run as the user runs it (`node packages/cli/bin/cairn.js`), as a child
 * process against a real test server configured through the environment. The CLI is a client of the API, so these
 * run on SQLite; the server's own tests cover both databases.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { operations } from '@cairn/protocol';
import { startTestServer, type TestServer } from '@cairn/server/test-harness';
import { runCli as run } from '../../test/run-cli.js';

const T = operations.tasks;

describe('cairn task', () => {
  let s: TestServer;
  let home: string;
  let env: Record<string, string>;
  const ok = async (...args: string[]) => {
    const r = await run(args, env);
    assert.equal(r.code, 0, `cairn ${args.join(' ')} failed:\n${r.stderr}\n${r.stdout}`);
    return r.stdout;
  };
  const okJson = async (...args: string[]) => JSON.parse(await ok(...args, '--json')) as Record<string, unknown>;

  before(async () => {
    s = await startTestServer();
    home = mkdtempSync(path.join(os.tmpdir(), 'cairn-task-cli-'));
    env = { HOME: home, CLEARML_API_HOST: s.apiUrl, CLEARML_FILES_HOST: s.filesUrl, CLEARML_API_ACCESS_KEY: s.accessKey, CLEARML_API_SECRET_KEY: s.secretKey };
  });
  after(async () => {
    await s.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('clones, enqueues, reports and aborts a task for scripts (--json) and people (text)', async () => {
    const { id: source } = await s.ok(T.create, { name: 'nightly training', type: 'training', script: { binary: 'node', entry_point: 'train.mjs' } });
    await s.ok(operations.queues.create, { name: 'gpu' });

    const clone = await okJson('task', 'clone', source, '--name', 'nightly (retry)', '--project', 'CLI/Retries');
    assert.match(String(clone.id), /^[0-9a-f]{32}$/);
    assert.equal(clone.source, source);
    assert.equal(clone.name, 'nightly (retry)');
    assert.equal(clone.status, 'created');
    const { task } = await s.ok(T.get_by_id, { task: String(clone.id) });
    assert.equal((await s.ok(operations.projects.get_by_id, { project: String(task.project) })).project.name, 'CLI/Retries');
    assert.deepEqual(task.script, { binary: 'node', entry_point: 'train.mjs' });

    const enqueued = await okJson('task', 'enqueue', String(clone.id), '--queue', 'gpu');
    assert.equal(enqueued.status, 'queued');
    const gpu = (await s.ok(operations.queues.get_all, { name: '^gpu$' })).queues[0]!;
    assert.equal(enqueued.queue, gpu.id);
    assert.deepEqual(gpu.entries?.map((e) => e.task), [clone.id]);

    const text = await ok('task', 'status', String(clone.id));
    assert.match(text, /^id: +[0-9a-f]{32}$/m);
    assert.match(text, /^status: +queued$/m);
    assert.match(text, /^status_reason: +enqueued from the command line$/m);
    assert.match(text, new RegExp(`^queue: +${gpu.id}$`, 'm'));

    const aborted = await okJson('task', 'abort', String(clone.id));
    assert.equal(aborted.status, 'stopped');
    assert.match(String(aborted.status_message), /^Stopped by /);
    assert.deepEqual((await s.ok(operations.queues.get_by_id, { queue: gpu.id })).queue.entries, [], 'an aborted queued task leaves its queue');

    const toDefault = await okJson('task', 'enqueue', source);
    assert.equal(toDefault.queue, (await s.ok(operations.queues.get_default, {})).id);
  });

  it('fails with the reason and exit code 1: unknown task, unknown queue, a task already queued', async () => {
    const { id } = await s.ok(T.create, { name: 'waiting already', type: 'training' });
    await s.ok(T.enqueue, { task: id });
    for (const [args, message] of [
      [['task', 'status', 'nope'], /there is no task with id nope/],
      [['task', 'clone', 'nope'], /tasks\.clone failed with 400\/101/],
      [['task', 'enqueue', id, '--queue', 'no such queue'], /there is no queue named "no such queue"/],
      [['task', 'enqueue', id], /tasks\.enqueue failed with 400\/110/],
    ] as const) {
      const r = await run([...args], env);
      assert.equal(r.code, 1, args.join(' '));
      assert.equal(r.stdout, '');
      assert.match(r.stderr, message);
    }
  });
});
