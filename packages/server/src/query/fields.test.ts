/**
 * Every filter field clearml-api.md §4.1 lists for models, tasks and projects selects by its own value: two
 * entities differ in every field, and a filter on each field finds exactly the first one. (The filter kinds
 * themselves, operators and errors, are tested in query.test.ts.)
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { operations } from '@cairn/protocol';
import { startTestServer, testDialects, type TestServer } from '../../test/harness.js';

const { models, tasks, projects } = operations;
const EARLY = '2025-01-10T00:00:00.000+00:00';
const LATE = '2025-06-10T00:00:00.000+00:00';
const BETWEEN = '2025-03-01T00:00:00';
const metrics = (value: number) => JSON.stringify({ m: { v: { metric: 'loss', variant: 'total', value } } });

for (const dialect of testDialects()) {
  describe(`every §4.1 filter field selects by its value (${dialect})`, () => {
    let s: TestServer;
    const a: Record<string, string> = {};
    const b: Record<string, string> = {};

    before(async () => {
      s = await startTestServer({ dialect });
      const other = await s.createUser({ name: 'other user' });
      const db = s.server.services.db.kysely;
      a.project = (await s.ok(projects.create, { name: 'Alpha', description: 'first team', tags: ['pa'], system_tags: ['spa'] })).id;
      b.project = (await s.ok(projects.create, { name: 'Beta', description: 'second team' }, { token: other.token })).id;
      a.child = (await s.ok(projects.create, { name: 'Alpha/Child' })).id;
      b.child = (await s.ok(projects.create, { name: 'Beta/Child' })).id;

      a.queue = (await s.ok(operations.queues.create, { name: 'gpu' })).id;
      b.queue = (await s.ok(operations.queues.create, { name: 'cpu' })).id;
      b.task = (await s.ok(tasks.create, { name: 'beta run', type: 'testing', comment: 'second', project: b.project, tags: ['tb'] }, { token: other.token })).id;
      a.model = (await s.ok(models.create, { name: 'alpha model', uri: 'http://store/a.bin', comment: 'first', tags: ['ma'], system_tags: ['sma'], framework: 'PyTorch', ready: true, project: a.project, metadata: { acc: { type: 'float', value: '0.9' } } })).id;
      b.model = (await s.ok(models.create, { name: 'beta model', uri: 'http://store/b.bin', comment: 'second', framework: 'Keras', ready: false, project: b.project, metadata: { acc: { type: 'float', value: '0.5' } } }, { token: other.token })).id;
      a.task = (await s.ok(tasks.create, {
        name: 'alpha run',
        type: 'training',
        comment: 'first',
        report: '# First run\nConverged.',
        project: a.project,
        parent: b.task,
        tags: ['ta'],
        system_tags: ['sta'],
        hyperparams: { Args: { lr: { section: 'Args', name: 'lr', value: '0.01' } } },
        runtime: { gpus: 2 },
        models: { input: [{ name: 'base', model: a.model }] },
        execution: { queue: a.queue },
      })).id;
      await s.ok(tasks.edit, { task: b.task, execution: { queue: b.queue }, hyperparams: { Args: { lr: { section: 'Args', name: 'lr', value: '0.1' } } }, runtime: { gpus: 1 } }, { token: other.token });
      await s.ok(models.edit, { model: a.model, task: a.task, parent: b.model });

      // Times, durations and metric summaries as runs leave them.
      for (const [ids, when, value, iteration] of [[a, LATE, 0.25, 7], [b, EARLY, 0.75, 3]] as const) {
        await db.updateTable('models').set({ created: when, last_update: when, last_change: when, last_metrics: metrics(value), last_iteration: iteration }).where('id', '=', ids.model!).execute();
        await db
          .updateTable('tasks')
          .set({ created: when, started: when, status_changed: when, last_update: when, last_change: when, active_duration: iteration * 100, last_metrics: metrics(value), last_iteration: iteration, status: ids === a ? 'in_progress' : 'created' })
          .where('id', '=', ids.task!)
          .execute();
      }
      // Last: creating tasks and models touches their projects.
      await db.updateTable('projects').set({ last_update: LATE }).where('id', 'in', [a.project, a.child]).execute();
      await db.updateTable('projects').set({ last_update: EARLY }).where('id', 'in', [b.project, b.child]).execute();
    });
    after(() => s.stop());

    const late = [BETWEEN, null];

    it('models: every pattern, list, range, datetime and equality field', async () => {
      const ids = async (body: Record<string, unknown>) => (await s.ok(models.get_all, { ...body, only_fields: ['id'] } as never)).models.map((m) => m.id).sort();
      const filters: Record<string, unknown> = {
        name: '^alpha',
        comment: '^first$',
        tags: ['ma'],
        system_tags: ['sma'],
        framework: ['PyTorch'],
        uri: ['http://store/a.bin'],
        id: [a.model],
        user: [(await s.ok(models.get_by_id, { model: a.model })).model.user as string],
        project: [a.project],
        task: [a.task],
        parent: [b.model],
        'metadata.acc.value': ['0.9'],
        created: late,
        'last_metrics.m.v.value': [0, 0.5],
        last_iteration: [5, null],
        last_update: `>${BETWEEN}`,
        last_change: `>${BETWEEN}`,
        ready: true,
      };
      for (const [field, value] of Object.entries(filters)) assert.deepEqual(await ids({ [field]: value, id: field === 'id' ? value : [a.model, b.model] }), [a.model], field);
    });

    it('tasks: every pattern, list, range, datetime and equality field', async () => {
      const ids = async (body: Record<string, unknown>) => (await s.ok(tasks.get_all, { ...body, only_fields: ['id'] } as never)).tasks.map((t) => t.id).sort();
      const filters: Record<string, unknown> = {
        name: '^alpha',
        comment: '^first$',
        report: '^# First',
        id: [a.task],
        user: [(await s.ok(tasks.get_by_id, { task: a.task })).task.user as string],
        tags: ['ta'],
        system_tags: ['sta'],
        type: ['training'],
        status: ['in_progress'],
        project: [a.project],
        parent: [b.task],
        'hyperparams.Args.lr.value': ['0.01'],
        'execution.queue': [a.queue],
        'models.input.model': [a.model],
        created: late,
        started: late,
        active_duration: [500, null],
        'last_metrics.m.v.value': [0, 0.5],
        last_iteration: [5, null],
        status_changed: `>${BETWEEN}`,
        last_update: `>${BETWEEN}`,
        last_change: `>${BETWEEN}`,
        'runtime.gpus': 2,
      };
      for (const [field, value] of Object.entries(filters)) assert.deepEqual(await ids({ [field]: value, id: field === 'id' ? value : [a.task, b.task] }), [a.task], field);
      assert.equal((await s.ok(tasks.get_by_id, { task: a.task })).task.report, '# First run\nConverged.', 'the report is stored and returned');
    });

    it('projects: every pattern, list and range field', async () => {
      const ids = async (body: Record<string, unknown>) => (await s.ok(projects.get_all, { ...body, only_fields: ['id'] } as never)).projects.map((p) => p.id).sort();
      const filters: Record<string, unknown> = {
        name: '^Alpha$',
        basename: '^Alpha$',
        description: '^first',
        tags: ['pa'],
        system_tags: ['spa'],
        id: [a.project],
        parent: [a.project],
        path: [a.project],
        last_update: late,
      };
      const expected: Record<string, string[]> = { parent: [a.child!], path: [a.child!] };
      const both = [a.project!, b.project!, a.child!, b.child!];
      for (const [field, value] of Object.entries(filters)) {
        const want = expected[field] ?? (field === 'last_update' ? [a.project!, a.child!].sort() : [a.project!]);
        assert.deepEqual(await ids({ [field]: value, id: field === 'id' ? value : both }), want, field);
      }
    });
  });
}
