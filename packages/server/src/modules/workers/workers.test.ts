import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { operations } from '@cairn/protocol';
import { startTestServer, testDialects, type TestServer } from '../../../test/harness.js';
import { newProject, newTask, taskRow } from '../tasks/test-support.js';

const W = operations.workers;
const Q = operations.queues;
const T = operations.tasks;

for (const dialect of testDialects()) {
  describe(`workers (${dialect})`, () => {
    let s: TestServer;
    let now = Date.parse('2026-05-01T08:00:00Z');
    before(async () => {
      s = await startTestServer({ dialect, clock: { now: () => now } });
    });
    after(() => s.stop());

    const find = async (id: string, lastSeen?: number) => (await s.ok(W.get_all, lastSeen === undefined ? {} : { last_seen: lastSeen })).workers.find((w) => w.id === id);

    it('registers a worker with its queues; unknown queues are 400/701 and a bad timeout 400/1002', async () => {
      const def = await s.ok(Q.get_default, {});
      const waiting = await newTask(s, { name: 'next in line' });
      await s.ok(T.enqueue, { task: waiting });
      assert.deepEqual(await s.ok(W.register, { worker: 'gpu-01', queues: [def.id], tags: ['gpu'] }), {});
      const worker = await find('gpu-01');
      assert.ok(worker, 'listed');
      assert.equal(worker.user?.name, 'admin');
      assert.equal(worker.company?.name, 'cairn');
      assert.equal(worker.ip, '127.0.0.1');
      assert.equal(worker.register_timeout, 600);
      assert.equal(worker.register_time, '2026-05-01T08:00:00.000000+00:00');
      assert.deepEqual(worker.tags, ['gpu']);
      assert.deepEqual(worker.queues, [{ id: def.id, name: 'default', num_tasks: 1, next_task: { id: waiting, name: 'next in line' } }]);
      assert.equal(worker.task, null);
      await s.ok(T.dequeue, { task: waiting });

      const unknown = await s.fails(W.register, { worker: 'gpu-02', queues: ['nope'] });
      assert.deepEqual([unknown.result_code, unknown.result_subcode], [400, 701]);
      const badTimeout = await s.fails(W.register, { worker: 'gpu-02', timeout: 0 });
      assert.deepEqual([badTimeout.result_code, badTimeout.result_subcode], [400, 1002]);
      assert.equal(await find('gpu-02'), undefined);
    });

    it('status_report registers an unknown worker and marks the task it runs (last_worker), with task and project on the entry', async () => {
      const project = await newProject(s, 'Worker reports');
      const task = await newTask(s, { name: 'running job', project });
      await s.ok(T.started, { task });
      now += 5000;
      await s.ok(W.status_report, { worker: 'auto-1', timestamp: Math.floor(now / 1000), task });
      const row = await taskRow(s, task);
      assert.equal(row.last_worker, 'auto-1');
      assert.equal(row.last_worker_report, '2026-05-01T08:00:05.000000+00:00');
      const worker = await find('auto-1');
      assert.ok(worker);
      assert.deepEqual(worker.task, { id: task, name: 'running job', running_time: 5000, last_iteration: 0 });
      assert.deepEqual(worker.project, { id: project, name: 'Worker reports' });
      now += 2000;
      assert.equal((await find('auto-1'))!.task?.running_time, 7000);
      // A task another agent runs is stopped by asking it: the status stays, the message says "stopping".
      await s.ok(T.stop, { task });
      assert.equal((await taskRow(s, task)).status, 'in_progress');
      assert.equal((await taskRow(s, task)).status_message, 'stopping');
      // Reporting no task clears it from the entry.
      await s.ok(W.status_report, { worker: 'auto-1', timestamp: Math.floor(now / 1000) });
      assert.equal((await find('auto-1'))!.task, null);
      const badTask = await s.fails(W.status_report, { worker: 'auto-1', timestamp: 0, task: 'nope' });
      assert.deepEqual([badTask.result_code, badTask.result_subcode], [400, 101]);
    });

    it('drops a worker that reports nothing for its timeout; a report renews it; last_seen narrows the list', async () => {
      await s.ok(W.register, { worker: 'short-lived', timeout: 30 });
      now += 20_000;
      await s.ok(W.status_report, { worker: 'short-lived', timestamp: Math.floor(now / 1000) });
      now += 20_000;
      assert.ok(await find('short-lived'), 'renewed by the report 20 s ago');
      assert.equal(await find('short-lived', 10), undefined, 'not active in the last 10 s');
      assert.ok(await find('short-lived', 30));
      now += 11_000;
      assert.equal(await find('short-lived'), undefined, 'lapsed 30 s after the last report');
      const gone = await s.fails(W.unregister, { worker: 'short-lived' });
      assert.deepEqual([gone.result_code, gone.result_subcode], [400, 1004]);
    });

    it('unregister removes the worker (400/1004 the second time); workers of other companies are not listed', async () => {
      await s.ok(W.register, { worker: 'leaving' });
      assert.deepEqual(await s.ok(W.unregister, { worker: 'leaving' }), {});
      assert.equal(await find('leaving'), undefined);
      const again = await s.fails(W.unregister, { worker: 'leaving' });
      assert.deepEqual([again.result_code, again.result_subcode], [400, 1004]);

      const other = await s.createUser({ newCompany: true });
      await s.ok(W.register, { worker: 'elsewhere' }, { token: other.token });
      assert.equal(await find('elsewhere'), undefined);
      assert.deepEqual((await s.ok(W.get_all, {}, { token: other.token })).workers.map((w) => w.id), ['elsewhere']);
    });
  });
}
