import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { operations, TASK_STATUSES } from '@cairn/protocol';
import { startTestServer, testDialects, type TestServer } from '../../../test/harness.js';
import { ApiError } from '../../api/errors.js';
import type { CallContext } from '../../api/context.js';
import { applyStatusChange, changeTaskStatus, loadTask, publishTask } from './status.js';
import { callContext, newModel, newProject, newTask, taskRow } from './test-support.js';

const T = operations.tasks;

/** clearml-api.md §2.3.1, written out independently of the implementation. */
const ALLOWED: Record<string, string[]> = {
  created: ['queued', 'in_progress'],
  queued: ['created', 'in_progress', 'stopped'],
  in_progress: ['stopped', 'failed', 'created', 'completed'],
  stopped: ['closed', 'created', 'failed', 'queued', 'in_progress', 'published', 'publishing', 'completed'],
  closed: ['created', 'failed', 'published', 'publishing', 'stopped'],
  failed: ['created', 'stopped', 'published', 'queued'],
  publishing: ['published'],
  published: [],
  completed: ['published', 'in_progress', 'created'],
  unknown: [],
};

const isApiError = (code: number, subcode: number, message?: RegExp) => (err: unknown) =>
  err instanceof ApiError && err.code === code && err.subcode === subcode && (!message || message.test(err.message));

for (const dialect of testDialects()) {
  describe(`task status machine (${dialect})`, () => {
    let s: TestServer;
    let now = Date.parse('2026-03-01T10:00:00Z');
    let ctx: CallContext;
    before(async () => {
      s = await startTestServer({ dialect, clock: { now: () => now } });
      ctx = await callContext(s);
    });
    after(() => s.stop());

    it('allows exactly the transitions of the table (and staying put), refusing the others with 400/110', async () => {
      for (const from of TASK_STATUSES) {
        const id = await newTask(s, { name: `from ${from}` });
        for (const to of TASK_STATUSES) {
          await changeTaskStatus(ctx, id, from, { force: true });
          const allowed = from === to || ALLOWED[from]!.includes(to);
          if (allowed) {
            const res = await changeTaskStatus(ctx, id, to);
            assert.equal(res.updated, 1, `${from} → ${to}`);
            assert.equal((await taskRow(s, id)).status, to, `${from} → ${to}`);
          } else {
            await assert.rejects(
              changeTaskStatus(ctx, id, to),
              isApiError(400, 110, new RegExp(`^Invalid status change: current_status=${from}, new_status=${to}$`)),
              `${from} → ${to} must be refused`,
            );
            assert.equal((await taskRow(s, id)).status, from, `${from} stays after refusing ${to}`);
          }
        }
      }
    });

    it('force moves a task anywhere, even out of published', async () => {
      const id = await newTask(s);
      await changeTaskStatus(ctx, id, 'published', { force: true });
      await assert.rejects(changeTaskStatus(ctx, id, 'created'), isApiError(400, 110));
      await changeTaskStatus(ctx, id, 'created', { force: true });
      assert.equal((await taskRow(s, id)).status, 'created');
    });

    it('fails with 400/121 when the task changed between read and write, and changes nothing', async () => {
      const id = await newTask(s);
      await s.ok(T.started, { task: id });
      const seen = await loadTask(ctx, id, { writable: true });
      // Another client completes the task meanwhile.
      await s.ok(T.completed, { task: id });
      await assert.rejects(applyStatusChange(ctx, seen, 'stopped'), isApiError(400, 121));
      const row = await taskRow(s, id);
      assert.equal(row.status, 'completed');
    });

    it('concurrent status changes each either win or fail with 400/121; the winner is what stays', async () => {
      const id = await newTask(s);
      await s.ok(T.started, { task: id });
      const endpoints = ['tasks.stopped', 'tasks.failed', 'tasks.completed'] as const;
      const results = await Promise.all(Array.from({ length: 24 }, (_, i) => s.call(endpoints[i % 3]!, { task: id })));
      const winners: string[] = [];
      results.forEach((res, i) => {
        if (res.status === 200) winners.push(endpoints[i % 3]!.slice('tasks.'.length));
        else {
          // A lost race (121), or a move the winner made invalid (e.g. failed → completed: 110).
          assert.equal(res.status, 400, res.meta.result_msg);
          assert.ok([110, 121].includes(res.meta.result_subcode), res.meta.result_msg);
        }
      });
      assert.ok(winners.length >= 1);
      const status = (await taskRow(s, id)).status;
      assert.ok(['stopped', 'failed', 'completed'].includes(status));
      assert.ok(winners.includes(status), `final ${status} was set by a successful call (${winners.join(',')})`);
    });

    it('records reason, message, times and who changed it, and touches the project', async () => {
      const project = await newProject(s, 'status project');
      const id = await newTask(s, { project });
      now += 60_000;
      const res = await s.ok(T.started, { task: id, status_reason: 'agent', status_message: 'running on box' });
      const at = new Date(now).toISOString().replace('Z', '000+00:00');
      assert.equal(res.fields?.status, 'in_progress');
      const task = (await s.ok(T.get_by_id, { task: id })).task;
      assert.equal(task.status_reason, 'agent');
      assert.equal(task.status_message, 'running on box');
      assert.equal(task.status_changed, at);
      assert.equal(task.last_update, at);
      assert.equal(task.last_change, at);
      assert.equal(task.last_changed_by, ctx.user);
      const proj = (await s.ok(operations.projects.get_by_id, { project })).project;
      assert.equal(proj.last_update, at);
      // Omitted reason and message are reset to "".
      await s.ok(T.stopped, { task: id });
      const stopped = (await s.ok(T.get_by_id, { task: id })).task;
      assert.equal(stopped.status_reason, '');
      assert.equal(stopped.status_message, '');
    });

    it('going to queued drops the development system tag and keeps the others', async () => {
      const id = await newTask(s, { system_tags: ['development', 'keep-me'] });
      await changeTaskStatus(ctx, id, 'queued');
      const task = (await s.ok(T.get_by_id, { task: id })).task;
      assert.equal(task.status, 'queued');
      assert.deepEqual(task.system_tags, ['keep-me']);
    });

    it('loadTask refuses other companies (400/101) and public tasks on write (403/21)', async () => {
      const other = await s.createUser({ newCompany: true });
      const theirs = await newTask(s, {}, other.token);
      await assert.rejects(loadTask(ctx, theirs), isApiError(400, 101));
      await assert.rejects(changeTaskStatus(ctx, theirs, 'in_progress'), isApiError(400, 101));
      const mine = await newTask(s);
      await s.server.services.db.kysely.updateTable('tasks').set({ company: '' }).where('id', '=', mine).execute();
      assert.equal((await loadTask(ctx, mine)).id, mine, 'public tasks are readable');
      await assert.rejects(changeTaskStatus(ctx, mine, 'in_progress'), isApiError(403, 21));
    });
  });

  describe(`task lifecycle endpoints (${dialect})`, () => {
    let s: TestServer;
    let now = Date.parse('2026-03-01T10:00:00Z');
    const iso = () => new Date(now).toISOString().replace('Z', '000+00:00');
    before(async () => {
      s = await startTestServer({ dialect, clock: { now: () => now } });
    });
    after(() => s.stop());

    it('started moves to in_progress, answers started: 1 and keeps the earliest start time', async () => {
      const id = await newTask(s);
      const first = iso();
      const res = await s.ok(T.started, { task: id, force: false });
      assert.deepEqual([res.updated, res.started, res.fields?.status], [1, 1, 'in_progress']);
      now += 3_600_000;
      await s.ok(T.stopped, { task: id });
      await s.ok(T.started, { task: id });
      const task = (await s.ok(T.get_by_id, { task: id })).task;
      assert.equal(task.status, 'in_progress');
      assert.equal(task.started, first);
    });

    it('stopped, failed and close move the task and stopped sets completed', async () => {
      const id = await newTask(s);
      await s.ok(T.started, { task: id });
      now += 1000;
      await s.ok(T.stopped, { task: id });
      let task = (await s.ok(T.get_by_id, { task: id })).task;
      assert.deepEqual([task.status, task.completed], ['stopped', iso()]);
      await s.ok(T.close, { task: id });
      assert.equal((await s.ok(T.get_by_id, { task: id })).task.status, 'closed');
      await s.ok(T.failed, { task: id });
      task = (await s.ok(T.get_by_id, { task: id })).task;
      assert.equal(task.status, 'failed');
    });

    it('refuses an invalid move with 400/110 and the ClearML message, unless forced', async () => {
      const id = await newTask(s);
      const meta = await s.fails(T.completed, { task: id });
      assert.deepEqual([meta.result_code, meta.result_subcode], [400, 110]);
      assert.equal(meta.result_msg, 'Invalid status change: current_status=created, new_status=completed');
      assert.deepEqual(meta.error_data, { current_status: 'created', new_status: 'completed' });
      const forced = await s.ok(T.completed, { task: id, force: true });
      assert.equal(forced.fields?.status, 'completed');
    });

    it('completed sets completed and answers published: 0; with publish it publishes task and output model', async () => {
      const plain = await newTask(s);
      await s.ok(T.started, { task: plain });
      const res = await s.ok(T.completed, { task: plain, status_reason: 'completed', publish: false });
      assert.deepEqual([res.updated, res.published, res.fields?.status], [1, 0, 'completed']);
      assert.equal((await s.ok(T.get_by_id, { task: plain })).task.completed, iso());

      const id = await newTask(s);
      await s.ok(T.started, { task: id });
      const model = await newModel(s, { task: id });
      await s.ok(T.add_or_update_model, { task: id, name: 'best', model, type: 'output' });
      const published = await s.ok(T.completed, { task: id, publish: true });
      assert.deepEqual([published.published, published.fields?.status], [1, 'published']);
      const task = (await s.ok(T.get_by_id, { task: id })).task;
      assert.deepEqual([task.status, task.published], ['published', iso()]);
      assert.equal((await s.ok(operations.models.get_by_id, { model })).model.ready, true);
    });

    it('publish readies only the last output model, and none with publish_model: false', async () => {
      const id = await newTask(s);
      await s.ok(T.started, { task: id });
      const first = await newModel(s, { task: id });
      const last = await newModel(s, { task: id });
      await s.ok(T.add_or_update_model, { task: id, name: 'first', model: first, type: 'output' });
      await s.ok(T.add_or_update_model, { task: id, name: 'last', model: last, type: 'output' });
      await s.ok(T.stopped, { task: id });
      const res = await s.ok(T.publish, { task: id });
      assert.equal(res.fields?.status, 'published');
      assert.equal((await s.ok(operations.models.get_by_id, { model: first })).model.ready, false);
      assert.equal((await s.ok(operations.models.get_by_id, { model: last })).model.ready, true);

      const other = await newTask(s);
      const draft = await newModel(s, { task: other });
      await s.ok(T.add_or_update_model, { task: other, name: 'm', model: draft, type: 'output' });
      await s.ok(T.publish, { task: other, force: true, publish_model: false });
      assert.equal((await s.ok(T.get_by_id, { task: other })).task.status, 'published');
      assert.equal((await s.ok(operations.models.get_by_id, { model: draft })).model.ready, false);

      const created = await newTask(s);
      const refused = await s.fails(T.publish, { task: created });
      assert.deepEqual([refused.result_code, refused.result_subcode], [400, 110]);
    });

    it('publishTask joins the caller transaction: a later failure rolls back task and model', async () => {
      const ctx = await callContext(s);
      const id = await newTask(s);
      const model = await newModel(s, { task: id });
      await s.ok(T.add_or_update_model, { task: id, name: 'm', model, type: 'output' });
      await s.ok(T.started, { task: id });
      await s.ok(T.stopped, { task: id });
      await assert.rejects(
        ctx.db.transaction(async (db) => {
          const res = await publishTask({ ...ctx, db }, id);
          assert.equal(res.fields?.status, 'published');
          throw new Error('the caller failed after publishing');
        }),
        /the caller failed/,
      );
      assert.equal((await s.ok(T.get_by_id, { task: id })).task.status, 'stopped');
      assert.equal((await s.ok(operations.models.get_by_id, { model })).model.ready, false);
    });

    it('stop: development runs and tasks no agent reports on stop at once; an agent-run task gets "stopping"', async () => {
      const dev = await newTask(s, { system_tags: ['development'] });
      await s.ok(T.started, { task: dev });
      const res = await s.ok(T.stop, { task: dev });
      assert.equal(res.fields?.status, 'stopped');
      const stopped = (await s.ok(T.get_by_id, { task: dev })).task;
      assert.equal(stopped.status, 'stopped');
      assert.equal(stopped.status_message, 'Stopped by admin');

      const remote = await newTask(s);
      await s.ok(T.started, { task: remote });
      await s.server.services.db.kysely.updateTable('tasks').set({ last_worker: 'box-1' }).where('id', '=', remote).execute();
      await s.ok(T.stop, { task: remote });
      let task = (await s.ok(T.get_by_id, { task: remote })).task;
      assert.deepEqual([task.status, task.status_message], ['in_progress', 'stopping']);

      // The agent went silent for longer than the worker timeout: the abort stops the task itself.
      now += 601_000;
      await s.ok(T.stop, { task: remote });
      task = (await s.ok(T.get_by_id, { task: remote })).task;
      assert.equal(task.status, 'stopped');

      const created = await newTask(s);
      const refused = await s.fails(T.stop, { task: created });
      assert.deepEqual([refused.result_code, refused.result_subcode], [400, 110]);
    });

    it('ping refreshes last_update and, while running, active_duration', async () => {
      const id = await newTask(s);
      await s.ok(T.started, { task: id });
      now += 90_000;
      assert.deepEqual(await s.ok(T.ping, { task: id }), {});
      const task = (await s.ok(T.get_by_id, { task: id })).task;
      assert.equal(task.last_update, iso());
      assert.equal(task.active_duration, 90);
      const unknown = await s.fails(T.ping, { task: 'f'.repeat(32) });
      assert.deepEqual([unknown.result_code, unknown.result_subcode], [400, 101]);
    });
  });
}
