import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { operations } from '@cairn/protocol';
import { startTestServer, testDialects, type TestServer } from '@cairn/server/test-harness';
import { scratchDir, testSession, type Recorder } from '../test/helpers.js';
import { Task } from './task.js';
import type { Session } from './session.js';
import { OutputModel } from './model/output-model.js';
import { UsageError } from './errors.js';


for (const dialect of testDialects()) {
  describe(`Task against the real server (${dialect})`, () => {
    let s: TestServer;
    let session: Session;
    let recorder: Recorder;

    before(async () => {
      s = await startTestServer({ dialect });
      ({ session, recorder } = testSession(s));
    });
    after(() => s.stop());

    it('init creates the project (once) and the task like the Python client, starts it and makes it current', async () => {
      recorder.clear();
      const task = await Task.init({ projectName: 'Vision (v2)', taskName: 'train', session });
      assert.deepEqual(recorder.endpoints(), ['projects.get_all', 'projects.create', 'tasks.create', 'tasks.started', 'tasks.get_by_id', 'projects.get_by_id']);
      assert.equal(recorder.bodies('projects.get_all')[0].name, '^Vision \\(v2\\)$');
      const create = recorder.bodies('tasks.create')[0];
      assert.deepEqual(create.system_tags, ['development']);
      assert.equal(create.type, 'training');
      assert.match(String(create.comment), /^Auto-generated at .* by .*@/);
      assert.equal(Task.current(), task);
      assert.equal(task.status, 'in_progress');
      assert.equal(task.name, 'train');
      const stored = (await s.ok(operations.tasks.get_by_id, { task: task.id })).task;
      assert.equal(stored.status, 'in_progress');
      assert.deepEqual(stored.system_tags, ['development']);
      assert.equal(stored.project, task.project);
      recorder.clear();
      const second = await Task.init({ projectName: 'Vision (v2)', taskName: 'train', session, taskType: 'testing' });
      assert.ok(!recorder.endpoints().includes('projects.create'), 'an existing project is reused');
      assert.equal(second.project, task.project);
      assert.notEqual(second.id, task.id);
      assert.equal(Task.current(), second);
      await second.close();
      assert.equal(Task.current(), undefined);
      await task.close();
    });

    it('outputUri: a checked URI, true for the file server, false for none; an unwritable folder is refused', async () => {
      const out = scratchDir('task-out');
      const task = await Task.init({ projectName: 'Out', taskName: 'dest', session, outputUri: `${out}/` });
      assert.equal(task.outputUri, `file://${out}`);
      assert.equal((await s.ok(operations.tasks.get_by_id, { task: task.id })).task.output?.destination, `file://${out}`);
      await task.setOutputUri(true);
      assert.equal(task.outputUri, s.filesUrl);
      await task.setOutputUri(false);
      assert.equal(task.outputUri, undefined);
      const blocker = path.join(out, 'file');
      writeFileSync(blocker, 'x');
      await assert.rejects(task.setOutputUri(`file://${blocker}/sub`), (e: unknown) => e instanceof UsageError && e.message.startsWith(`Insufficient permissions (write failed) for file://${blocker}/sub`));
      await assert.rejects(Task.init({ projectName: 'Out', taskName: 'bad', session, outputUri: `file://${blocker}/x` }), UsageError);
      const projectDefault = (await s.ok(operations.projects.create, { name: 'Defaulted', default_output_destination: `file://${out}/proj-default` })).id;
      const byProject = await Task.init({ projectName: 'Defaulted', taskName: 'defaulted', session });
      assert.equal(byProject.project, projectDefault);
      assert.equal(byProject.outputUri, `file://${out}/proj-default`, 'no outputUri: the project’s default destination');
      await byProject.close();
      await task.close();
    });

    it('getTask by id and by project and name; models listed by entry name after a reload', async () => {
      const task = await Task.init({ projectName: 'Lookup', taskName: 'finder', session, outputUri: `file://${scratchDir('lookup')}` });
      const a = new OutputModel({ task, name: 'model-a' });
      await a.connect(task, 'alpha');
      await a.updateWeights({ registerUri: 'file:///w/a.pt' });
      const b = new OutputModel({ task, name: 'model-b' });
      await b.updateWeights({ registerUri: 'file:///w/best.pt' });
      assert.deepEqual(task.models.output.names.sort(), ['alpha', 'best']);
      assert.equal(task.models.output.get('alpha'), a, 'the live objects of this process');
      assert.equal((task.models.output as unknown as Record<string, OutputModel>).best, b, 'entries can be read as properties too');
      const byId = await Task.getTask({ taskId: task.id }, { session });
      assert.equal(byId.name, 'finder');
      assert.deepEqual(byId.models.output.names.sort(), ['alpha', 'best']);
      assert.equal(byId.models.output.get('best')?.name, 'model-b');
      assert.equal(byId.models.output.length, 2);
      const byName = await Task.getTask({ projectName: 'Lookup', taskName: 'finder' }, { session });
      assert.equal(byName.id, task.id);
      await assert.rejects(Task.getTask({ projectName: 'Lookup', taskName: 'nobody' }, { session }), UsageError);
      await task.close();
    });

    it('model configuration and labels live on the task', async () => {
      const task = await Task.init({ projectName: 'Config', taskName: 'cfg', session });
      assert.equal(task.getModelConfigText(), '');
      assert.deepEqual(task.getModelConfigDict(), {});
      await task.setModelConfig({ configDict: { net: { depth: 18 }, lr: 0.01 } });
      assert.equal(task.getModelConfigText(), 'net {\n  depth = 18\n}\nlr = 0.01');
      assert.deepEqual(task.getModelConfigDict(), { net: { depth: 18 }, lr: 0.01 });
      await task.setModelLabelEnumeration({ bg: 0, person: 1 });
      assert.deepEqual(task.getLabelsEnumeration(), { bg: 0, person: 1 });
      await assert.rejects(task.setModelLabelEnumeration({ a: 'x' } as never), (e: unknown) => e instanceof UsageError && e.message === 'Expected label to be a dict[str => int]');
      const fresh = await Task.getTask({ taskId: task.id }, { session });
      assert.equal(fresh.getModelConfigText(), 'net {\n  depth = 18\n}\nlr = 0.01');
      assert.deepEqual(fresh.getLabelsEnumeration(), { bg: 0, person: 1 });
      const stored = (await s.ok(operations.tasks.get_by_id, { task: task.id })).task;
      assert.equal(stored.configuration?.General?.value, 'net {\n  depth = 18\n}\nlr = 0.01');
      await task.close();
    });

    it('close marks completed (as the Python client does); markFailed marks failed; both after the task’s uploads', async () => {
      const task = await Task.init({ projectName: 'Ends', taskName: 'fine', session });
      const m = new OutputModel({ task });
      const dir = scratchDir('ends');
      const file = path.join(dir, 'w.pt');
      writeFileSync(file, 'w');
      await m.updateWeights({ weightsFilename: file });
      recorder.clear();
      await task.close();
      assert.equal(task.status, 'completed');
      assert.ok(m.url, 'close waited for the upload');
      assert.deepEqual(recorder.bodies('tasks.completed')[0], { task: task.id, force: false, status_reason: 'completed', publish: false });
      await task.close();
      assert.equal(task.status, 'completed', 'closing twice changes nothing');
      const bad = await Task.init({ projectName: 'Ends', taskName: 'bad', session });
      await bad.markFailed('diverged');
      assert.equal(bad.status, 'failed');
      assert.equal((await s.ok(operations.tasks.get_by_id, { task: bad.id })).task.status_reason, 'diverged');
      await bad.close();
      assert.equal(bad.status, 'failed', 'a failed task stays failed');
    });
  });
}
