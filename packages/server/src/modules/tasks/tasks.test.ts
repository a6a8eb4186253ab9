import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { operations } from '@cairn/protocol';
import { startTestServer, testDialects, type TestServer } from '../../../test/harness.js';
import { newModel, newProject, newTask } from './test-support.js';

const T = operations.tasks;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/;

for (const dialect of testDialects()) {
  describe(`tasks create, edit, update, read (${dialect})`, () => {
    let s: TestServer;
    let now = Date.parse('2026-04-01T08:00:00Z');
    const iso = () => new Date(now).toISOString().replace('Z', '000+00:00');
    before(async () => {
      s = await startTestServer({ dialect, clock: { now: () => now } });
    });
    after(() => s.stop());

    it('creates a task in status created with the shape the Python SDK reads', async () => {
      const project = await newProject(s, 'create project');
      const { id } = await s.ok(T.create, {
        name: 'outputmodel-workflow',
        type: 'training',
        system_tags: ['development'],
        comment: 'Auto-generated',
        project,
      });
      assert.match(id, /^[0-9a-f]{32}$/);
      const task = (await s.ok(T.get_by_id, { task: id })).task;
      assert.equal(task.status, 'created');
      assert.equal(task.status_reason, '');
      assert.equal(task.status_message, '');
      assert.equal(task.name, 'outputmodel-workflow');
      assert.equal(task.type, 'training');
      assert.equal(task.project, project);
      assert.equal(task.comment, 'Auto-generated');
      assert.deepEqual(task.system_tags, ['development']);
      assert.deepEqual(task.tags, []);
      assert.deepEqual(task.execution, { parameters: {}, model_labels: {}, artifacts: [] });
      assert.deepEqual(task.models, { input: [], output: [] });
      assert.deepEqual(task.output, { destination: null });
      for (const key of ['hyperparams', 'configuration', 'runtime', 'script', 'container', 'last_metrics'] as const) assert.deepEqual(task[key], {}, key);
      assert.equal(task.last_iteration, 0);
      assert.match(String(task.created), ISO);
      assert.equal(task.created, iso());
      assert.equal(task.user, (await s.ok(operations.users.get_current_user, {})).user.id);
    });

    it('stores output_dest as output.destination, stamps model entries, sorts tags and strips script fields', async () => {
      const model = await newModel(s);
      const { id } = await s.ok(T.create, {
        name: 'with fields',
        type: 'inference',
        output_dest: 's3://bucket/out',
        tags: ['b', 'a', 'b'],
        models: { input: [{ name: 'base', model }], output: [{ name: 'out', model: 'not-checked-yet' }] },
        script: { repository: '  https://git/repo  ', entry_point: ' train.py ', diff: '  keep  ' },
      });
      const task = (await s.ok(T.get_by_id, { task: id })).task;
      assert.equal(task.output?.destination, 's3://bucket/out');
      assert.deepEqual(task.tags, ['a', 'b']);
      assert.deepEqual(task.models?.input, [{ name: 'base', model, updated: iso() }]);
      assert.deepEqual(task.models?.output, [{ name: 'out', model: 'not-checked-yet', updated: iso() }]);
      assert.deepEqual(task.script, { repository: 'https://git/repo', entry_point: 'train.py', diff: '  keep  ' });
    });

    it('validates create: type and name (400/800), tags (400/16), references (400/16, 400/201), shapes (400/12)', async () => {
      const expect = async (body: unknown, code: number, subcode: number, msg?: RegExp) => {
        const meta = await s.fails(T.create, body);
        assert.deepEqual([meta.result_code, meta.result_subcode], [code, subcode], `${JSON.stringify(body)}: ${meta.result_msg}`);
        if (msg) assert.match(meta.result_msg, msg);
      };
      await expect({ name: 'bad type', type: 'nonsense' }, 400, 800, /type/);
      await expect({ name: '  ab  ', type: 'training' }, 400, 800, /name/);
      await expect({ type: 'training' }, 400, 12, /name/);
      await expect({ name: 'no type' }, 400, 12, /type/);
      await expect({ name: 'bad tags', type: 'training', tags: 'x' }, 400, 12);
      await expect({ name: 'op tag', type: 'training', tags: ['__$all'] }, 400, 16, /unsupported tag prefix/);
      await expect({ name: 'no project', type: 'training', project: 'f'.repeat(32) }, 400, 16, /expecting Project id/);
      await expect({ name: 'no parent', type: 'training', parent: 'f'.repeat(32) }, 400, 16, /expecting Task id/);
      await expect({ name: 'no model', type: 'training', models: { input: [{ name: 'x', model: 'f'.repeat(32) }] } }, 400, 201);
      await expect({ name: 'bad hp', type: 'training', hyperparams: { s: { p: { value: 3 } } } }, 400, 12);
      await expect({ name: 'empty key', type: 'training', configuration: { '': { value: 'x' } } }, 400, 12);
      const other = await s.createUser({ newCompany: true });
      const theirProject = await newProject(s, 'their project', other.token);
      await expect({ name: 'their project', type: 'training', project: theirProject }, 400, 16);
      // A parent deleted with force is a placeholder; it is tolerated.
      const { id } = await s.ok(T.create, { name: 'orphan', type: 'training', parent: '__DELETED__abc' });
      assert.equal((await s.ok(T.get_by_id, { task: id })).task.parent, '__DELETED__abc');
    });

    it('edit needs status created unless forced (400/110 expected=created)', async () => {
      const id = await newTask(s);
      await s.ok(T.edit, { task: id, comment: 'while created' });
      await s.ok(T.started, { task: id });
      const meta = await s.fails(T.edit, { task: id, comment: 'while running' });
      assert.deepEqual([meta.result_code, meta.result_subcode], [400, 110]);
      assert.match(meta.result_msg, /expected=created/);
      assert.deepEqual(meta.error_data, { expected: 'created', status: 'in_progress' });
      const res = await s.ok(T.edit, { task: id, force: true, comment: 'forced' });
      assert.equal(res.updated, 1);
      assert.equal((await s.ok(T.get_by_id, { task: id })).task.comment, 'forced');
    });

    it('edit merges execution, script, output and models key by key and replaces the other fields', async () => {
      const first = await newModel(s);
      const second = await newModel(s);
      const id = await newTask(s, {
        execution: { framework: 'PyTorch', test_split: 3, model_labels: { cat: 1 } },
        script: { repository: 'r', branch: 'main' },
        output_dest: 'file:///out',
        models: { input: [{ name: 'in', model: first }], output: [{ name: 'out', model: 'x1' }] },
        runtime: { a: 1, b: 2 },
        hyperparams: { Args: { lr: { value: '0.1' } } },
      });
      now += 1000;
      const res = await s.ok(T.edit, {
        task: id,
        execution: { framework: 'Keras' },
        script: { branch: 'dev' },
        output: { result: 'success' },
        models: { input: [{ name: 'in2', model: second }] },
        runtime: { c: 3 },
        hyperparams: { General: { epochs: { value: '5' } } },
      });
      assert.equal(res.updated, 1);
      const task = (await s.ok(T.get_by_id, { task: id })).task;
      assert.deepEqual(task.execution, { parameters: {}, framework: 'Keras', test_split: 3, model_labels: { cat: 1 }, artifacts: [] });
      assert.deepEqual(task.script, { repository: 'r', branch: 'dev' });
      assert.deepEqual(task.output, { destination: 'file:///out', result: 'success' });
      assert.deepEqual(task.models?.input, [{ name: 'in2', model: second, updated: iso() }]);
      assert.deepEqual(task.models?.output?.map((m) => m.model), ['x1']);
      assert.deepEqual(task.runtime, { c: 3 });
      assert.deepEqual(Object.keys(task.hyperparams ?? {}), ['General']);
      assert.equal(task.last_update, iso());
    });

    it('edit answers the changed fields (output_dest as output.destination); user-set fields leave last_update', async () => {
      const id = await newTask(s);
      const created = (await s.ok(T.get_by_id, { task: id })).task.last_update;
      now += 1000;
      const res = await s.ok(T.edit, { task: id, force: true, output_dest: 'http://127.0.0.1:8081', runtime: { progress: '0' } });
      assert.equal(res.fields?.['output.destination'], 'http://127.0.0.1:8081');
      assert.deepEqual(res.fields?.runtime, { progress: '0' });
      assert.equal(res.fields?.last_update, iso());
      now += 1000;
      await s.ok(T.edit, { task: id, name: 'renamed', comment: 'c' });
      const task = (await s.ok(T.get_by_id, { task: id })).task;
      assert.equal(task.name, 'renamed');
      assert.equal(task.last_change, iso());
      assert.notEqual(task.last_update, iso());
      assert.notEqual(task.last_update, created);
      assert.deepEqual(await s.ok(T.edit, { task: id }), { updated: 0 });
    });

    it('converts the legacy fields of old clients on write and read', async () => {
      const model = await newModel(s);
      // API 2.12: input model as execution.model, docker_cmd, legacy parameters.
      const created = await s.call<{ id: string }>('tasks.create', {
        name: 'legacy client',
        type: 'training',
        execution: { model, docker_cmd: 'nvidia/cuda:12 --ipc=host', parameters: { lr: 0.1, 'TF_DEFINE/steps': 10, flag: true } },
      }, { version: '2.12' });
      assert.equal(created.status, 200, created.meta.result_msg);
      const id = created.data.id;
      const task = (await s.ok(T.get_by_id, { task: id })).task;
      assert.deepEqual(task.models?.input?.map((m) => [m.name, m.model]), [['Input Model', model]]);
      assert.deepEqual(task.container, { image: 'nvidia/cuda:12', arguments: '--ipc=host' });
      assert.deepEqual(task.hyperparams, {
        Args: {
          lr: { section: 'Args', name: 'lr', type: 'legacy', value: '0.1' },
          flag: { section: 'Args', name: 'flag', type: 'legacy', value: 'True' },
        },
        TF_DEFINE: { steps: { section: 'TF_DEFINE', name: 'steps', type: 'legacy', value: '10' } },
      });
      assert.equal(task.execution?.model, undefined);
      await s.ok(T.add_or_update_model, { task: id, name: 'best', model: 'out-1', type: 'output' });
      const old = await s.call<{ task: Record<string, Record<string, unknown>> }>('tasks.get_by_id', { task: id }, { version: '2.8' });
      assert.equal(old.data.task.execution!.model, model);
      assert.equal(old.data.task.output!.model, 'out-1');
      assert.equal(old.data.task.execution!.docker_cmd, 'nvidia/cuda:12 --ipc=host');
      assert.deepEqual(old.data.task.execution!.parameters, { lr: '0.1', flag: 'True', 'TF_DEFINE/steps': '10' });
      const projected = await s.call<{ tasks: Record<string, Record<string, unknown>>[] }>('tasks.get_all', { id: [id], only_fields: ['execution.model', 'output.model'] }, { version: '2.12' });
      assert.equal(projected.data.tasks[0]!.execution!.model, model);
      assert.equal(projected.data.tasks[0]!.output!.model, 'out-1');

      // A 2.23 client sending execution.parameters replaces only the legacy parameters.
      await s.ok(T.edit, { task: id, hyperparams: { Args: { lr: { value: '0.1', type: 'legacy' } }, General: { x: { value: '1' } } } });
      await s.ok(T.edit, { task: id, execution: { parameters: { lr: 0.5 } } });
      const edited = (await s.ok(T.get_by_id, { task: id })).task;
      assert.deepEqual(edited.hyperparams?.Args, { lr: { section: 'Args', name: 'lr', type: 'legacy', value: '0.5' } });
      assert.deepEqual(edited.hyperparams?.General?.x?.value, '1');
    });

    it('update writes only the user-settable fields, in any status', async () => {
      const project = await newProject(s, 'update project');
      const id = await newTask(s);
      await s.ok(T.publish, { task: id, force: true });
      now += 1000;
      const res = await s.call('tasks.update', {
        task: id,
        name: 'renamed published',
        tags: ['z', 'y'],
        system_tags: ['archived'],
        comment: 'note',
        project,
        status_message: 'hello',
        created: '2025-01-01T00:00:00',
        output__error: 'it broke',
        status: 'created',
        type: 'testing',
      });
      assert.equal(res.status, 200, res.meta.result_msg);
      const task = (await s.ok(T.get_by_id, { task: id })).task;
      assert.equal(task.status, 'published', 'status is not user-settable');
      assert.equal(task.type, 'training', 'type is not user-settable');
      assert.equal(task.name, 'renamed published');
      assert.deepEqual(task.tags, ['y', 'z']);
      assert.deepEqual(task.system_tags, ['archived']);
      assert.equal(task.comment, 'note');
      assert.equal(task.project, project);
      assert.equal(task.status_message, 'hello');
      assert.equal(task.created, '2025-01-01T00:00:00.000000+00:00');
      assert.equal(task.output?.error, 'it broke');
      assert.equal(task.last_change, iso());
      assert.deepEqual(await s.ok(T.update, { task: id }), { updated: 0 });
      for (const [body, code] of [
        [{ task: id, name: 'x' }, 800],
        [{ task: id, created: 'yesterday' }, 12],
        [{ task: id, project: 'f'.repeat(32) }, 16],
      ] as const) {
        const meta = await s.fails(T.update, body);
        assert.deepEqual([meta.result_code, meta.result_subcode], [400, code], JSON.stringify(body));
      }
    });

    it('set_requirements replaces script.requirements in any status', async () => {
      const id = await newTask(s, { script: { repository: 'r', requirements: { pip: 'old' } } });
      await s.ok(T.completed, { task: id, force: true });
      const requirements = { pip: 'numpy==2.0\ntorch', conda: ['python=3.11'] };
      assert.deepEqual(await s.ok(T.set_requirements, { task: id, requirements }), { updated: 1, fields: { 'script.requirements': requirements } });
      assert.deepEqual((await s.ok(T.get_by_id, { task: id })).task.script, { repository: 'r', requirements });
      const missing = await s.fails(T.set_requirements, { task: id });
      assert.deepEqual([missing.result_code, missing.result_subcode], [400, 12]);
    });

    it('get_by_id: unknown and other-company tasks are 400/101; public tasks are readable but read-only', async () => {
      const unknown = await s.fails(T.get_by_id, { task: 'f'.repeat(32) });
      assert.deepEqual([unknown.result_code, unknown.result_subcode], [400, 101]);
      const other = await s.createUser({ newCompany: true });
      const theirs = await newTask(s, {}, other.token);
      const hidden = await s.fails(T.get_by_id, { task: theirs });
      assert.deepEqual([hidden.result_code, hidden.result_subcode], [400, 101]);
      for (const [endpoint, body] of [
        ['tasks.edit', { task: theirs, comment: 'x' }],
        ['tasks.started', { task: theirs }],
        ['tasks.delete', { task: theirs }],
        ['tasks.edit_configuration', { task: theirs, configuration: [{ name: 'a', value: 'b' }] }],
      ] as const) {
        const res = await s.call(endpoint, body);
        assert.deepEqual([res.status, res.meta.result_subcode], [400, 101], endpoint);
      }
      await s.server.services.db.kysely.updateTable('tasks').set({ company: '' }).where('id', '=', theirs).execute();
      assert.equal((await s.ok(T.get_by_id, { task: theirs })).task.id, theirs);
      const write = await s.fails(T.edit, { task: theirs, comment: 'x' });
      assert.deepEqual([write.result_code, write.result_subcode], [403, 21]);
      const all = await s.ok(T.get_all, { id: [theirs] });
      assert.equal(all.tasks.length, 1, 'public tasks are listed');
    });

    it('needs credentials on every task endpoint (401/20)', async () => {
      for (const endpoint of Object.values(T).map((o) => o.endpoint)) {
        const res = await s.call(endpoint, { task: 'x' }, { token: null });
        assert.deepEqual([res.status, res.meta.result_subcode], [401, 20], endpoint);
      }
    });

    it('answers malformed input with a 4xx, never a 500', async () => {
      const id = await newTask(s);
      const bodies: unknown[] = [
        {},
        { task: 123 },
        { task: id, force: 'yes' },
        { task: null },
        { task: id, ids: 'x', tasks: 'y', configuration: 'z', hyperparams: 1, artifacts: {}, models: 'm' },
        { ids: [], tasks: [], task: '' },
        { task: id, name: ['a'], type: 5, only_fields: 7, order_by: {}, page: -1, page_size: 0 },
      ];
      for (const endpoint of Object.values(T).map((o) => o.endpoint)) {
        for (const body of bodies) {
          const res = await s.call(endpoint, body);
          assert.ok(res.status < 500, `${endpoint} ${JSON.stringify(body)} → ${res.status} ${res.meta.result_msg}`);
        }
        const raw = await s.call(endpoint, undefined, { rawBody: '{"task": ' });
        assert.deepEqual([raw.status, raw.meta.result_subcode], [400, 12], endpoint);
      }
    });
  });

  describe(`tasks get_all and get_all_ex (${dialect})`, () => {
    let s: TestServer;
    let now = Date.parse('2026-04-01T08:00:00Z');
    let project: string;
    const ids: Record<string, string> = {};
    before(async () => {
      s = await startTestServer({ dialect, clock: { now: () => now++ } });
      project = await newProject(s, 'listing');
      ids.alpha = await newTask(s, { name: 'alpha run', project, tags: ['exp'], type: 'training' });
      ids.beta = await newTask(s, { name: 'beta run', project, tags: ['exp', 'best'], type: 'testing' });
      ids.gamma = await newTask(s, { name: 'gamma', system_tags: ['archived'] });
      ids.hidden = await newTask(s, { name: 'hidden one', system_tags: ['hidden'], project });
      await s.ok(T.started, { task: ids.beta });
      const other = await s.createUser({ newCompany: true });
      ids.theirs = await newTask(s, { name: 'alpha theirs' }, other.token);
    });
    after(() => s.stop());

    it('filters by name regex, status, type, tags, system tags and project; hides hidden and other companies', async () => {
      const names = async (body: Record<string, unknown>) =>
        (await s.ok(T.get_all, { ...body, only_fields: ['name'], order_by: ['name'] })).tasks.map((t) => t.name);
      assert.deepEqual(await names({}), ['alpha run', 'beta run', 'gamma']);
      assert.deepEqual(await names({ name: '^alpha' }), ['alpha run']);
      assert.deepEqual(await names({ status: ['in_progress'] }), ['beta run']);
      assert.deepEqual(await names({ type: ['testing'] }), ['beta run']);
      assert.deepEqual(await names({ tags: ['best'] }), ['beta run']);
      assert.deepEqual(await names({ system_tags: ['-archived'] }), ['alpha run', 'beta run']);
      assert.deepEqual(await names({ project: [project] }), ['alpha run', 'beta run']);
      assert.deepEqual(await names({ project: [project], search_hidden: true }), ['alpha run', 'beta run', 'hidden one']);
      assert.deepEqual(await names({ id: [ids.hidden] }), ['hidden one']);
      assert.deepEqual(await names({ id: [ids.theirs] }), []);
      const bad = await s.fails(T.get_all, { name: '([' });
      assert.deepEqual([bad.result_code, bad.result_subcode], [400, 21]);
      const badField = await s.fails(T.get_all, { only_fields: ['nonsense'] });
      assert.deepEqual([badField.result_code, badField.result_subcode], [400, 14]);
    });

    it('answers the SDK status probe with exactly the projected fields', async () => {
      const res = await s.ok(T.get_all, { id: [ids.beta], only_fields: ['status', 'status_message', 'id'], search_hidden: false });
      assert.deepEqual(res.tasks, [{ id: ids.beta, status: 'in_progress', status_message: '' }]);
    });

    it('orders, pages and scrolls', async () => {
      const page = await s.ok(T.get_all, { order_by: ['-name'], page: 1, page_size: 1, only_fields: ['name'] });
      assert.deepEqual(page.tasks.map((t) => t.name), ['beta run']);
      const first = await s.ok(T.get_all, { scroll_id: null, size: 2, order_by: ['name'], only_fields: ['name'] });
      assert.equal(first.tasks.length, 2);
      assert.ok(first.scroll_id);
      const second = await s.ok(T.get_all, { scroll_id: first.scroll_id, size: 2, order_by: ['name'], only_fields: ['name'] });
      assert.deepEqual(second.tasks.map((t) => t.name), ['gamma']);
    });

    it('returns full records with unescaped keys and artifacts as a list', async () => {
      await s.ok(T.edit, { task: ids.alpha, configuration: { 'a.b': { name: 'a.b', value: 'v' } }, execution: { model_labels: { 'x.y': 1 } } });
      const task = (await s.ok(T.get_all, { id: [ids.alpha] })).tasks[0]!;
      assert.deepEqual(Object.keys(task.configuration ?? {}), ['a.b']);
      assert.deepEqual(task.execution?.model_labels, { 'x.y': 1 });
      assert.deepEqual(task.execution?.artifacts, []);
    });

    it('get_all_ex returns references as objects with the joined fields', async () => {
      const res = await s.ok(T.get_all_ex, { id: [ids.alpha], only_fields: ['name', 'project.name', 'user.name'] });
      const task = res.tasks[0]!;
      assert.deepEqual(task.project, { id: project, name: 'listing' });
      assert.deepEqual(task.user, { id: (await s.ok(operations.users.get_current_user, {})).user.id, name: 'admin' });
      const plain = await s.ok(T.get_all, { id: [ids.alpha], only_fields: ['project'] });
      assert.equal(plain.tasks[0]!.project, project);
    });

  });
}
