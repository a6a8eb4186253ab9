import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { operations, type Model } from '@cairn/protocol';
import { startTestServer, testDialects, type TestServer } from '../../../test/harness.js';
import { addScalarEvents, storedEventCount } from '../events/test-support.js';

const { models, projects, tasks } = operations;
const SHA = 'a'.repeat(64);

for (const dialect of testDialects()) {
  describe(`models (${dialect})`, () => {
    let s: TestServer;
    let now = Date.UTC(2025, 5, 1, 12);
    const tick = () => (now += 1000);

    before(async () => {
      s = await startTestServer({ dialect, clock: { now: () => now } });
    });
    after(() => s.stop());

    const create = async (fields: Record<string, unknown> = {}) => (await s.ok(models.create, { name: 'a model', uri: 'http://elsewhere/w.bin', ...fields } as never)).id;
    const get = async (id: string, options = {}) => (await s.ok(models.get_by_id, { model: id }, options)).model;
    const code = (meta: { result_code: number; result_subcode: number }) => [meta.result_code, meta.result_subcode];
    const newTask = async (name = 'training run') => (await s.ok(tasks.create, { name, type: 'training' })).id;
    const taskModels = async (id: string) => (await s.ok(tasks.get_by_id, { task: id })).task;

    it('create: ready defaults to true, tags come back sorted, the extension fields are kept', async () => {
      const id = await create({ tags: ['b', 'a'], weights_sha256: SHA, weights_size: 1234, labels: { cat: 1, dog: 2 }, design: { design: 'layers = 3' } });
      const m = await get(id);
      assert.equal(m.ready, true);
      assert.deepEqual(m.tags, ['a', 'b']);
      assert.deepEqual(m.system_tags, []);
      assert.equal(m.weights_sha256, SHA);
      assert.equal(m.weights_size, 1234);
      assert.deepEqual(m.labels, { cat: 1, dog: 2 });
      assert.deepEqual(m.design, { design: 'layers = 3' });
      assert.equal(m.uri, 'http://elsewhere/w.bin');
      assert.equal(m.created, '2025-06-01T12:00:00.000000+00:00');
      assert.equal((await get(await create({ ready: false }))).ready, false);
    });

    it('create: refuses bad input with the right codes', async () => {
      assert.deepEqual(code(await s.fails(models.create, { name: 'm', uri: '' })), [400, 800], 'short name');
      assert.deepEqual(code(await s.fails(models.create, { name: 'model', uri: '', project: 'nope' })), [400, 12]);
      assert.match((await s.fails(models.create, { name: 'model', uri: '', project: 'nope' })).result_msg, /Invalid project ids/);
      assert.deepEqual(code(await s.fails(models.create, { name: 'model', uri: '', task: 'nope' })), [400, 101]);
      assert.deepEqual(code(await s.fails(models.create, { name: 'model', uri: '', tags: ['__$all'] })), [400, 16]);
      assert.deepEqual(code(await s.fails(models.create, { name: 'model', uri: '', labels: { a: 'x' } })), [400, 12]);
      assert.deepEqual(code(await s.fails(models.create, { name: 'model', uri: '', labels: { a: 1, b: 1 } })), [400, 800]);
      assert.deepEqual(code(await s.fails(models.create, { name: 'model', uri: '', weights_sha256: 'xyz' })), [400, 12]);
      assert.deepEqual(code(await s.fails(models.create, { name: 'model' })), [400, 12], 'uri is required');
      assert.deepEqual(code(await s.fails(models.create, { name: 5, uri: '' })), [400, 12]);
      assert.deepEqual(code(await s.fails(models.create, { name: 'model', uri: '', tags: 'x' })), [400, 12]);
      assert.deepEqual(code(await s.fails(models.create, { name: 'model', uri: '', metadata: { '': { type: 'str', value: 'x' } } })), [400, 12]);
    });

    it('create: the task must exist and be writable', async () => {
      const task = await newTask();
      const id = await create({ task });
      assert.equal((await get(id)).task, task);
      const publicTask = await newTask('shared task');
      await s.server.services.db.kysely.updateTable('tasks').set({ company: '' }).where('id', '=', publicTask).execute();
      assert.deepEqual(code(await s.fails(models.create, { name: 'model', uri: '', task: publicTask })), [403, 21]);
    });

    it('edit: partial; last_update moves only for content changes; uri resets ui_cache', async () => {
      const id = await create({ ui_cache: { view: 1 }, comment: 'first' });
      const created = await get(id);
      tick();
      const res = await s.ok(models.edit, { model: id, comment: 'second' });
      assert.equal(res.updated, 1);
      assert.deepEqual(res.fields?.comment, 'second');
      let m = await get(id);
      assert.equal(m.comment, 'second');
      assert.equal(m.last_update, created.last_update, 'a comment is not a content change');
      assert.notEqual(m.last_change, created.last_change);
      assert.equal(m.name, 'a model', 'fields not given are kept');
      tick();
      await s.ok(models.edit, { model: id, tags: ['x'] });
      m = await get(id);
      assert.notEqual(m.last_update, created.last_update, 'tags are a content change');
      const before = (await s.ok(models.get_all, { id: [id], only_fields: ['ui_cache'] } as never)).models[0]!;
      assert.deepEqual(before.ui_cache, { view: 1 });
      await s.ok(models.edit, { model: id, uri: 'http://elsewhere/w2.bin' });
      const after = (await s.ok(models.get_all, { id: [id], only_fields: ['ui_cache', 'uri'] } as never)).models[0]!;
      assert.deepEqual(after.ui_cache, {});
      assert.equal(after.uri, 'http://elsewhere/w2.bin');
      assert.deepEqual(await s.ok(models.edit, { model: id }), { updated: 0, fields: {} });
    });

    it('edit: new weights without a digest drop the old digest; the same uri keeps it', async () => {
      const id = await create({ uri: 'http://elsewhere/v1.bin', weights_sha256: SHA, weights_size: 10 });
      await s.ok(models.edit, { model: id, uri: 'http://elsewhere/v1.bin', comment: 'resync' });
      assert.equal((await get(id)).weights_sha256, SHA);
      const other = 'b'.repeat(64);
      await s.ok(models.edit, { model: id, uri: 'http://elsewhere/v2.bin', weights_sha256: other, weights_size: 20 });
      assert.deepEqual([(await get(id)).weights_sha256, (await get(id)).weights_size], [other, 20]);
      const res = await s.ok(models.edit, { model: id, uri: 'http://elsewhere/v3.bin' });
      assert.equal(res.fields?.weights_sha256, null);
      const m = await get(id);
      assert.ok(!('weights_sha256' in m) && !('weights_size' in m));
    });

    it('edit: metadata replaces the map; labels are validated; iteration raises the task and model', async () => {
      const task = await newTask();
      const id = await create({ task, metadata: { a: { key: 'a', type: 'str', value: '1' } } });
      await s.ok(models.edit, { model: id, metadata: { b: { key: 'b', type: 'int', value: '2' } } });
      assert.deepEqual((await get(id)).metadata, { b: { key: 'b', type: 'int', value: '2' } });
      assert.deepEqual(code(await s.fails(models.edit, { model: id, labels: { a: 1.5 } })), [400, 12]);
      await s.ok(models.edit, { model: id, iteration: 42 });
      assert.equal((await taskModels(task)).last_iteration, 42);
      assert.equal((await get(id)).last_iteration, 42);
      await s.ok(models.edit, { model: id, iteration: 7 });
      assert.equal((await taskModels(task)).last_iteration, 42, 'never lowered');
    });

    it('edit: a __DELETED__ task is dropped; an unknown project is 400/12', async () => {
      const task = await newTask();
      const id = await create({ task });
      const res = await s.ok(models.edit, { model: id, task: `__DELETED__${task}`, comment: 'x' });
      assert.ok(!('task' in (res.fields ?? {})));
      assert.equal((await get(id)).task, task);
      assert.deepEqual(code(await s.fails(models.edit, { model: id, project: 'nope' })), [400, 12]);
      assert.deepEqual(code(await s.fails(models.edit, { model: 'nope', comment: 'x' })), [400, 201]);
      assert.deepEqual(code(await s.fails(models.edit, { comment: 'x' })), [400, 12]);
    });

    it('update: only user-settable fields; ready is ignored', async () => {
      const id = await create({ ready: false });
      const res = await s.ok(models.update, { model: id, name: 'renamed', ready: true, comment: 'c', created: '2024-01-02T03:04:05' });
      assert.equal(res.updated, 1);
      assert.ok(!('ready' in (res.fields ?? {})));
      const m = await get(id);
      assert.equal(m.name, 'renamed');
      assert.equal(m.ready, false);
      assert.equal(m.created, '2024-01-02T03:04:05.000000+00:00');
      assert.deepEqual(code(await s.fails(models.update, { model: id, created: 'not a date' })), [400, 12]);
    });

    it('get_by_id: 400/201 for unknown; metadata is [] for API 2.16 readers', async () => {
      const meta = await s.fails(models.get_by_id, { model: 'nope' });
      assert.deepEqual(code(meta), [400, 201]);
      assert.match(meta.result_msg, /no such public or company model/);
      const id = await create({ metadata: { k: { key: 'k', type: 'str', value: 'v' } } });
      assert.deepEqual((await get(id, { version: '2.16' })).metadata, []);
      assert.deepEqual((await get(id, { version: '2.17' })).metadata, { k: { key: 'k', type: 'str', value: 'v' } });
    });

    it('get_by_id_ex and get_all_ex: joined references and stats.labels_count', async () => {
      const project = (await s.ok(projects.create, { name: 'Joined' })).id;
      const id = await create({ project, labels: { a: 0, b: 1, c: 2 } });
      const ex = await s.ok(models.get_by_id_ex, { id: [id], only_fields: ['name', 'project.name', 'user.name', 'last_change'] } as never);
      assert.deepEqual(ex.models[0]!.project, { id: project, name: 'Joined' });
      const stats = await s.ok(models.get_all_ex, { id: [id], include_stats: true, only_fields: ['name'] } as never);
      assert.deepEqual(stats.models[0]!.stats, { labels_count: 3 });
    });

    it('get_frameworks: sorted, unique, non-empty, optionally per project', async () => {
      const project = (await s.ok(projects.create, { name: 'Frameworks' })).id;
      const sub = (await s.ok(projects.create, { name: 'Frameworks/Sub' })).id;
      await create({ framework: 'Zeta', project });
      await create({ framework: 'Alpha', project: sub });
      await create({ framework: 'Zeta' });
      await create({ framework: '' });
      const all = await s.ok(models.get_frameworks, {});
      assert.deepEqual(all.frameworks, [...new Set(all.frameworks)].sort());
      assert.ok(all.frameworks.includes('Zeta') && !all.frameworks.includes(''));
      assert.deepEqual((await s.ok(models.get_frameworks, { projects: [project] })).frameworks, ['Alpha', 'Zeta']);
    });

    it('set_ready publishes; twice is 400/203; the creating task is published unless publish_task is false', async () => {
      const plain = await create({ ready: false });
      const res = await s.ok(models.set_ready, { model: plain });
      assert.equal(res.updated, 1);
      assert.equal((await get(plain)).ready, true);
      assert.deepEqual(code(await s.fails(models.set_ready, { model: plain })), [400, 203]);

      const task = await newTask();
      const withTask = await create({ ready: false, task });
      await s.ok(tasks.started, { task });
      await s.ok(tasks.stopped, { task });
      const sdk = await s.ok(models.set_ready, { model: withTask, publish_task: false });
      assert.equal(sdk.published_task, undefined);
      assert.equal((await taskModels(task)).status, 'stopped');

      const other = await create({ ready: false, task });
      const web = await s.ok(models.set_ready, { model: other });
      assert.equal(web.published_task?.id, task);
      assert.equal((await taskModels(task)).status, 'published');

      const fresh = await newTask();
      const blocked = await create({ ready: false, task: fresh });
      assert.deepEqual(code(await s.fails(models.set_ready, { model: blocked })), [400, 110], 'a created task cannot be published without force');
      const forced = await s.ok(models.set_ready, { model: blocked, force_publish_task: true });
      assert.equal(forced.published_task?.id, fresh);
    });

    it('set_ready and publish_many publish the creating task without publishing its other output models', async () => {
      for (const many of [false, true]) {
        const task = await newTask(many ? 'publish_many run' : 'set_ready run');
        const chosen = await create({ ready: false, task });
        const last = await create({ ready: false, task });
        await s.ok(tasks.add_or_update_model, { task, name: 'chosen', model: chosen, type: 'output' });
        await s.ok(tasks.add_or_update_model, { task, name: 'last', model: last, type: 'output' });
        await s.ok(tasks.started, { task });
        await s.ok(tasks.stopped, { task });
        if (many) {
          const res = await s.ok(models.publish_many, { ids: [chosen] });
          assert.equal(res.succeeded[0]?.published_task?.id, task);
        } else {
          assert.equal((await s.ok(models.set_ready, { model: chosen })).published_task?.id, task);
        }
        assert.equal((await taskModels(task)).status, 'published');
        assert.deepEqual([(await get(chosen)).ready, (await get(last)).ready], [true, false], 'only the model asked for is published');
      }
    });

    it('publish_many reports failures per id', async () => {
      const a = await create({ ready: false });
      const b = await create({ ready: true });
      const res = await s.ok(models.publish_many, { ids: [a, b, 'nope'] });
      assert.deepEqual(res.succeeded.map((x) => x.id), [a]);
      assert.deepEqual(res.failed.map((f) => [f.id, f.error.codes]), [[b, [400, 203]], ['nope', [400, 201]]]);
      assert.deepEqual(code(await s.fails(models.publish_many, { ids: [] })), [400, 12]);
    });

    it('archive_many / unarchive_many toggle the archived system tag and move last_change only', async () => {
      const id = await create({ system_tags: ['keep'] });
      const before = await get(id);
      tick();
      const res = await s.ok(models.archive_many, { ids: [id] });
      assert.deepEqual(res, { succeeded: [{ id, archived: true }], failed: [] });
      let m = await get(id);
      assert.deepEqual(m.system_tags, ['archived', 'keep']);
      assert.equal(m.last_update, before.last_update);
      assert.notEqual(m.last_change, before.last_change);
      await s.ok(models.unarchive_many, { ids: [id] });
      m = await get(id);
      assert.deepEqual(m.system_tags, ['keep']);
    });

    it('delete: a model used as input is 400/205, and with force the task keeps __DELETED__<id>', async () => {
      const id = await create();
      const user = await newTask('consumer');
      await s.ok(tasks.add_or_update_model, { task: user, name: 'Input Model', model: id, type: 'input' });
      const meta = await s.fails(models.delete, { model: id });
      assert.deepEqual(code(meta), [400, 205]);
      assert.equal(meta.error_data.num_tasks, 1);
      const res = await s.ok(models.delete, { model: id, force: true });
      assert.deepEqual(res, { deleted: true, url: 'http://elsewhere/w.bin' });
      assert.equal((await taskModels(user)).models?.input?.[0]?.model, `__DELETED__${id}`);
      assert.deepEqual(code(await s.fails(models.get_by_id, { model: id })), [400, 201]);
    });

    it('delete: a published creating task is 400/206; with force its entry and output.error are rewritten', async () => {
      const task = await newTask('publisher');
      const id = await create({ task, ready: false });
      await s.ok(tasks.add_or_update_model, { task, name: 'best', model: id, type: 'output' });
      await s.ok(tasks.started, { task });
      await s.ok(tasks.stopped, { task });
      await s.ok(tasks.publish, { task });
      assert.deepEqual(code(await s.fails(models.delete, { model: id })), [400, 206]);
      await s.ok(models.delete, { model: id, force: true });
      const t = await taskModels(task);
      assert.equal(t.models?.output?.[0]?.model, `__DELETED__${id}`);
      assert.match(t.output?.error ?? '', /^model deleted on 2025-/);
    });

    it('delete: an unpublished creating task loses the output entry', async () => {
      const task = await newTask('draft run');
      const id = await create({ task });
      const keep = await create({ task });
      await s.ok(tasks.add_or_update_model, { task, name: 'one', model: id, type: 'output' });
      await s.ok(tasks.add_or_update_model, { task, name: 'two', model: keep, type: 'output' });
      await s.ok(models.delete, { model: id });
      assert.deepEqual((await taskModels(task)).models?.output?.map((e) => e.model), [keep]);
    });

    it("delete and delete_many remove the model's events; a refused delete keeps them", async () => {
      const one = await create({ ready: false });
      const two = await create({ ready: false });
      const used = await create({ ready: false });
      await addScalarEvents(s, one, 3, true);
      await addScalarEvents(s, two, 2, true);
      await addScalarEvents(s, used, 4, true);
      const consumer = await newTask('event consumer');
      await addScalarEvents(s, consumer, 2);
      await s.ok(models.delete, { model: one });
      assert.deepEqual([await storedEventCount(s, one, true), await storedEventCount(s, two, true), await storedEventCount(s, consumer)], [0, 2, 2]);

      await s.ok(tasks.add_or_update_model, { task: consumer, name: 'in', model: used, type: 'input' });
      const res = await s.ok(models.delete_many, { ids: [two, used] });
      assert.deepEqual(res.succeeded.map((r) => r.id), [two]);
      assert.deepEqual(res.failed.map((f) => f.error.codes), [[400, 205]]);
      assert.deepEqual([await storedEventCount(s, two, true), await storedEventCount(s, used, true)], [0, 4]);
    });

    it('delete removes weights stored on this file server, never files of other hosts', async () => {
      const files = s.server.services.files;
      await files.write('proj/run/models/w.bin', Readable.from([Buffer.from('weights')]));
      await files.write('other/w.bin', Readable.from([Buffer.from('weights')]));
      const own = await create({ uri: `${s.filesUrl}/proj/run/models/w.bin` });
      const foreign = await create({ uri: 'http://elsewhere.example/files/other/w.bin' });
      const kept = await create({ uri: `${s.filesUrl}/other/w.bin` });
      await s.ok(models.delete, { model: own });
      assert.equal(await files.stat('proj/run/models/w.bin'), undefined);
      await s.ok(models.delete, { model: foreign });
      await s.ok(models.delete, { model: kept, delete_external_artifacts: false });
      assert.ok(await files.stat('other/w.bin'), 'a foreign URI and delete_external_artifacts=false leave the file');
    });

    it('delete_many reports per id', async () => {
      const a = await create();
      const res = await s.ok(models.delete_many, { ids: [a, 'nope'], force: true });
      assert.deepEqual(res.succeeded, [{ id: a, deleted: true, url: 'http://elsewhere/w.bin' }]);
      assert.deepEqual(res.failed[0]!.error.codes, [400, 201]);
    });

    it('add_or_update_metadata upserts escaped keys or replaces; delete_metadata removes keys', async () => {
      const id = await create({ metadata: { keep: { key: 'keep', type: 'str', value: 'k' } } });
      const before = await get(id);
      tick();
      const res = await s.ok(models.add_or_update_metadata, {
        model: id,
        metadata: [
          { key: 'accuracy', type: 'float', value: '0.93' },
          { key: 'a.b$c', type: 'str', value: 'dots' },
          { key: '_private', type: 'str', value: 'p' },
        ],
      });
      assert.equal(res.updated, 1);
      let m = await get(id);
      assert.deepEqual(Object.keys(m.metadata as object).sort(), ['_private', 'a.b$c', 'accuracy', 'keep']);
      assert.deepEqual((m.metadata as Record<string, unknown>)['a.b$c'], { key: 'a.b$c', type: 'str', value: 'dots' });
      assert.notEqual(m.last_update, before.last_update);
      const row = await s.server.services.db.kysely.selectFrom('models').select('metadata').where('id', '=', id).executeTakeFirstOrThrow();
      const stored = typeof row.metadata === 'string' ? JSON.parse(row.metadata) : row.metadata;
      assert.ok('a%2Eb%24c' in stored && '%_private' in stored, 'keys are stored escaped');
      assert.deepEqual((await s.ok(models.get_all, { 'metadata.a.b$c.value': 'dots' } as never)).models.map((x) => x.id), [], 'a dotted key must be escaped in a path');
      assert.deepEqual((await s.ok(models.get_all, { 'metadata.a%2Eb$c.value': 'dots' } as never)).models.map((x) => x.id), [id]);
      await s.ok(models.add_or_update_metadata, { model: id, metadata: [{ key: 'accuracy', type: 'float', value: '0.95' }] });
      assert.equal((await get(id)).metadata && (m = await get(id)) && (m.metadata as Record<string, { value: string }>).accuracy!.value, '0.95');
      await s.ok(models.delete_metadata, { model: id, keys: ['a.b$c', 'keep', 'absent'] });
      assert.deepEqual(Object.keys((await get(id)).metadata as object).sort(), ['_private', 'accuracy']);
      await s.ok(models.add_or_update_metadata, { model: id, metadata: [{ key: 'only', type: 'int', value: '1' }], replace_metadata: true });
      assert.deepEqual((await get(id)).metadata, { only: { key: 'only', type: 'int', value: '1' } });
      assert.deepEqual(code(await s.fails(models.add_or_update_metadata, { model: id, metadata: [{ key: 'x', value: '1' }] })), [400, 12]);
      assert.deepEqual(code(await s.fails(models.add_or_update_metadata, { model: id, metadata: [] })), [400, 12]);
      assert.deepEqual(code(await s.fails(models.delete_metadata, { model: id, keys: [] })), [400, 12]);
    });

    it('update_tags adds and removes user tags', async () => {
      const a = await create({ tags: ['old', 'keep'] });
      const b = await create();
      const v = { version: '2.27' };
      const res = await s.ok(models.update_tags, { ids: [a, b], add_tags: ['new'], remove_tags: ['old'] }, v);
      assert.equal(res.updated, 2);
      assert.deepEqual((await get(a)).tags, ['keep', 'new']);
      assert.deepEqual((await get(b)).tags, ['new']);
      assert.deepEqual(code(await s.fails(models.update_tags, { ids: [a], add_tags: ['__$not'] }, v)), [400, 16]);
    });

    it('move: by id, by name (created with parents), to the root with null; neither is 400/11', async () => {
      const id = await create();
      const target = (await s.ok(projects.create, { name: 'Move Target' })).id;
      assert.deepEqual(await s.ok(models.move, { ids: [id], project: target }), { project_id: target });
      assert.equal((await get(id)).project, target);
      const named = await s.ok(models.move, { ids: [id], project_name: 'Made/By Move' });
      const made = await s.ok(projects.get_all, { name: '^Made/By Move$' } as never);
      assert.equal(made.projects[0]!.id, named.project_id);
      assert.equal((await s.ok(projects.get_all, { name: '^Made$' } as never)).projects.length, 1, 'the parent was created');
      assert.deepEqual(await s.ok(models.move, { ids: [id], project: null }), { project_id: null });
      assert.equal((await get(id)).project, undefined);
      assert.deepEqual(code(await s.fails(models.move, { ids: [id] })), [400, 11]);
      assert.deepEqual(code(await s.fails(models.move, { ids: [id], project: 'nope' })), [400, 12]);
    });

    it("auth: another company's model is 400/201; a public model is readable but 403/21 on write", async () => {
      const other = await s.createUser({ newCompany: true });
      const mine = await create();
      assert.deepEqual(code(await s.fails(models.get_by_id, { model: mine }, { token: other.token })), [400, 201]);
      assert.deepEqual(code(await s.fails(models.edit, { model: mine, comment: 'x' }, { token: other.token })), [400, 201]);
      assert.deepEqual(code(await s.fails(models.delete, { model: mine }, { token: other.token })), [400, 201]);
      const shared = await create({ public: true, name: 'shared model' });
      assert.equal((await get(shared, { token: other.token })).name, 'shared model');
      for (const [op, body] of [
        [models.edit, { model: shared, comment: 'x' }],
        [models.update, { model: shared, name: 'xyz' }],
        [models.delete, { model: shared }],
        [models.set_ready, { model: shared }],
        [models.add_or_update_metadata, { model: shared, metadata: [{ key: 'k', type: 'str', value: 'v' }] }],
      ] as const) {
        assert.deepEqual(code(await s.fails(op, body, { token: other.token })), [403, 21], op.endpoint);
      }
      const archived = await s.ok(models.archive_many, { ids: [shared] }, { token: other.token });
      assert.deepEqual(archived.failed[0]!.error.codes, [403, 21]);
      assert.deepEqual(code(await s.fails(models.get_by_id, { model: mine }, { token: null })), [401, 20]);
    });

    it('make_public / make_private', async () => {
      const other = await s.createUser({ newCompany: true });
      const id = await create({ name: 'to share' });
      assert.deepEqual(await s.ok(models.make_public, { ids: [id] }), { updated: 1 });
      assert.equal((await get(id, { token: other.token })).name, 'to share');
      assert.deepEqual(code(await s.fails(models.make_private, { ids: [id] }, { token: other.token })), [400, 201]);
      assert.deepEqual(await s.ok(models.make_private, { ids: [id] }), { updated: 1 });
      assert.deepEqual(code(await s.fails(models.get_by_id, { model: id }, { token: other.token })), [400, 201]);
      assert.deepEqual(code(await s.fails(models.make_public, { ids: ['nope'] })), [400, 201]);
    });

    it('legacy endpoints answer 301/1 above API 2.13 and work at 2.13', async () => {
      const task = await newTask('legacy run');
      const moved = await s.call('models.get_by_task_id', { task }, { version: '2.23' });
      assert.equal(moved.status, 301);
      assert.deepEqual([moved.meta.result_code, moved.meta.result_subcode], [301, 1]);
      assert.match(moved.meta.result_msg, /use models.get_by_id\/get_all apis/);
      const movedUpdate = await s.call('models.update_for_task', { task, uri: 'x' }, { version: '2.20' });
      assert.deepEqual([movedUpdate.status, movedUpdate.meta.result_subcode], [301, 1]);

      assert.deepEqual(code(await s.fails(models.get_by_task_id, { task }, { version: '2.13' })), [400, 122]);
      const created = await s.ok(models.update_for_task, { task, uri: 'http://elsewhere/legacy.bin', iteration: 5 }, { version: '2.13' });
      assert.equal(created.created, true);
      const found = await s.ok(models.get_by_task_id, { task }, { version: '2.13' });
      assert.equal(found.model.id, created.id);
      assert.equal(found.model.name, 'legacy run');
      assert.equal(found.model.ready, false);
      assert.equal((await taskModels(task)).last_iteration, 5);
      const updated = await s.ok(models.update_for_task, { task, uri: 'http://elsewhere/legacy2.bin', comment: 'again' }, { version: '2.13' });
      assert.deepEqual([updated.id, updated.created], [created.id, false]);
      assert.equal((await get(created.id)).uri, 'http://elsewhere/legacy2.bin');
      assert.deepEqual(code(await s.fails(models.update_for_task, { task }, { version: '2.13' })), [400, 11]);
    });

    it('malformed input is answered 400, never 500', async () => {
      const id = await create();
      const cases: [string, unknown][] = [
        ['models.get_all', { order_by: 5 }],
        ['models.get_all', { only_fields: 'name' }],
        ['models.get_all', { page_size: 'x' }],
        ['models.get_all', { created: 'x' }],
        ['models.get_all', { 'last_metrics.a.b.value': [{}, 1] }],
        ['models.get_all', { filters: [] }],
        ['models.get_all', { _all_: { fields: 'name', pattern: 'x' } }],
        ['models.edit', { model: id, design: 'text' }],
        ['models.edit', { model: id, iteration: 'ten' }],
        ['models.get_by_id', {}],
        ['models.delete_many', { ids: 'x' }],
        ['models.move', { ids: [id], project: 5 }],
        ['models.get_all_ex', { scroll_id: 5, size: 1 }],
      ];
      for (const [endpoint, body] of cases) {
        const res = await s.call(endpoint, body);
        assert.equal(res.status, 400, `${endpoint} ${JSON.stringify(body)}: ${res.meta.result_msg}`);
      }
    });

    it('reads come back in the protocol shape the SDK and the web app parse', async () => {
      const all = await s.ok(models.get_all, {} as never);
      assert.ok(all.models.length > 10);
      const m = all.models.find((x: Model) => x.weights_sha256 === SHA);
      assert.ok(m, 'the extension fields are in every read');
    });
  });
}
