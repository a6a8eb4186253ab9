import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { operations } from '@cairn/protocol';
import { startTestServer, testDialects, type TestServer } from '../../../test/harness.js';
import { fromJson } from '../../util/json.js';
import { newTask, taskRow } from './test-support.js';

const T = operations.tasks;
/** Keys that must be escaped to be stored (clearml-api.md §7 item 7), with their stored form. */
const AWKWARD_KEYS: [string, string][] = [
  ['lr.decay', 'lr%2Edecay'],
  ['$price', '%24price'],
  ['a__b', 'a%_%_b'],
  ['_private', '%_private'],
  ['100%', '100%%'],
];

for (const dialect of testDialects()) {
  describe(`task configuration, hyperparameters, artifacts and model entries (${dialect})`, () => {
    let s: TestServer;
    let now = Date.parse('2026-05-01T08:00:00Z');
    const iso = () => new Date(now).toISOString().replace('Z', '000+00:00');
    before(async () => {
      s = await startTestServer({ dialect, clock: { now: () => now } });
    });
    after(() => s.stop());

    const subcodeOf = async (endpoint: string, body: unknown) => {
      const res = await s.call(endpoint, body);
      return [res.status, res.meta.result_subcode];
    };

    it('edit_configuration upserts items, or replaces them all; status created, or in_progress with force', async () => {
      const id = await newTask(s);
      await s.ok(T.edit_configuration, { task: id, configuration: [{ name: 'General', value: 'a=1', type: 'hocon', description: 'main' }, { name: 'Other', value: 'b' }] });
      await s.ok(T.edit_configuration, { task: id, configuration: [{ name: 'General', value: 'a=2' }] });
      let conf = (await s.ok(T.get_configurations, { tasks: [id] })).configurations[0]!;
      assert.deepEqual(conf.configuration.map((c) => [c.name, c.value]), [['General', 'a=2'], ['Other', 'b']]);
      await s.ok(T.edit_configuration, { task: id, configuration: [{ name: 'Only', value: 'x' }], replace_configuration: true });
      conf = (await s.ok(T.get_configurations, { tasks: [id] })).configurations[0]!;
      assert.deepEqual(conf.configuration.map((c) => c.name), ['Only']);

      await s.ok(T.started, { task: id });
      assert.deepEqual(await subcodeOf('tasks.edit_configuration', { task: id, configuration: [{ name: 'x', value: 'y' }] }), [400, 110]);
      await s.ok(T.edit_configuration, { task: id, force: true, configuration: [{ name: 'x', value: 'y' }] });
      await s.ok(T.completed, { task: id });
      assert.deepEqual(await subcodeOf('tasks.edit_configuration', { task: id, force: true, configuration: [{ name: 'x', value: 'z' }] }), [400, 110]);
      assert.deepEqual(await subcodeOf('tasks.delete_configuration', { task: id, force: true, configuration: ['x'] }), [400, 110]);
    });

    it('get_configurations sorts by name and filters by names; get_configuration_names skips empty values', async () => {
      const a = await newTask(s);
      const b = await newTask(s);
      const empty = await newTask(s);
      await s.ok(T.edit_configuration, { task: a, configuration: [{ name: 'zeta', value: 'z' }, { name: 'Alpha', value: 'a' }, { name: 'blank', value: '' }] });
      await s.ok(T.edit_configuration, { task: b, configuration: [{ name: 'one', value: '1' }] });
      const all = await s.ok(T.get_configurations, { tasks: [a, b] });
      assert.deepEqual(all.configurations.map((c) => [c.task, c.configuration.map((i) => i.name)]), [[a, ['Alpha', 'blank', 'zeta']], [b, ['one']]]);
      const some = await s.ok(T.get_configurations, { tasks: [a], names: ['zeta'] });
      assert.deepEqual(some.configurations[0]!.configuration, [{ name: 'zeta', value: 'z' }]);
      const names = await s.ok(T.get_configuration_names, { tasks: [a, b, empty] });
      assert.deepEqual(names.configurations, [{ task: a, names: ['Alpha', 'zeta'] }, { task: b, names: ['one'] }]);
      const withEmpty = await s.ok(T.get_configuration_names, { tasks: [a], skip_empty: false });
      assert.deepEqual(withEmpty.configurations[0]!.names, ['Alpha', 'blank', 'zeta']);
      assert.deepEqual(await subcodeOf('tasks.get_configurations', { tasks: [a, 'f'.repeat(32)] }), [400, 101]);
      const deleted = await s.ok(T.delete_configuration, { task: a, configuration: ['zeta', 'blank', 'absent'] });
      assert.equal(deleted.deleted, 1);
      assert.deepEqual((await s.ok(T.get_configuration_names, { tasks: [a] })).configurations[0]!.names, ['Alpha']);
    });

    it('stores configuration, hyperparameter, label and container keys escaped and returns them as written', async () => {
      const id = await newTask(s);
      await s.ok(T.edit_configuration, { task: id, configuration: AWKWARD_KEYS.map(([k]) => ({ name: k, value: k })) });
      await s.ok(T.edit_hyper_params, { task: id, hyperparams: AWKWARD_KEYS.map(([k]) => ({ section: k, name: k, value: k })) });
      await s.ok(T.edit, {
        task: id,
        execution: { model_labels: Object.fromEntries(AWKWARD_KEYS.map(([k], i) => [k, i])) },
        container: Object.fromEntries(AWKWARD_KEYS.map(([k]) => [k, k])),
      });
      const row = await taskRow(s, id);
      const stored = AWKWARD_KEYS.map(([, e]) => e).sort();
      assert.deepEqual(Object.keys(fromJson<object>(row.configuration, {})).sort(), stored);
      const hp = fromJson<Record<string, object>>(row.hyperparams, {});
      assert.deepEqual(Object.keys(hp).sort(), stored);
      assert.deepEqual(Object.keys(hp['lr%2Edecay']!), ['lr%2Edecay']);
      assert.deepEqual(Object.keys(fromJson<{ model_labels: object }>(row.execution, { model_labels: {} }).model_labels).sort(), stored);
      assert.deepEqual(Object.keys(fromJson<object>(row.container, {})).sort(), stored);

      const keys = AWKWARD_KEYS.map(([k]) => k).sort();
      const task = (await s.ok(T.get_by_id, { task: id })).task;
      assert.deepEqual(Object.keys(task.configuration ?? {}).sort(), keys);
      assert.equal(task.configuration?.['lr.decay']?.name, 'lr.decay');
      assert.deepEqual(Object.keys(task.hyperparams ?? {}).sort(), keys);
      assert.deepEqual(task.hyperparams?.['a__b']?.['a__b'], { section: 'a__b', name: 'a__b', value: 'a__b' });
      assert.deepEqual(Object.keys(task.execution?.model_labels ?? {}).sort(), keys);
      assert.deepEqual(Object.keys(task.container ?? {}).sort(), keys);
      const names = await s.ok(T.get_configuration_names, { tasks: [id] });
      assert.deepEqual(names.configurations[0]!.names, keys);
      const one = await s.ok(T.get_configurations, { tasks: [id], names: ['$price'] });
      assert.deepEqual(one.configurations[0]!.configuration.map((c) => c.name), ['$price']);
      await s.ok(T.delete_configuration, { task: id, configuration: ['100%'] });
      assert.ok(!('100%' in ((await s.ok(T.get_by_id, { task: id })).task.configuration ?? {})));
      assert.deepEqual(await subcodeOf('tasks.edit_configuration', { task: id, configuration: [{ name: '', value: 'x' }] }), [400, 12]);
    });

    it('edit_hyper_params upserts, replaces sections or everything; get_hyper_params sorts by section and name', async () => {
      const id = await newTask(s);
      await s.ok(T.edit_hyper_params, {
        task: id,
        hyperparams: [
          { section: 'Args', name: 'lr', value: '0.1', type: 'float' },
          { section: 'Args', name: 'epochs', value: '10' },
          { section: 'General', name: 'seed', value: '1' },
        ],
      });
      await s.ok(T.edit_hyper_params, { task: id, hyperparams: [{ section: 'Args', name: 'lr', value: '0.2' }] });
      const list = async () => (await s.ok(T.get_hyper_params, { tasks: [id] })).params[0]!.hyperparams.map((p) => `${p.section}/${p.name}=${p.value}`);
      assert.deepEqual(await list(), ['Args/epochs=10', 'Args/lr=0.2', 'General/seed=1']);
      await s.ok(T.edit_hyper_params, { task: id, hyperparams: [{ section: 'Args', name: 'batch', value: '32' }], replace_hyperparams: 'section' });
      assert.deepEqual(await list(), ['Args/batch=32', 'General/seed=1']);
      await s.ok(T.edit_hyper_params, { task: id, hyperparams: [{ section: 'New', name: 'x', value: '1' }], replace_hyperparams: 'all' });
      assert.deepEqual(await list(), ['New/x=1']);
      const meta = await s.fails(T.edit_hyper_params, { task: id, hyperparams: [{ section: 'New', name: 'x', value: '1' }], replace_hyperparams: 'some' });
      assert.deepEqual([meta.result_code, meta.result_subcode], [400, 12]);
    });

    it('the properties section can be edited in any status; other sections cannot', async () => {
      const id = await newTask(s);
      await s.ok(T.completed, { task: id, force: true });
      await s.ok(T.edit_hyper_params, { task: id, hyperparams: [{ section: 'Properties', name: 'owner', value: 'me' }] });
      const params = (await s.ok(T.get_hyper_params, { tasks: [id] })).params[0]!.hyperparams;
      assert.deepEqual(params.map((p) => [p.section, p.name, p.value]), [['properties', 'owner', 'me']]);
      assert.deepEqual(await subcodeOf('tasks.edit_hyper_params', { task: id, hyperparams: [{ section: 'Args', name: 'lr', value: '1' }] }), [400, 110]);
      assert.deepEqual(
        await subcodeOf('tasks.edit_hyper_params', { task: id, hyperparams: [{ section: 'properties', name: 'a', value: '1' }, { section: 'Args', name: 'lr', value: '1' }] }),
        [400, 110],
      );
      await s.ok(T.delete_hyper_params, { task: id, hyperparams: [{ section: 'properties', name: 'owner' }] });
      assert.deepEqual((await s.ok(T.get_hyper_params, { tasks: [id] })).params[0]!.hyperparams, []);
    });

    it('delete_hyper_params removes single parameters or whole sections, refusing both at once (400/15)', async () => {
      const id = await newTask(s);
      await s.ok(T.edit_hyper_params, {
        task: id,
        hyperparams: [
          { section: 'A', name: 'x', value: '1' },
          { section: 'A', name: 'y', value: '2' },
          { section: 'B', name: 'z', value: '3' },
        ],
      });
      const conflict = await s.fails(T.delete_hyper_params, { task: id, hyperparams: [{ section: 'B' }, { section: 'B', name: 'z' }] });
      assert.deepEqual([conflict.result_code, conflict.result_subcode], [400, 15]);
      const res = await s.ok(T.delete_hyper_params, { task: id, hyperparams: [{ section: 'A', name: 'x' }, { section: 'B' }] });
      assert.equal(res.deleted, 1);
      const task = (await s.ok(T.get_by_id, { task: id })).task;
      assert.deepEqual(task.hyperparams, { A: { y: { section: 'A', name: 'y', value: '2' } } });
    });

    it('add_or_update_artifacts stores a map keyed md5(key)_mode and returns a list sorted by key', async () => {
      const id = await newTask(s);
      await s.ok(T.started, { task: id });
      await s.ok(T.add_or_update_artifacts, {
        task: id,
        artifacts: [
          { key: 'zz', type: 'pandas', uri: 'http://files/zz.csv', content_size: 10, display_data: [['a', 1]], type_data: { preview: 'p', content_type: 'text/csv' } },
          { key: 'aa', type: 'image', mode: 'input', uri: 'http://files/aa.png' },
        ],
      });
      await s.ok(T.add_or_update_artifacts, { task: id, artifacts: [{ key: 'zz', type: 'pandas', uri: 'http://files/zz-v2.csv' }, { key: 'aa', type: 'image', uri: 'http://files/out.png' }] });
      const row = await taskRow(s, id);
      const md5 = (text: string) => createHash('md5').update(text).digest('hex');
      const stored = fromJson<{ artifacts: Record<string, { uri: string }> }>(row.execution, { artifacts: {} }).artifacts;
      assert.deepEqual(Object.keys(stored).sort(), [`${md5('aa')}_input`, `${md5('aa')}_output`, `${md5('zz')}_output`].sort());
      assert.equal(stored[`${md5('zz')}_output`]!.uri, 'http://files/zz-v2.csv');
      const artifacts = (await s.ok(T.get_by_id, { task: id })).task.execution?.artifacts as { key: string; mode: string; uri: string }[];
      assert.deepEqual(artifacts.map((a) => [a.key, a.mode, a.uri]), [
        ['aa', 'input', 'http://files/aa.png'],
        ['aa', 'output', 'http://files/out.png'],
        ['zz', 'output', 'http://files/zz-v2.csv'],
      ]);
      await s.ok(T.completed, { task: id });
      assert.deepEqual(await subcodeOf('tasks.add_or_update_artifacts', { task: id, artifacts: [{ key: 'k', type: 't' }] }), [400, 110]);
      assert.deepEqual(await subcodeOf('tasks.add_or_update_artifacts', { task: id, artifacts: [{ key: 'k' }] }), [400, 12]);
    });

    it('add_or_update_model upserts entries by name, raises last_iteration; delete_models removes them', async () => {
      const id = await newTask(s);
      await s.ok(T.add_or_update_model, { task: id, name: 'weights_v1', model: 'm1', type: 'output', iteration: 5 });
      now += 1000;
      await s.ok(T.add_or_update_model, { task: id, name: 'weights_v2', model: 'm1', type: 'output', iteration: 3 });
      await s.ok(T.add_or_update_model, { task: id, name: 'weights_v1', model: 'm2', type: 'output' });
      await s.ok(T.add_or_update_model, { task: id, name: 'base', model: 'm0', type: 'input' });
      let task = (await s.ok(T.get_by_id, { task: id })).task;
      assert.deepEqual(task.models?.output, [
        { name: 'weights_v1', model: 'm2', updated: iso() },
        { name: 'weights_v2', model: 'm1', updated: iso() },
      ]);
      assert.deepEqual(task.models?.input?.map((m) => m.model), ['m0']);
      assert.equal(task.last_iteration, 5);
      assert.equal(task.last_update, iso());

      const res = await s.ok(T.delete_models, { task: id, models: [{ name: 'weights_v1', type: 'output' }, { name: 'base', type: 'output' }] });
      assert.equal(res.updated, 1);
      task = (await s.ok(T.get_by_id, { task: id })).task;
      assert.deepEqual(task.models?.output?.map((m) => m.name), ['weights_v2']);
      assert.deepEqual(task.models?.input?.map((m) => m.name), ['base'], 'only the output entry of that name goes');

      await s.ok(T.started, { task: id });
      await s.ok(T.add_or_update_model, { task: id, name: 'running', model: 'm3', type: 'output' });
      await s.ok(T.stopped, { task: id });
      const refused = await s.fails(T.add_or_update_model, { task: id, name: 'late', model: 'm4', type: 'output' });
      assert.deepEqual([refused.result_code, refused.result_subcode], [400, 110]);
      assert.match(refused.result_msg, /expected=created/);
      assert.deepEqual(await subcodeOf('tasks.delete_models', { task: id, models: [{ name: 'running', type: 'output' }] }), [400, 110]);
      assert.deepEqual(await subcodeOf('tasks.add_or_update_model', { task: id, name: 'x', model: 'y', type: 'both' }), [400, 12]);
    });
  });
}
