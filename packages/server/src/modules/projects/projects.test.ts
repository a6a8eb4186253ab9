import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { operations, type Project } from '@cairn/protocol';
import { startTestServer, testDialects, type TestServer } from '../../../test/harness.js';
import { addScalarEvents, storedEventCount } from '../events/test-support.js';

const { models, projects, tasks } = operations;

for (const dialect of testDialects()) {
  describe(`projects (${dialect})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer({ dialect });
    });
    after(() => s.stop());

    const code = (meta: { result_code: number; result_subcode: number }) => [meta.result_code, meta.result_subcode];
    const create = async (name: string, extra: Record<string, unknown> = {}) => (await s.ok(projects.create, { name, ...extra })).id;
    const byId = async (id: string) => (await s.ok(projects.get_by_id, { project: id })).project;
    const byName = async (name: string): Promise<Project | undefined> => (await s.ok(projects.get_all, { name: `^${name.replace(/[.*+?^${}()|[\]\\/ -]/g, '\\$&')}$` } as never)).projects[0];

    it('create: a path creates its missing parents; names are normalised', async () => {
      const id = await create('/Team//Alpha/Runs/', { description: 'runs', tags: ['b', 'a'], default_output_destination: 's3://bucket/out' });
      const p = await byId(id);
      assert.equal(p.name, 'Team/Alpha/Runs');
      assert.equal(p.basename, 'Runs');
      assert.equal(p.description, 'runs');
      assert.deepEqual(p.tags, ['a', 'b']);
      assert.equal(p.default_output_destination, 's3://bucket/out');
      const parent = await byName('Team/Alpha');
      const root = await byName('Team');
      assert.ok(parent && root);
      assert.equal(p.parent, parent.id);
      assert.equal(parent.parent, root.id);
      const withPath = await s.ok(projects.get_all, { id: [id], only_fields: ['path'] } as never);
      assert.deepEqual(withPath.projects[0]!.path, [root.id, parent.id], 'path lists the ancestors, root first');
      assert.ok(!('path' in p), 'path is excluded by default');
    });

    it('create: duplicates are 400/801, short names 400/800, empty names 400/407', async () => {
      await create('Unique Name');
      const dup = await s.fails(projects.create, { name: 'Unique Name' });
      assert.deepEqual(code(dup), [400, 801]);
      assert.match(dup.result_msg, /Project with the same name already exists/);
      assert.deepEqual(code(await s.fails(projects.create, { name: 'ab' })), [400, 800]);
      assert.deepEqual(code(await s.fails(projects.create, { name: '//' })), [400, 407]);
      assert.deepEqual(code(await s.fails(projects.create, {})), [400, 12]);
      assert.deepEqual(code(await s.fails(projects.create, { name: 'Tagged', tags: ['__$or'] })), [400, 16]);
    });

    it('get_by_id: unknown → 400/401; another company cannot see it', async () => {
      const id = await create('Private One');
      assert.deepEqual(code(await s.fails(projects.get_by_id, { project: 'nope' })), [400, 401]);
      const other = await s.createUser({ newCompany: true });
      assert.deepEqual(code(await s.fails(projects.get_by_id, { project: id }, { token: other.token })), [400, 401]);
      assert.equal((await s.ok(projects.get_all, {} as never, { token: other.token })).projects.length, 0);
    });

    it('get_all: the SDK lookup by escaped name, filters, hidden projects, shallow search', async () => {
      await create('OutputModel Acceptance');
      const found = await s.ok(projects.get_all, { name: '^OutputModel\\ Acceptance$', only_fields: ['id', 'name', 'last_update'], shallow_search: false, search_hidden: false } as never);
      assert.equal(found.projects.length, 1);
      assert.deepEqual(Object.keys(found.projects[0]!).sort(), ['id', 'last_update', 'name']);
      const hidden = await create('Hidden Stuff', { system_tags: ['hidden'] });
      assert.equal((await s.ok(projects.get_all, { name: '^Hidden' } as never)).projects.length, 0);
      assert.equal((await s.ok(projects.get_all, { name: '^Hidden', search_hidden: true } as never)).projects.length, 1);
      assert.equal((await s.ok(projects.get_all, { id: [hidden] } as never)).projects.length, 1, 'an id filter finds hidden projects');
      await create('Shallow/Child');
      const top = await s.ok(projects.get_all, { shallow_search: true, only_fields: ['name'] } as never);
      assert.ok(top.projects.every((p) => !p.name!.includes('/')));
      const shallowRoot = await byName('Shallow');
      const kids = await s.ok(projects.get_all, { shallow_search: true, parent: [shallowRoot!.id] } as never);
      assert.deepEqual(kids.projects.map((p) => p.name), ['Shallow/Child']);
      assert.deepEqual((await s.ok(projects.get_all, { basename: '^Child$' } as never)).projects.map((p) => p.name), ['Shallow/Child']);
      assert.deepEqual(code(await s.fails(projects.get_all, { order_by: ['nope'] })), [400, 14]);
    });

    it('get_all_ex: joins, sub_projects, own counts and subtree stats', async () => {
      const root = await create('Stats Root');
      const child = await create('Stats Root/Child');
      await create('Stats Root/Child/Leaf');
      await s.ok(models.create, { name: 'root model', uri: '', project: root });
      await s.ok(models.create, { name: 'child model', uri: '', project: child });
      const archived = (await s.ok(models.create, { name: 'old model', uri: '', project: child })).id;
      await s.ok(models.archive_many, { ids: [archived] });
      const t1 = (await s.ok(tasks.create, { name: 'root task', type: 'training', project: root })).id;
      await s.ok(tasks.create, { name: 'child task', type: 'training', project: child });
      await s.ok(tasks.started, { task: t1 });

      const plain = await s.ok(projects.get_all_ex, { id: [root], only_fields: ['name', 'user.name'] } as never);
      assert.equal((plain.projects[0]!.user as { name?: string }).name, 'admin');
      assert.equal(plain.projects[0]!.sub_projects, undefined, 'counts only when asked');

      const own = await s.ok(projects.get_all_ex, { id: [root, child], check_own_contents: true, order_by: ['name'] } as never);
      const [r, c] = own.projects;
      assert.deepEqual(r!.sub_projects!.map((p) => p.name), ['Stats Root/Child', 'Stats Root/Child/Leaf']);
      assert.deepEqual([r!.own_tasks, r!.own_models, c!.own_tasks, c!.own_models], [1, 1, 1, 1], 'archived models are not counted');

      const stats = await s.ok(projects.get_all_ex, { id: [root], include_stats: true } as never);
      const active = stats.projects[0]!.stats!.active!;
      assert.equal(active.total_tasks, 2, 'sub-project tasks count toward the parent');
      assert.equal(active.status_count.in_progress, 1);
      assert.equal(active.status_count.created, 1);
      assert.equal(active.total_models, 2);
      const both = await s.ok(projects.get_all_ex, { id: [child], include_stats: true, stats_for_state: null } as never);
      assert.equal(both.projects[0]!.stats!.archived!.total_models, 1);
      assert.deepEqual(code(await s.fails(projects.get_all_ex, { include_stats: true, stats_for_state: 'bogus' })), [400, 16]);
    });

    it('update: rename renames sub-projects; moving is 400/408; a clash is 400/801', async () => {
      const id = await create('Rename Me/Inner/Deep');
      const top = (await byName('Rename Me'))!.id;
      const res = await s.ok(projects.update, { project: top, name: 'Renamed', description: 'new text' });
      assert.equal(res.updated, 1);
      assert.equal(res.fields?.name, 'Renamed');
      assert.equal((await byId(top)).description, 'new text');
      assert.equal((await byId(id)).name, 'Renamed/Inner/Deep');
      assert.ok(await byName('Renamed/Inner'));
      assert.deepEqual(code(await s.fails(projects.update, { project: id, name: 'Elsewhere/Deep' })), [400, 408]);
      await create('Renamed/Inner/Taken');
      assert.deepEqual(code(await s.fails(projects.update, { project: id, name: 'Renamed/Inner/Taken' })), [400, 801]);
      assert.deepEqual(code(await s.fails(projects.update, { project: 'nope', name: 'xyz' })), [400, 401]);
      await s.ok(projects.update, { project: id, tags: ['t'], system_tags: ['hidden'] });
      assert.deepEqual((await byId(id)).system_tags, ['hidden']);
    });

    it('delete: contents refuse it without force (402 tasks, 405 models); archived contents do not', async () => {
      const withTask = await create('Has Task');
      await s.ok(tasks.create, { name: 'a task', type: 'training', project: withTask });
      assert.deepEqual(code(await s.fails(projects.delete, { project: withTask })), [400, 402]);
      const withModel = await create('Has Model/Sub');
      const modelId = (await s.ok(models.create, { name: 'kept model', uri: '', project: withModel })).id;
      const parent = (await byName('Has Model'))!.id;
      assert.deepEqual(code(await s.fails(projects.delete, { project: parent })), [400, 405], 'contents of sub-projects count');
      const res = await s.ok(projects.delete, { project: parent, force: true });
      assert.equal(res.deleted, 2, 'the sub-project goes too');
      assert.equal((await s.ok(models.get_by_id, { model: modelId })).model.project, undefined, 'contents move to the root');
      const archivedOnly = await create('Archived Only');
      const old = (await s.ok(models.create, { name: 'old model', uri: '', project: archivedOnly })).id;
      await s.ok(models.archive_many, { ids: [old] });
      assert.equal((await s.ok(projects.delete, { project: archivedOnly })).deleted, 1);
      assert.deepEqual(code(await s.fails(projects.delete, { project: 'nope' })), [400, 401]);
    });

    it('delete with delete_contents removes models and tasks, fixes references outside, deletes own files', async () => {
      const doomed = await create('Doomed');
      const outside = await create('Survivor');
      await s.server.services.files.write('doomed/w.bin', Readable.from([Buffer.from('w')]));
      const model = (await s.ok(models.create, { name: 'doomed model', uri: `${s.filesUrl}/doomed/w.bin`, project: doomed })).id;
      const task = (await s.ok(tasks.create, { name: 'doomed task', type: 'training', project: doomed })).id;
      const reader = (await s.ok(tasks.create, { name: 'reader', type: 'training', project: outside, parent: task })).id;
      await s.ok(tasks.add_or_update_model, { task: reader, name: 'in', model, type: 'input' });
      const survivorModel = (await s.ok(models.create, { name: 'survivor', uri: '', project: outside, task })).id;
      const res = await s.ok(projects.delete, { project: doomed, force: true, delete_contents: true });
      assert.deepEqual([res.deleted, res.deleted_models, res.deleted_tasks], [1, 1, 1]);
      assert.deepEqual(res.urls?.model_urls, [`${s.filesUrl}/doomed/w.bin`]);
      assert.equal(await s.server.services.files.stat('doomed/w.bin'), undefined);
      const r = (await s.ok(tasks.get_by_id, { task: reader })).task;
      assert.equal(r.models?.input?.[0]?.model, '__DELETED__');
      assert.equal(r.parent, undefined);
      assert.equal((await s.ok(models.get_by_id, { model: survivorModel })).model.task, undefined);
      assert.deepEqual(code(await s.fails(tasks.get_by_id, { task })), [400, 101]);
    });

    it('delete with delete_contents deletes the events of its tasks and models (sub-projects too), not those outside', async () => {
      const doomed = await create('Eventful');
      const child = await create('Eventful/child');
      const outside = await create('Eventless');
      const task = (await s.ok(tasks.create, { name: 'doomed run', type: 'training', project: doomed })).id;
      const childTask = (await s.ok(tasks.create, { name: 'child run', type: 'training', project: child })).id;
      const model = (await s.ok(models.create, { name: 'doomed weights', uri: '', project: child, ready: false })).id;
      const keptTask = (await s.ok(tasks.create, { name: 'kept run', type: 'training', project: outside })).id;
      const keptModel = (await s.ok(models.create, { name: 'kept weights', uri: '', project: outside, ready: false })).id;
      await addScalarEvents(s, task, 2);
      await addScalarEvents(s, childTask, 3);
      await addScalarEvents(s, model, 4, true);
      await addScalarEvents(s, keptTask, 1);
      await addScalarEvents(s, keptModel, 1, true);
      const res = await s.ok(projects.delete, { project: doomed, force: true, delete_contents: true });
      assert.deepEqual([res.deleted, res.deleted_tasks, res.deleted_models], [2, 2, 1]);
      assert.deepEqual([await storedEventCount(s, task), await storedEventCount(s, childTask), await storedEventCount(s, model, true)], [0, 0, 0]);
      assert.deepEqual([await storedEventCount(s, keptTask), await storedEventCount(s, keptModel, true)], [1, 1]);

      const res2 = await s.ok(projects.delete, { project: outside, force: true });
      assert.equal(res2.disassociated_tasks, 1);
      assert.deepEqual([await storedEventCount(s, keptTask), await storedEventCount(s, keptModel, true)], [1, 1], 'without delete_contents the contents keep their events');
    });

    it('public projects are readable, not writable', async () => {
      const id = await create('Public Project');
      await s.server.services.db.kysely.updateTable('projects').set({ company: '' }).where('id', '=', id).execute();
      const other = await s.createUser({ newCompany: true });
      assert.equal((await s.ok(projects.get_by_id, { project: id }, { token: other.token })).project.name, 'Public Project');
      assert.deepEqual(code(await s.fails(projects.update, { project: id, description: 'x' }, { token: other.token })), [403, 21]);
      assert.deepEqual(code(await s.fails(projects.delete, { project: id }, { token: other.token })), [403, 21]);
      const ex = await s.ok(projects.get_all_ex, { id: [id], only_fields: ['company.id'] } as never, { token: other.token });
      assert.deepEqual(ex.projects[0]!.company, { id: '' });
      assert.equal((await s.ok(projects.get_all_ex, { id: [id], non_public: true } as never, { token: other.token })).projects.length, 0);
    });

    it('get_model_tags: distinct sorted tags, system tags on request, per project and filter', async () => {
      const p = await create('Tag Source');
      await s.ok(models.create, { name: 'tagged one', uri: '', project: p, tags: ['zeta', 'alpha'], system_tags: ['archived'] });
      await s.ok(models.create, { name: 'tagged two', uri: '', project: p, tags: ['alpha', 'mid'] });
      const res = await s.ok(projects.get_model_tags, { projects: [p] });
      assert.deepEqual(res, { tags: ['alpha', 'mid', 'zeta'] });
      const sys = await s.ok(projects.get_model_tags, { projects: [p], include_system: true });
      assert.deepEqual(sys.system_tags, ['archived']);
      const active = await s.ok(projects.get_model_tags, { projects: [p], filter: { system_tags: ['-archived'] } });
      assert.deepEqual(active.tags, ['alpha', 'mid']);
    });

    it('get_model_metadata_keys and _values: distinct, paged, with totals', async () => {
      const p = await create('Meta Source');
      const sub = await create('Meta Source/Sub');
      const mk = async (project: string, metadata: Record<string, string>) => {
        const id = (await s.ok(models.create, { name: 'meta model', uri: '', project })).id;
        await s.ok(models.add_or_update_metadata, { model: id, metadata: Object.entries(metadata).map(([key, value]) => ({ key, type: 'str', value })) });
      };
      await mk(p, { acc: '0.9', 'data.set': 'cifar' });
      await mk(sub, { acc: '0.8', epochs: '10' });
      await mk(p, { acc: '0.9' });
      const keys = await s.ok(projects.get_model_metadata_keys, { project: p });
      assert.deepEqual(keys, { keys: ['acc', 'data.set', 'epochs'], remaining: 0, total: 3 });
      const shallow = await s.ok(projects.get_model_metadata_keys, { project: p, include_subprojects: false });
      assert.deepEqual(shallow.keys, ['acc', 'data.set']);
      const paged = await s.ok(projects.get_model_metadata_keys, { project: p, page: 0, page_size: 2 });
      assert.deepEqual([paged.keys.length, paged.remaining, paged.total], [2, 1, 3]);
      const values = await s.ok(projects.get_model_metadata_values, { key: 'acc', projects: [p] });
      assert.deepEqual(values, { total: 2, values: ['0.8', '0.9'] });
      const dotted = await s.ok(projects.get_model_metadata_values, { key: 'data.set', projects: [p] });
      assert.deepEqual(dotted.values, ['cifar']);
      assert.deepEqual(code(await s.fails(projects.get_model_metadata_keys, {})), [400, 12]);
      assert.deepEqual(code(await s.fails(projects.get_model_metadata_values, { key: 'acc', page: -1 })), [400, 12]);
    });
  });
}
