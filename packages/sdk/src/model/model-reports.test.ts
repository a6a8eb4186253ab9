import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { events, operations } from '@cairn/protocol';
import { startTestServer, testDialects, type TestServer } from '@cairn/server/test-harness';
import { testSession, type Recorder } from '../../test/helpers.js';
import { Task } from '../task.js';
import type { Session } from '../session.js';
import { OutputModel } from './output-model.js';
import { Model } from './model.js';
import { ReportingError } from '../reporting/errors.js';

for (const dialect of testDialects()) {
  describe(`reports on models and tasks (${dialect})`, () => {
    let s: TestServer;
    let session: Session;
    let recorder: Recorder;
    before(async () => {
      s = await startTestServer({ dialect });
      ({ session, recorder } = testSession(s));
    });
    after(() => s.stop());

    it('decision 10: the first report on a new model creates it and registers it on its task; reports are model events', async () => {
      const task = await Task.init({ projectName: 'Reports', taskName: 'report', session });
      const m = new OutputModel({ task, name: 'reported' });
      recorder.clear();
      assert.equal(m.reportScalar('loss', 'train', 0.5, 1), undefined, 'a report only queues');
      m.reportSingleValue('accuracy', 0.91);
      m.reportHistogram('hist', 'h1', [1, 5, 3], { xlabels: ['a', 'b', 'c'] });
      assert.deepEqual(recorder.endpoints(), [], 'no request per report');
      assert.equal(m.id, undefined);
      await m.flushReports();
      assert.ok(m.id);
      assert.deepEqual(recorder.endpoints().slice(0, 2), ['models.create', 'tasks.add_or_update_model']);
      const batch = recorder.bodies('events.add_batch')[0].lines as Record<string, unknown>[];
      assert.deepEqual(batch.map((e) => [e.type, e.task, e.model_event]), [
        ['training_stats_scalar', m.id, true],
        ['training_stats_scalar', m.id, true],
        ['plot', m.id, true],
      ]);
      const scalars = await s.ok(events.scalar_metrics_iter_histogram, { task: m.id as string, model_events: true });
      assert.deepEqual((scalars as Record<string, Record<string, { y: number[] }>>).loss.train.y, [0.5]);
      const single = await s.ok(events.get_task_single_value_metrics, { tasks: [m.id as string], model_events: true });
      assert.equal(single.tasks[0].values[0].value, 0.91);
      assert.deepEqual(task.models.output.names, ['reported']);
      const loaded = await Model.get(m.id as string, { session });
      loaded.reportScalar('loss', 'eval', 0.7, 2);
      await loaded.flushReports();
      const both = await s.ok(events.scalar_metrics_iter_histogram, { task: m.id as string, model_events: true });
      assert.deepEqual(Object.keys((both as Record<string, object>).loss).sort(), ['eval', 'train']);
      await task.close();
    });

    it('the task’s logger reports on the task; publish() stores earlier reports first; a refused report fails close()', async () => {
      const task = await Task.init({ projectName: 'Reports', taskName: 'locked', session });
      task.getLogger().reportScalar('lr', 'sched', 0.1, 0);
      const m = new OutputModel({ task });
      m.reportScalar('loss', 'train', 1, 0);
      await m.publish();
      const stored = await s.ok(events.scalar_metrics_iter_histogram, { task: m.id as string, model_events: true });
      assert.ok((stored as Record<string, unknown>).loss, 'reported before publish: stored before the model was locked');
      const taskScalars = await s.ok(events.scalar_metrics_iter_histogram, { task: task.id });
      assert.ok((taskScalars as Record<string, unknown>).lr, 'the logger reports on the task');
      m.reportScalar('loss', 'train', 2, 1);
      await assert.rejects(task.close(), (e: unknown) => e instanceof ReportingError && e.message.includes(m.id as string));
      assert.equal((await s.ok(operations.tasks.get_by_id, { task: task.id })).task.status, 'failed');
    });
  });
}
