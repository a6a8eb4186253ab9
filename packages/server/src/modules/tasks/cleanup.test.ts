import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { operations } from '@cairn/protocol';
import { startTestServer, testDialects, type TestServer } from '../../../test/harness.js';
import { changeTaskStatus } from './status.js';
import { callContext, newModel, newProject, newTask, taskRow } from './test-support.js';
import { addScalarEvents, storedEventCount } from '../events/test-support.js';

const T = operations.tasks;
const M = operations.models;

for (const dialect of testDialects()) {
  describe(`task reset, delete, archive and the batch forms (${dialect})`, () => {
    let s: TestServer;
    let now = Date.parse('2026-06-01T08:00:00Z');
    const iso = () => new Date(now).toISOString().replace('Z', '000+00:00');
    before(async () => {
      s = await startTestServer({ dialect, clock: { now: () => now } });
    });
    after(() => s.stop());

    const modelExists = async (model: string) => (await s.call('models.get_by_id', { model })).status === 200;
    const publishModel = (model: string) => s.ok(M.set_ready, { model, publish_task: false });

    it('reset returns a task to created, clears what the run produced and deletes its draft output models', async () => {
      const project = await newProject(s, 'reset project');
      const input = await newModel(s);
      const id = await newTask(s, {
        project,
        models: { input: [{ name: 'base', model: input }] },
        script: { repository: 'repo', entry_point: 'train.py' },
        hyperparams: { Args: { lr: { value: '0.1' } } },
        configuration: { General: { value: 'a=1' } },
        output_dest: 'http://files',
      });
      await s.ok(T.started, { task: id });
      const output = await newModel(s, { task: id });
      await s.ok(T.add_or_update_model, { task: id, name: 'best', model: output, type: 'output', iteration: 7 });
      await s.ok(T.add_or_update_artifacts, {
        task: id,
        artifacts: [
          { key: 'data', type: 'csv', mode: 'input', uri: 'http://files/in.csv' },
          { key: 'report', type: 'html', uri: 'http://files/out.html' },
        ],
      });
      await s.ok(T.edit, { task: id, force: true, runtime: { progress: '100' }, execution: { queue: 'q1', framework: 'PyTorch' } });
      await s.ok(T.update, { task: id, output__error: 'boom' });
      await s.ok(T.completed, { task: id });
      now += 60_000;

      const res = await s.ok(T.reset, { task: id });
      assert.deepEqual(
        [res.updated, res.fields?.status, res.dequeued, res.deleted_models, res.updated_models, res.updated_children],
        [1, 'created', { removed: 0 }, 1, 0, 0],
      );
      assert.equal(res.urls, undefined);
      const task = (await s.ok(T.get_by_id, { task: id })).task;
      assert.deepEqual([task.status, task.status_reason, task.status_message], ['created', 'reset', 'reset']);
      assert.equal(task.last_iteration, 0);
      assert.deepEqual(task.models?.output, []);
      assert.deepEqual(task.models?.input?.map((m) => m.model), [input]);
      assert.deepEqual(task.runtime, {});
      assert.deepEqual(task.output, { destination: 'http://files' });
      for (const field of ['started', 'completed', 'published', 'active_duration'] as const) assert.equal(task[field], undefined, field);
      assert.equal(task.execution?.queue, undefined);
      assert.equal(task.execution?.framework, 'PyTorch');
      assert.deepEqual((task.execution?.artifacts as { key: string }[]).map((a) => a.key), ['data']);
      assert.deepEqual(task.script, { repository: 'repo', entry_point: 'train.py' });
      assert.deepEqual(Object.keys(task.hyperparams ?? {}), ['Args']);
      assert.deepEqual(Object.keys(task.configuration ?? {}), ['General']);
      assert.equal(await modelExists(output), false);
      assert.equal(await modelExists(input), true);
      assert.equal((await s.ok(operations.projects.get_by_id, { project })).project.last_update, iso());
    });

    it('reset keeps models other tasks use and published ones (with force), detached from the task', async () => {
      const id = await newTask(s);
      await s.ok(T.started, { task: id });
      const used = await newModel(s, { task: id });
      const free = await newModel(s, { task: id });
      const published = await newModel(s, { task: id });
      await publishModel(published);
      await newTask(s, { name: 'consumer', models: { input: [{ name: 'in', model: used }] } });
      await s.ok(T.stopped, { task: id });

      const refused = await s.fails(T.reset, { task: id });
      assert.deepEqual([refused.result_code, refused.result_subcode], [400, 123]);
      assert.match(refused.result_msg, /has output models, use force=True/);
      assert.equal((await taskRow(s, id)).status, 'stopped');
      assert.equal(await modelExists(free), true);

      const res = await s.ok(T.reset, { task: id, force: true });
      assert.equal(res.deleted_models, 1);
      assert.equal(await modelExists(free), false);
      const kept = await s.ok(M.get_all, { id: [used, published], only_fields: ['id', 'task', 'ready'], order_by: ['id'] });
      assert.equal(kept.models.length, 2);
      for (const model of kept.models) assert.equal(model.task, undefined, `${model.id} is detached`);
    });

    it('reset: a published task needs force (400/110); clear_all also clears execution and script; urls on request', async () => {
      const id = await newTask(s, { script: { repository: 'r' }, execution: { framework: 'Keras' } });
      const draft = await newModel(s, { task: id, uri: 'http://files/draft.bin' });
      await s.ok(T.add_or_update_artifacts, { task: id, artifacts: [{ key: 'out', type: 't', uri: 'http://files/artifact.txt' }] });
      await s.ok(T.publish, { task: id, force: true, publish_model: false });
      const refused = await s.fails(T.reset, { task: id });
      assert.deepEqual([refused.result_code, refused.result_subcode], [400, 110]);
      const res = await s.ok(T.reset, { task: id, force: true, clear_all: true, return_file_urls: true });
      assert.deepEqual(res.urls, { model_urls: ['http://files/draft.bin'], event_urls: [], artifact_urls: ['http://files/artifact.txt'] });
      const task = (await s.ok(T.get_by_id, { task: id })).task;
      assert.equal(task.status, 'created');
      assert.deepEqual(task.execution, { parameters: {}, model_labels: {}, artifacts: [] });
      assert.deepEqual(task.script, {});
      assert.equal(await modelExists(draft), false);
    });

    it('delete removes a created task and its draft models; children then point at __DELETED__<id>', async () => {
      const project = await newProject(s, 'delete project');
      const parent = await newTask(s, { project });
      const child = await newTask(s, { parent });
      const draft = await newModel(s, { task: parent });
      now += 1000;
      const res = await s.ok(T.delete, { task: parent });
      assert.deepEqual(res, { deleted: true, events: { deleted: 0 }, deleted_models: 1, updated_children: 1, updated_models: 0 });
      const gone = await s.fails(T.get_by_id, { task: parent });
      assert.deepEqual([gone.result_code, gone.result_subcode], [400, 101]);
      assert.equal((await s.ok(T.get_by_id, { task: child })).task.parent, `__DELETED__${parent}`);
      assert.equal(await modelExists(draft), false);
      assert.equal((await s.ok(operations.projects.get_by_id, { project })).project.last_update, iso());
    });

    it('reset and delete remove the events of the task and of the draft models they delete, and count them', async () => {
      const bystander = await newTask(s, { name: 'bystander' });
      await addScalarEvents(s, bystander, 2);
      const run = async (name: string) => {
        const id = await newTask(s, { name });
        await s.ok(T.started, { task: id });
        const draft = await newModel(s, { task: id });
        const kept = await newModel(s, { task: id });
        await s.ok(T.add_or_update_model, { task: id, name: 'draft', model: draft, type: 'output' });
        await addScalarEvents(s, id, 3);
        await addScalarEvents(s, draft, 2, true);
        await addScalarEvents(s, kept, 1, true);
        await s.ok(operations.models.set_ready, { model: kept, publish_task: false });
        return { id, draft, kept };
      };
      const counts = async (t: { id: string; draft: string; kept: string }) => [await storedEventCount(s, t.id), await storedEventCount(s, t.draft, true), await storedEventCount(s, t.kept, true)];

      const reset = await run('reset run');
      const refused = await s.fails(T.reset, { task: reset.id });
      assert.deepEqual([refused.result_code, refused.result_subcode], [400, 123], 'a published output model refuses the reset without force');
      assert.deepEqual(await counts(reset), [3, 2, 1], 'a refused reset keeps every event');
      assert.deepEqual((await s.ok(T.reset, { task: reset.id, force: true })).events, { deleted: 3 });
      assert.deepEqual(await counts(reset), [0, 0, 1], 'the published model is kept with its events');

      const deleted = await run('delete run');
      assert.deepEqual((await s.ok(T.delete, { task: deleted.id, force: true })).events, { deleted: 3 });
      assert.deepEqual(await counts(deleted), [0, 0, 1]);

      const many = [await run('reset_many run'), await run('delete_many run')];
      const resetMany = await s.ok(T.reset_many, { ids: [many[0]!.id], force: true });
      assert.deepEqual(resetMany.succeeded.map((r) => r.events), [{ deleted: 3 }]);
      const deleteMany = await s.ok(T.delete_many, { ids: [many[1]!.id], force: true });
      assert.deepEqual(deleteMany.succeeded.map((r) => r.events), [{ deleted: 3 }]);
      for (const t of many) assert.deepEqual(await counts(t), [0, 0, 1]);
      assert.equal(await storedEventCount(s, bystander), 2, "other tasks' events stay");
    });

    it('delete refuses a task that is neither created nor archived unless forced (400/123)', async () => {
      const id = await newTask(s);
      await s.ok(T.started, { task: id });
      const refused = await s.fails(T.delete, { task: id });
      assert.deepEqual([refused.result_code, refused.result_subcode], [400, 123]);
      assert.match(refused.result_msg, /due to status, use force=True/);
      await s.ok(T.archive_many, { ids: [id] });
      assert.equal((await s.ok(T.delete, { task: id })).deleted, true);

      const running = await newTask(s);
      await s.ok(T.started, { task: running });
      assert.equal((await s.ok(T.delete, { task: running, force: true })).deleted, true);
    });

    it('delete: published output models or children refuse it without force; with force the models stay', async () => {
      const id = await newTask(s);
      const published = await newModel(s, { task: id });
      await publishModel(published);
      const refused = await s.fails(T.delete, { task: id });
      assert.deepEqual([refused.result_code, refused.result_subcode], [400, 123]);
      assert.match(refused.result_msg, /has output models/);
      const res = await s.ok(T.delete, { task: id, force: true });
      assert.deepEqual([res.deleted, res.updated_models, res.deleted_models], [true, 1, 0]);
      assert.equal((await s.ok(M.get_by_id, { model: published })).model.task, `__DELETED__${id}`);

      const registered = await newTask(s);
      const entry = await newModel(s);
      await publishModel(entry);
      await s.ok(T.add_or_update_model, { task: registered, name: 'm', model: entry, type: 'output' });
      const byEntry = await s.fails(T.delete, { task: registered });
      assert.match(byEntry.result_msg, /has output model/);

      const parent = await newTask(s);
      const child = await newTask(s, { parent });
      await s.ok(T.publish, { task: child, force: true });
      const withChild = await s.fails(T.delete, { task: parent });
      assert.deepEqual([withChild.result_code, withChild.result_subcode], [400, 123]);
      assert.match(withChild.result_msg, /has children/);
    });

    it('delete with delete_output_models: false keeps drafts, whose files are then not listed', async () => {
      const id = await newTask(s);
      const draft = await newModel(s, { task: id, uri: 'http://files/keep.bin' });
      const res = await s.ok(T.delete, { task: id, delete_output_models: false, return_file_urls: true });
      assert.deepEqual(res, {
        deleted: true,
        events: { deleted: 0 },
        deleted_models: 0,
        updated_children: 0,
        updated_models: 1,
        urls: { model_urls: [], event_urls: [], artifact_urls: [] },
      });
      assert.equal((await s.ok(M.get_by_id, { model: draft })).model.task, `__DELETED__${id}`);
    });

    it('deleting or resetting a task deletes the files it orphans on this server, unless delete_external_artifacts is false', async () => {
      const files = s.server.services.files;
      const put = (key: string) => files.write(key, Readable.from([Buffer.from(key)]));
      const setup = async (name: string) => {
        const id = await newTask(s, { name });
        await s.ok(T.started, { task: id });
        await put(`${name}/weights.bin`);
        await put(`${name}/report.html`);
        await put(`${name}/input.csv`);
        await newModel(s, { task: id, uri: `${s.filesUrl}/${name}/weights.bin` });
        await s.ok(T.add_or_update_artifacts, {
          task: id,
          artifacts: [
            { key: 'report', type: 'html', uri: `${s.filesUrl}/${name}/report.html` },
            { key: 'data', type: 'csv', mode: 'input', uri: `${s.filesUrl}/${name}/input.csv` },
          ],
        });
        return id;
      };
      const exists = async (key: string) => (await files.stat(key)) !== undefined;

      await s.ok(T.delete, { task: await setup('gone'), force: true });
      assert.deepEqual([await exists('gone/weights.bin'), await exists('gone/report.html')], [false, false]);
      assert.equal(await exists('gone/input.csv'), true, 'input artifacts belong to someone else');

      const shared = await setup('shared');
      const copy = await newModel(s, { uri: `${s.filesUrl}/shared/weights.bin` });
      await s.ok(T.delete, { task: shared, force: true });
      assert.equal(await exists('shared/weights.bin'), true, `model ${copy} still uses the weights`);

      await s.ok(T.reset, { task: await setup('again') });
      assert.deepEqual([await exists('again/weights.bin'), await exists('again/report.html'), await exists('again/input.csv')], [false, false, true]);

      await s.ok(T.delete, { task: await setup('kept'), force: true, delete_external_artifacts: false });
      assert.deepEqual([await exists('kept/weights.bin'), await exists('kept/report.html')], [true, true]);
    });

    it('archive_many and unarchive_many toggle the archived system tag; archiving takes a task out of its queue', async () => {
      const ctx = await callContext(s);
      const plain = await newTask(s, { system_tags: ['development'] });
      const queued = await newTask(s);
      await s.ok(T.started, { task: queued });
      await s.ok(T.stopped, { task: queued });
      await changeTaskStatus(ctx, queued, 'queued', { set: { enqueue_status: 'stopped' } });
      const other = await s.createUser({ newCompany: true });
      const theirs = await newTask(s, {}, other.token);

      const res = await s.ok(T.archive_many, { ids: [plain, queued, theirs, 'f'.repeat(32)], status_reason: 'tidy' });
      assert.deepEqual(res.succeeded, [{ id: plain, archived: true }, { id: queued, archived: true }]);
      assert.deepEqual(res.failed.map((f) => [f.id, f.error.codes]), [[theirs, [400, 101]], ['f'.repeat(32), [400, 101]]]);
      const archived = (await s.ok(T.get_by_id, { task: plain })).task;
      assert.deepEqual(archived.system_tags, ['archived', 'development']);
      assert.equal(archived.status_reason, 'tidy');
      const dequeued = (await s.ok(T.get_by_id, { task: queued })).task;
      assert.deepEqual([dequeued.status, dequeued.system_tags], ['stopped', ['archived']]);
      assert.equal((await taskRow(s, queued)).enqueue_status, null);
      // Archiving twice keeps one tag.
      await s.ok(T.archive_many, { ids: [plain] });
      assert.deepEqual((await s.ok(T.get_by_id, { task: plain })).task.system_tags, ['archived', 'development']);

      const un = await s.ok(T.unarchive_many, { ids: [plain, queued] });
      assert.deepEqual(un.succeeded, [{ id: plain, unarchived: true }, { id: queued, unarchived: true }]);
      assert.deepEqual((await s.ok(T.get_by_id, { task: plain })).task.system_tags, ['development']);
      const empty = await s.fails(T.archive_many, { ids: [] });
      assert.deepEqual([empty.result_code, empty.result_subcode], [400, 12]);
    });

    it('delete_many, reset_many, publish_many and stop_many report per-id failures in a 200', async () => {
      const created = await newTask(s);
      const running = await newTask(s, { system_tags: ['development'] });
      await s.ok(T.started, { task: running });
      const missing = 'f'.repeat(32);

      const stop = await s.ok(T.stop_many, { ids: [running, created, missing] });
      assert.deepEqual(stop.succeeded.map((r) => [r.id, r.fields?.status]), [[running, 'stopped']]);
      assert.deepEqual(stop.failed.map((f) => [f.id, f.error.codes]), [[created, [400, 110]], [missing, [400, 101]]]);
      assert.match(stop.failed[0]!.error.msg, /Invalid status change/);

      const publish = await s.ok(T.publish_many, { ids: [running, created] });
      assert.deepEqual(publish.succeeded.map((r) => [r.id, r.updated, r.fields?.status]), [[running, 1, 'published']]);
      assert.deepEqual(publish.failed.map((f) => [f.id, f.error.codes]), [[created, [400, 110]]]);

      const reset = await s.ok(T.reset_many, { ids: [running, created] });
      assert.deepEqual(reset.succeeded.map((r) => [r.id, r.dequeued, r.fields?.status]), [[created, false, 'created']]);
      assert.deepEqual(reset.failed.map((f) => [f.id, f.error.codes]), [[running, [400, 110]]]);

      const del = await s.ok(T.delete_many, { ids: [created, running, missing] });
      assert.deepEqual(del.succeeded.map((r) => [r.id, r.deleted]), [[created, true]]);
      assert.deepEqual(del.failed.map((f) => [f.id, f.error.codes]), [[running, [400, 123]], [missing, [400, 101]]]);
      const forced = await s.ok(T.delete_many, { ids: [running], force: true });
      assert.deepEqual(forced.succeeded.map((r) => r.id), [running]);
    });
  });
}
