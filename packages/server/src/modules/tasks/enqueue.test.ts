import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { operations } from '@cairn/protocol';
import { startTestServer, testDialects, type TestServer } from '../../../test/harness.js';
import { newModel, newProject, newTask, taskRow } from './test-support.js';

const T = operations.tasks;
const Q = operations.queues;

for (const dialect of testDialects()) {
  describe(`tasks enqueue, dequeue and clone (${dialect})`, () => {
    let s: TestServer;
    let defaultQueue: string;
    before(async () => {
      s = await startTestServer({ dialect });
      defaultQueue = (await s.ok(Q.get_default, {})).id;
    });
    after(() => s.stop());

    const entries = async (queue: string) => (await s.ok(Q.get_by_id, { queue })).queue.entries?.map((e) => e.task);

    it('enqueue puts the task in the default queue, records where it came from, and refuses a queued task (400/110); dequeue undoes it', async () => {
      const task = await newTask(s, { system_tags: ['development'] });
      const res = await s.ok(T.enqueue, { task, status_reason: 'ready to run' });
      assert.equal(res.queued, 1);
      assert.equal(res.fields?.status, 'queued');
      assert.equal(res.fields?.['execution.queue'], defaultQueue);
      assert.equal(res.queue_watched, undefined);
      const row = await taskRow(s, task);
      assert.equal(row.status, 'queued');
      assert.equal(row.status_reason, 'ready to run');
      assert.equal(row.enqueue_status, 'created');
      const { task: loaded } = await s.ok(T.get_by_id, { task });
      assert.equal(loaded.execution?.queue, defaultQueue);
      assert.deepEqual(loaded.system_tags, [], 'a queued task is no longer a development run');
      assert.deepEqual(await entries(defaultQueue), [task]);

      const twice = await s.fails(T.enqueue, { task });
      assert.deepEqual([twice.result_code, twice.result_subcode], [400, 110]);
      assert.deepEqual(await entries(defaultQueue), [task]);

      const out = await s.ok(T.dequeue, { task });
      assert.equal(out.dequeued, 1);
      assert.equal(out.fields?.status, 'created');
      assert.equal((await taskRow(s, task)).status, 'created');
      assert.equal((await taskRow(s, task)).enqueue_status, null);
      assert.deepEqual(await entries(defaultQueue), []);
      const notQueued = await s.fails(T.dequeue, { task });
      assert.deepEqual([notQueued.result_code, notQueued.result_subcode], [400, 110]);
    });

    it('enqueue by queue id, by queue name (created when missing) and never both; unknown ids are 400/701, no default queue 400/707', async () => {
      const { id: queue } = await s.ok(Q.create, { name: 'by-id' });
      const a = await newTask(s);
      await s.ok(T.enqueue, { task: a, queue });
      assert.deepEqual(await entries(queue), [a]);

      const b = await newTask(s);
      const res = await s.ok(T.enqueue, { task: b, queue_name: 'made on the fly' });
      const made = (await s.ok(Q.get_all, { name: '^made on the fly$' })).queues[0];
      assert.ok(made, 'the queue was created');
      assert.equal(res.fields?.['execution.queue'], made.id);
      assert.deepEqual(made.entries?.map((e) => e.task), [b]);
      const c = await newTask(s);
      await s.ok(T.enqueue, { task: c, queue_name: 'made on the fly' });
      assert.equal((await s.ok(Q.get_all, { name: '^made on the fly$' })).queues.length, 1, 'found, not created again');

      const both = await s.fails(T.enqueue, { task: await newTask(s), queue, queue_name: 'x' });
      assert.deepEqual([both.result_code, both.result_subcode], [400, 12]);
      const unknown = await s.fails(T.enqueue, { task: await newTask(s), queue: 'nope' });
      assert.deepEqual([unknown.result_code, unknown.result_subcode], [400, 701]);
      const other = await s.createUser({ newCompany: true });
      const theirs = await newTask(s, {}, other.token);
      const noDefault = await s.fails(T.enqueue, { task: theirs }, { token: other.token });
      assert.deepEqual([noDefault.result_code, noDefault.result_subcode], [400, 707]);
      assert.equal((await taskRow(s, theirs)).status, 'created', 'a failed enqueue changes nothing');
      const foreign = await s.fails(T.enqueue, { task: theirs });
      assert.deepEqual([foreign.result_code, foreign.result_subcode], [400, 101]);
    });

    it('follows the status machine: a stopped task goes back to stopped; a completed one needs force; new_status overrides', async () => {
      const stopped = await newTask(s);
      await s.ok(T.started, { task: stopped });
      await s.ok(T.stopped, { task: stopped });
      await s.ok(T.enqueue, { task: stopped });
      await s.ok(T.dequeue, { task: stopped });
      assert.equal((await taskRow(s, stopped)).status, 'stopped');

      const completed = await newTask(s);
      await s.ok(T.started, { task: completed });
      await s.ok(T.completed, { task: completed });
      const refused = await s.fails(T.enqueue, { task: completed });
      assert.deepEqual([refused.result_code, refused.result_subcode], [400, 110]);
      await s.ok(T.enqueue, { task: completed, force: true });
      await s.ok(T.dequeue, { task: completed, new_status: 'created' });
      assert.equal((await taskRow(s, completed)).status, 'created');
      const badStatus = await s.fails(T.dequeue, { task: completed, new_status: 'sleeping' });
      assert.deepEqual([badStatus.result_code, badStatus.result_subcode], [400, 12]);
    });

    it('update_execution_queue false leaves execution alone; verify_watched_queue tells whether a live worker serves the queue', async () => {
      const { id: queue } = await s.ok(Q.create, { name: 'watch me' });
      const a = await newTask(s);
      const first = await s.ok(T.enqueue, { task: a, queue, update_execution_queue: false, verify_watched_queue: true });
      assert.equal(first.queue_watched, false);
      assert.equal((await s.ok(T.get_by_id, { task: a })).task.execution?.queue, undefined);
      await s.ok(operations.workers.register, { worker: 'watcher', queues: [queue] });
      const b = await newTask(s);
      assert.equal((await s.ok(T.enqueue, { task: b, queue, verify_watched_queue: true })).queue_watched, true);
    });

    it('enqueue_many and dequeue_many report each task, failures included', async () => {
      const { id: queue } = await s.ok(Q.create, { name: 'batch' });
      const a = await newTask(s);
      const b = await newTask(s);
      const res = await s.ok(T.enqueue_many, { ids: [a, b, 'nope'], queue });
      assert.deepEqual(res.succeeded.map((r) => [r.id, r.queued]), [[a, true], [b, true]]);
      assert.deepEqual(res.failed.map((f) => [f.id, f.error.codes]), [['nope', [400, 101]]]);
      assert.deepEqual(await entries(queue), [a, b]);
      const again = await s.ok(T.enqueue_many, { ids: [a], queue });
      assert.deepEqual(again.failed.map((f) => f.error.codes), [[400, 110]]);
      const out = await s.ok(T.dequeue_many, { ids: [a, b] });
      assert.deepEqual(out.succeeded.map((r) => [r.id, r.dequeued]), [[a, true], [b, true]]);
      assert.deepEqual(await entries(queue), []);
      const notQueued = await s.ok(T.dequeue_many, { ids: [a] });
      assert.deepEqual(notQueued.failed.map((f) => f.error.codes), [[400, 110]]);
    });

    it('aborting, resetting, archiving or deleting a queued task takes it out of its queue', async () => {
      const { id: queue } = await s.ok(Q.create, { name: 'leavers' });
      const [aborted, reset, archived, deleted] = [await newTask(s), await newTask(s), await newTask(s), await newTask(s)];
      await s.ok(T.enqueue_many, { ids: [aborted, reset, archived, deleted], queue });
      await s.ok(T.stop, { task: aborted });
      assert.equal((await taskRow(s, aborted)).status, 'stopped');
      assert.deepEqual(await entries(queue), [reset, archived, deleted]);
      const resetRes = await s.ok(T.reset, { task: reset });
      assert.deepEqual(resetRes.dequeued, { removed: 1 });
      assert.equal((await taskRow(s, reset)).status, 'created');
      assert.equal((await s.ok(T.get_by_id, { task: reset })).task.execution?.queue, undefined);
      await s.ok(T.archive_many, { ids: [archived] });
      assert.equal((await taskRow(s, archived)).status, 'created');
      await s.ok(T.delete, { task: deleted, force: true });
      assert.deepEqual(await entries(queue), []);
      // A second reset has nothing to take out.
      assert.deepEqual((await s.ok(T.reset, { task: reset })).dequeued, { removed: 0 });
    });

    it('clone copies what makes the task re-runnable, not what its run produced; parent is the source', async () => {
      const project = await newProject(s, 'Clone source');
      const input = await newModel(s, { name: 'backbone' });
      const output = await newModel(s, { name: 'produced' });
      const source = await newTask(s, {
        name: 'train resnet',
        comment: 'first run',
        project,
        tags: ['exp'],
        system_tags: ['development', 'keep-me'],
        script: { binary: 'node --import tsx', entry_point: 'train.ts', working_dir: '/src/app', requirements: { npm: { tsx: '^4' } } },
        execution: { model_labels: { 'cat.big': 1, dog: 2 }, framework: 'PyTorch' },
        hyperparams: { General: { lr: { section: 'General', name: 'lr', value: '0.1', type: 'float' } } },
        configuration: { General: { name: 'General', value: 'epochs = 3', type: 'dictionary' } },
        container: { image: 'node:20', arguments: '' },
        output_dest: 'http://files/out',
        models: { input: [{ name: 'backbone', model: input }] },
      });
      await s.ok(T.add_or_update_artifacts, {
        task: source,
        artifacts: [
          { key: 'data', type: 'dataset', mode: 'input', uri: 'http://files/data.csv' },
          { key: 'report', type: 'html', mode: 'output', uri: 'http://files/report.html' },
        ],
      });
      await s.ok(T.started, { task: source });
      await s.ok(T.add_or_update_model, { task: source, name: 'result', model: output, type: 'output' });
      await s.ok(T.enqueue, { task: source, force: true });

      const { id, new_project } = await s.ok(T.clone, { task: source });
      assert.equal(new_project, undefined);
      const { task } = await s.ok(T.get_by_id, { task: id });
      assert.equal(task.status, 'created');
      assert.equal(task.name, 'train resnet');
      assert.equal(task.comment, 'first run');
      assert.equal(task.type, 'training');
      assert.equal(task.parent, source);
      assert.equal(task.project, project);
      assert.deepEqual(task.tags, ['exp']);
      assert.deepEqual(task.system_tags, ['keep-me']);
      assert.deepEqual(task.script, { binary: 'node --import tsx', entry_point: 'train.ts', working_dir: '/src/app', requirements: { npm: { tsx: '^4' } } });
      assert.equal(task.execution?.queue, undefined);
      assert.deepEqual(task.execution?.model_labels, { 'cat.big': 1, dog: 2 });
      assert.equal(task.execution?.framework, 'PyTorch');
      assert.deepEqual((task.execution?.artifacts as { key: string }[]).map((a) => a.key), ['data']);
      assert.deepEqual(task.hyperparams, { General: { lr: { section: 'General', name: 'lr', value: '0.1', type: 'float' } } });
      assert.deepEqual(task.configuration, { General: { name: 'General', value: 'epochs = 3', type: 'dictionary' } });
      assert.deepEqual(task.container, { image: 'node:20', arguments: '' });
      assert.equal(task.output?.destination, 'http://files/out');
      assert.deepEqual(task.models?.input?.map((m) => [m.name, m.model]), [['backbone', input]]);
      assert.deepEqual(task.models?.output, []);
      assert.equal(task.last_worker, undefined);
      assert.equal(task.started, undefined);
    });

    it('clone takes every new_task_* override, creates a named project, and checks references it is given', async () => {
      const source = await newTask(s, {
        name: 'base run',
        hyperparams: { General: { lr: { section: 'General', name: 'lr', value: '0.1' } } },
        configuration: { General: { name: 'General', value: 'a = 1' } },
        execution: { model_labels: { cat: 1 } },
      });
      const parent = await newTask(s, { name: 'the parent' });
      const other = await newModel(s, { name: 'other input' });
      const { id, new_project } = await s.ok(T.clone, {
        task: source,
        new_task_name: 'tuned run',
        new_task_comment: 'lr halved',
        new_task_tags: ['tuned'],
        new_task_system_tags: ['sys'],
        new_task_parent: parent,
        new_project_name: 'Clones/Tuning',
        new_task_hyperparams: { General: { lr: { section: 'General', name: 'lr', value: '0.05' } } },
        new_task_configuration: { General: { name: 'General', value: 'a = 2' } },
        execution_overrides: { model_labels: { cat: 1, dog: 2 } },
        new_task_input_models: [{ name: 'init', model: other }],
        new_task_container: { image: 'node:22' },
      });
      assert.ok(new_project);
      assert.equal(new_project.name, 'Clones/Tuning');
      const { task } = await s.ok(T.get_by_id, { task: id });
      assert.equal(task.name, 'tuned run');
      assert.equal(task.comment, 'lr halved');
      assert.deepEqual(task.tags, ['tuned']);
      assert.deepEqual(task.system_tags, ['sys']);
      assert.equal(task.parent, parent);
      assert.equal(task.project, new_project.id);
      assert.equal(task.hyperparams?.General?.lr?.value, '0.05');
      assert.equal(task.configuration?.General?.value, 'a = 2');
      assert.deepEqual(task.execution?.model_labels, { cat: 1, dog: 2 });
      assert.deepEqual(task.models?.input?.map((m) => [m.name, m.model]), [['init', other]]);
      assert.deepEqual(task.container, { image: 'node:22' });
      const existing = await s.ok(T.clone, { task: source, new_project_name: 'Clones/Tuning' });
      assert.equal(existing.new_project?.id, new_project.id, 'the named project is reused');

      const badParent = await s.fails(T.clone, { task: source, new_task_parent: 'nope' });
      assert.deepEqual([badParent.result_code, badParent.result_subcode], [400, 16]);
      const badModel = await s.fails(T.clone, { task: source, new_task_input_models: [{ name: 'x', model: 'nope' }] });
      assert.deepEqual([badModel.result_code, badModel.result_subcode], [400, 201]);
      const badProject = await s.fails(T.clone, { task: source, new_task_project: 'nope' });
      assert.deepEqual([badProject.result_code, badProject.result_subcode], [400, 16]);
      const unknown = await s.fails(T.clone, { task: 'nope' });
      assert.deepEqual([unknown.result_code, unknown.result_subcode], [400, 101]);
    });
  });
}
