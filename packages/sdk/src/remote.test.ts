import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { operations } from '@cairn/protocol';
import { startTestServer, testDialects, type TestServer } from '@cairn/server/test-harness';
import { testSession, type Recorder } from '../test/helpers.js';
import { Task } from './task.js';
import type { Session } from './session.js';
import { OutputModel } from './model/output-model.js';
import { InputModel } from './model/model.js';
import { UsageError } from './errors.js';
import { TASK_ID_ENV } from './task-params.js';

const T = operations.tasks;

/** What an agent does before it starts the code: pop the task from its queue and mark it started. */
async function runAsAgent(s: TestServer, task: string): Promise<void> {
  const { id: queue } = await s.ok(operations.queues.get_default, {});
  await s.ok(T.enqueue, { task, queue });
  const popped = await s.ok(operations.queues.get_next_task, { queue });
  assert.equal(popped.entry?.task, task);
  await s.ok(T.started, { task });
}

for (const dialect of testDialects()) {
  describe(`Task remote mode and connected values (${dialect})`, () => {
    let s: TestServer;
    let session: Session;
    let recorder: Recorder;

    before(async () => {
      s = await startTestServer({ dialect });
      ({ session, recorder } = testSession(s));
    });
    afterEach(() => {
      delete process.env[TASK_ID_ENV];
    });
    after(() => s.stop());

    it('a local run records its script and stores what it connects, returning the code values unchanged', async () => {
      const task = await Task.init({ projectName: 'Remote', taskName: 'local run', session });
      const { task: created } = await s.ok(T.get_by_id, { task: task.id });
      assert.equal(created.script?.working_dir, process.cwd());
      assert.equal(created.script?.entry_point, path.relative(process.cwd(), process.argv[1]!));
      assert.match(String(created.script?.binary), /^node( |$)/);
      const npm = (created.script?.requirements as { npm?: { dependencies?: Record<string, string> } }).npm;
      assert.equal(npm?.dependencies?.['@cairn/protocol'], '0.1.0', 'the dependencies of the nearest package.json');
      assert.equal(task.runningRemotely, false);

      const params = { lr: 0.1, epochs: 3, augment: true, optimizer: { name: 'sgd', momentum: 0.9 }, layers: [64, 32] };
      assert.equal(await task.connect(params), params);
      assert.deepEqual(params, { lr: 0.1, epochs: 3, augment: true, optimizer: { name: 'sgd', momentum: 0.9 }, layers: [64, 32] });
      const stored = (await s.ok(T.get_hyper_params, { tasks: [task.id] })).params[0]!.hyperparams.map((p) => [p.section, p.name, p.value, p.type]);
      assert.deepEqual(stored, [
        ['General', 'augment', 'true', 'bool'],
        ['General', 'epochs', '3', 'int'],
        ['General', 'layers', '[64,32]', 'list'],
        ['General', 'lr', '0.1', 'float'],
        ['General', 'optimizer/momentum', '0.9', 'float'],
        ['General', 'optimizer/name', 'sgd', 'str'],
      ]);
      await task.connect({ seed: 7 }, 'Args', { ignoreRemoteOverrides: true });

      const config = { model: { depth: 18 }, lr: 0.001 };
      assert.equal(await task.connectConfiguration(config), config);
      const text = await task.connectConfiguration('batch = 16', 'data');
      assert.equal(text, 'batch = 16');
      const configs = (await s.ok(T.get_configurations, { tasks: [task.id] })).configurations[0]!.configuration;
      assert.deepEqual(configs.map((c) => [c.name, c.value, c.type]), [
        ['General', 'model {\n  depth = 18\n}\nlr = 0.001', 'dictionary'],
        ['data', 'batch = 16', 'text'],
      ]);
      assert.equal(task.getModelConfigText(), 'model {\n  depth = 18\n}\nlr = 0.001', 'the General item is the model configuration');

      const labels = { background: 0, cat: 1 };
      assert.equal(await task.connectLabelEnumeration(labels), labels);
      assert.deepEqual((await s.ok(T.get_by_id, { task: task.id })).task.execution?.model_labels, { background: 0, cat: 1 });
      const flags = (await s.ok(T.get_hyper_params, { tasks: [task.id] })).params[0]!.hyperparams.filter((p) => p.section === 'Args');
      assert.deepEqual(flags.map((p) => [p.name, p.value]), [['_ignore_remote_overrides_', 'true'], ['seed', '7']]);
      await task.close();
    });

    it('under an agent, Task.init attaches to the task and the code gets the values edited on the clone', async () => {
      const original = await Task.init({ projectName: 'Remote', taskName: 'to clone', session });
      const backbone = await InputModel.importModel({ weightsUrl: 'https://example.com/weights/resnet.pt', name: 'resnet', session });
      const better = await InputModel.importModel({ weightsUrl: 'https://example.com/weights/resnet-v2.pt', name: 'resnet v2', session });
      await original.connect(backbone, 'backbone');
      await original.connect({ lr: 0.1, epochs: 3, optimizer: { name: 'sgd' } });
      await original.connectConfiguration({ model: { depth: 18 }, dropout: 0.5 });
      await original.connectLabelEnumeration({ background: 0, cat: 1 });
      await original.close();

      // In the web app: clone, then edit parameters, configuration, labels and the input model.
      const { id } = await s.ok(T.clone, { task: original.id, new_task_name: 'tuned' });
      await s.ok(T.edit_hyper_params, { task: id, hyperparams: [{ section: 'General', name: 'lr', value: '0.05' }, { section: 'General', name: 'optimizer/name', value: 'adam' }] });
      await s.ok(T.edit_configuration, { task: id, configuration: [{ name: 'General', value: 'model {\n  depth = 34\n}\ndropout = 0.25' }] });
      await s.ok(T.edit, { task: id, execution: { model_labels: { background: 0, cat: 1, dog: 2 } } });
      await s.ok(T.add_or_update_model, { task: id, name: 'backbone', model: better.id, type: 'input' });
      await runAsAgent(s, id);

      process.env[TASK_ID_ENV] = id;
      recorder.clear();
      const task = await Task.init({ projectName: 'ignored', taskName: 'ignored', session });
      assert.ok(!recorder.endpoints().includes('tasks.create'), 'no new task');
      assert.ok(!recorder.endpoints().includes('tasks.started'), 'the agent started it already');
      assert.equal(task.id, id);
      assert.equal(task.runningRemotely, true);
      assert.equal(Task.runningRemotely(), true);
      assert.equal(Task.current(), task);
      assert.equal(task.status, 'in_progress');

      const params = { lr: 0.1, epochs: 3, optimizer: { name: 'sgd' } };
      const got = await task.connect(params);
      assert.equal(got, params, 'the same object, filled in place');
      assert.deepEqual(params, { lr: 0.05, epochs: 3, optimizer: { name: 'adam' } });
      assert.equal(typeof params.lr, 'number');

      const config: Record<string, unknown> = { model: { depth: 18 }, dropout: 0.5 };
      assert.equal(await task.connectConfiguration(config), config);
      assert.deepEqual(config, { model: { depth: 34 }, dropout: 0.25 });
      const labels = { background: 0, cat: 1 };
      assert.deepEqual(await task.connectLabelEnumeration(labels), { background: 0, cat: 1, dog: 2 });
      assert.deepEqual(labels, { background: 0, cat: 1, dog: 2 });

      const input = await InputModel.get(backbone.id!, { session });
      await task.connect(input, 'backbone');
      assert.equal(input.id, better.id, 'the model selected on the task');
      assert.equal(input.name, 'resnet v2');
      const kept = await InputModel.get(backbone.id!, { session });
      await kept.connect(task, 'backbone', { ignoreRemoteOverrides: true });
      assert.equal(kept.id, backbone.id, 'the code asked for its own model');

      // Nothing was written over the stored values.
      assert.equal((await s.ok(T.get_by_id, { task: id })).task.hyperparams?.General?.lr?.value, '0.05');

      const implicit = new OutputModel({ task, name: 'from the task' });
      assert.deepEqual(implicit.labels, { background: 0, cat: 1, dog: 2 });
      assert.equal(implicit.configText, 'model {\n  depth = 34\n}\ndropout = 0.25');
      const explicit = new OutputModel({ task, configDict: config, labelEnumeration: labels, name: 'from the code' });
      assert.deepEqual(explicit.configDict, { model: { depth: 34 }, dropout: 0.25 });
      await explicit.updateWeights({ registerUri: 'https://example.com/weights/out.pt' });
      const stored = (await s.ok(operations.models.get_by_id, { model: explicit.id! })).model;
      assert.deepEqual(stored.labels, { background: 0, cat: 1, dog: 2 });
      assert.equal(stored.task, id);
      await task.close();
      assert.equal((await s.ok(T.get_by_id, { task: id })).task.status, 'completed');
    });

    it('ignoreRemoteOverrides (set by the code locally, or on the task) keeps the code values remotely', async () => {
      const original = await Task.init({ projectName: 'Remote', taskName: 'stubborn', session });
      await original.connect({ lr: 0.1 }, 'General', { ignoreRemoteOverrides: true });
      await original.connectConfiguration({ depth: 18 });
      await original.connectLabelEnumeration({ cat: 1 });
      await original.close();
      const { id } = await s.ok(T.clone, { task: original.id });
      await s.ok(T.edit_hyper_params, {
        task: id,
        hyperparams: [
          { section: 'General', name: 'lr', value: '0.5' },
          { section: 'General', name: '_ignore_remote_overrides_config_', value: 'true' },
        ],
      });
      await s.ok(T.edit_configuration, { task: id, configuration: [{ name: 'General', value: 'depth = 50' }] });
      await s.ok(T.edit, { task: id, execution: { model_labels: { dog: 2 } } });
      await runAsAgent(s, id);

      process.env[TASK_ID_ENV] = id;
      const task = await Task.init({ projectName: 'x', taskName: 'y', session });
      assert.deepEqual(await task.connect({ lr: 0.1 }), { lr: 0.1 }, 'the flag stored locally');
      assert.deepEqual(await task.connectConfiguration({ depth: 18 }), { depth: 18 }, 'the flag set on the task');
      assert.deepEqual(await task.connectLabelEnumeration({ cat: 1 }), { dog: 2 }, 'no flag for the labels');
      assert.deepEqual(await task.connectLabelEnumeration({ cat: 1 }, { ignoreRemoteOverrides: true }), { cat: 1 }, 'the code asked to ignore');
      await task.close();
    });

    it('attaching to a created task starts it; a task that cannot run is an error that names it', async () => {
      const { id } = await s.ok(T.create, { name: 'never queued', type: 'training' });
      process.env[TASK_ID_ENV] = id;
      const task = await Task.init({ projectName: 'x', taskName: 'y', session });
      assert.equal(task.status, 'in_progress');
      assert.equal((await s.ok(T.get_by_id, { task: id })).task.status, 'in_progress');
      await task.close();
      await s.ok(T.publish, { task: id });
      await assert.rejects(Task.init({ projectName: 'x', taskName: 'y', session }), (err) => err instanceof UsageError && err.message.includes(id) && /published/.test(err.message));
    });
  });
}
