import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { models, operations } from '@cairn/protocol';
import { startTestServer, testDialects, type TestServer } from '@cairn/server/test-harness';
import { scratchDir, testSession, type Recorder } from '../../test/helpers.js';
import { Task } from '../task.js';
import type { Session } from '../session.js';
import { OutputModel } from './output-model.js';
import { InputModel, Model, QUERY_PAGE_SIZE } from './model.js';
import { IntegrityError, UsageError } from '../errors.js';


for (const dialect of testDialects()) {
  describe(`Model and InputModel against the real server (${dialect})`, () => {
    let s: TestServer;
    let session: Session;
    let recorder: Recorder;
    let projectId: string;
    let seq = 0;

    before(async () => {
      s = await startTestServer({ dialect });
      ({ session, recorder } = testSession(s));
      projectId = (await s.ok(operations.projects.create, { name: 'Registry' })).id;
    });
    after(() => s.stop());

    /** A model made directly through the API (not through the SDK under test). */
    const apiModel = async (fields: Record<string, unknown> = {}) =>
      (await s.ok(models.create, { uri: '', name: `model-${++seq}`, project: projectId, ready: false, ...fields } as never)).id;

    describe('metadata (matrix C)', () => {
      it('C21/C22/C23 (adjusted by decision 9): what setMetadata sends', async () => {
        const m = await Model.get(await apiModel(), { session });
        recorder.clear();
        assert.equal(await m.setMetadata('k', 5, 'int'), true);
        await m.setMetadata('t', 'v', 'float64');
        await m.setMetadata('s', 'v');
        await m.setMetadata('b', true);
        await m.setMetadata('l', [64, 32]);
        const sent = recorder.bodies('models.add_or_update_metadata');
        assert.deepEqual(sent[0], { model: m.id, metadata: [{ key: 'k', value: '5', type: 'int' }], replace_metadata: false });
        assert.deepEqual(sent.map((b) => (b.metadata as object[])[0]), [
          { key: 'k', value: '5', type: 'int' },
          { key: 't', value: 'v', type: 'None' },
          { key: 's', value: 'v', type: 'str' },
          { key: 'b', value: 'true', type: 'bool' },
          { key: 'l', value: '[64,32]', type: 'list' },
        ]);
        assert.equal(await m.getMetadataCasted('s'), 'v');
        assert.equal(await m.getMetadataCasted('b'), true);
        assert.deepEqual(await m.getMetadataCasted('l'), [64, 32]);
      });

      it('C24: after a write the next read reloads once; the one after does not', async () => {
        const m = await Model.get(await apiModel(), { session });
        await m.setMetadata('a', 1);
        recorder.clear();
        await m.getAllMetadata();
        await m.getAllMetadata();
        assert.deepEqual(recorder.endpoints(), ['models.get_by_id']);
      });

      it('C25: missing keys are null', async () => {
        const m = await Model.get(await apiModel(), { session });
        assert.equal(await m.getMetadata('missing'), null);
        assert.equal(await m.getMetadataCasted('missing'), null);
      });

      it('C31/C32: setAllMetadata sends every entry; replace drops the other keys, merge keeps them', async () => {
        const m = await Model.get(await apiModel(), { session });
        await m.setMetadata('old', 'x');
        recorder.clear();
        await m.setAllMetadata({ a: { value: 1, type: 'int' }, b: { value: 'x' } });
        assert.deepEqual(recorder.bodies('models.add_or_update_metadata')[0], {
          model: m.id,
          metadata: [
            { key: 'a', value: '1', type: 'int' },
            { key: 'b', value: 'x', type: 'None' },
          ],
          replace_metadata: true,
        });
        assert.deepEqual(Object.keys(await m.getAllMetadata()).sort(), ['a', 'b']);
        await m.setAllMetadata({ c: { value: 2.5, type: 'float' } }, false);
        assert.equal(recorder.bodies('models.add_or_update_metadata')[1].replace_metadata, false);
        assert.deepEqual(Object.keys(await m.getAllMetadata()).sort(), ['a', 'b', 'c']);
        await m.setAllMetadata({});
        assert.deepEqual(await m.getAllMetadata(), {});
      });

      it('C33 (adjusted by decision 9): getAllMetadataCasted is {key: {key, type, value}} with the value cast', async () => {
        const m = await Model.get(await apiModel(), { session });
        await m.setAllMetadata({ a: { value: '1', type: 'int' }, f: { value: '0.5', type: 'float' }, d: { value: '{"x": [1]}', type: 'dict' } });
        assert.deepEqual(await m.getAllMetadataCasted(), {
          a: { key: 'a', type: 'int', value: 1 },
          f: { key: 'f', type: 'float', value: 0.5 },
          d: { key: 'd', type: 'dict', value: { x: [1] } },
        });
        assert.deepEqual(await m.getAllMetadata(), {
          a: { key: 'a', type: 'int', value: '1' },
          f: { key: 'f', type: 'float', value: '0.5' },
          d: { key: 'd', type: 'dict', value: '{"x": [1]}' },
        });
      });
    });

    describe('properties and setters (matrix D)', () => {
      it('D35/D36 (adjusted by decision 1): loading is one get_by_id; reading properties makes no call', async () => {
        const id = await apiModel({ name: 'props', comment: 'c', tags: ['b', 'a'], framework: 'PyTorch', labels: { bg: 0 }, design: { design: 'a=1' } });
        recorder.clear();
        const m = await Model.get(id, { session });
        assert.deepEqual(recorder.endpoints(), ['models.get_by_id']);
        assert.deepEqual([m.id, m.name, m.comment, m.framework, m.project, m.url, m.published], [id, 'props', 'c', 'PyTorch', projectId, '', false]);
        assert.deepEqual(m.tags.sort(), ['a', 'b']);
        assert.deepEqual(m.labels, { bg: 0 });
        assert.equal(m.configText, 'a=1');
        assert.deepEqual(m.configDict, { a: 1 }, 'D42');
        assert.deepEqual(recorder.endpoints(), ['models.get_by_id']);
      });

      it('D37 (adjusted by decision 8): [] and "" clear', async () => {
        const m = await Model.get(await apiModel({ tags: ['x'], comment: 'was' }), { session });
        await m.setTags([]);
        await m.setComment('');
        assert.deepEqual(m.tags, []);
        assert.equal(m.comment, '');
        const rec = (await s.ok(models.get_by_id, { model: m.id })).model;
        assert.deepEqual([rec.tags, rec.comment], [[], '']);
      });

      it('D38/D39: a setter sends models.edit and reloads; system tags exactly as given', async () => {
        const m = await Model.get(await apiModel(), { session });
        recorder.clear();
        await m.setComment('new');
        assert.deepEqual(recorder.endpoints(), ['models.edit', 'models.get_by_id']);
        assert.deepEqual(recorder.bodies('models.edit')[0], { model: m.id, comment: 'new' });
        await m.setSystemTags(['s1', 'package']);
        assert.deepEqual(recorder.bodies('models.edit')[1], { model: m.id, system_tags: ['s1', 'package'] });
        assert.ok(m.isPackage);
        await m.setName('renamed');
        assert.equal((await s.ok(models.get_by_id, { model: m.id })).model.name, 'renamed');
      });

      it('D40/D41: published and task come from the record', async () => {
        const taskId = (await s.ok(operations.tasks.create, { name: 'maker', type: 'training', project: projectId })).id;
        const m = await Model.get(await apiModel({ ready: true, task: taskId }), { session });
        assert.equal(m.published, true);
        assert.equal(m.task, taskId);
        assert.equal(m.originalTask, taskId);
      });

      it('D42: a design without text is an empty configuration', async () => {
        const m = await Model.get(await apiModel({ design: {} }), { session });
        assert.equal(m.configText, '');
        assert.deepEqual(m.configDict, {});
        const other = await Model.get(await apiModel({ design: { text: 'x = 2' } }), { session });
        assert.deepEqual(other.configDict, { x: 2 }, 'without a design key the first value is the text');
      });

      it('D43: publish sends set_ready without publishing the task; a published model sends nothing', async () => {
        const m = await Model.get(await apiModel(), { session });
        recorder.clear();
        await m.publish();
        assert.deepEqual(recorder.bodies('models.set_ready'), [{ model: m.id, publish_task: false }]);
        assert.equal(m.published, true);
        recorder.clear();
        await m.publish();
        assert.deepEqual(recorder.endpoints(), []);
      });

      it('D44: archive sends archive_many; a failure resolves false with a warning, no exception', async () => {
        const m = await Model.get(await apiModel(), { session });
        recorder.clear();
        assert.equal(await m.archive(), true);
        assert.deepEqual(recorder.bodies('models.archive_many'), [{ ids: [m.id] }]);
        assert.ok(m.archived);
        await s.ok(models.delete, { model: m.id, force: true });
        assert.equal(await m.unarchive(), false);
      });
    });

    describe('queries and loaders (matrix F)', () => {
      it('F69: exact project and model names, not archived, newest first, paged by 500', async () => {
        const proj = (await s.ok(operations.projects.create, { name: 'Proj.Q' })).id;
        const good = await apiModel({ name: 'm.v1', project: proj });
        await apiModel({ name: 'mXv1', project: proj });
        await apiModel({ name: 'm.v1', project: projectId });
        recorder.clear();
        const found = await Model.queryModels({ session, projectName: 'Proj.Q', modelName: 'm.v1' });
        assert.deepEqual(found.map((m) => m.id), [good]);
        const pq = recorder.bodies('projects.get_all')[0];
        assert.equal(pq.name, '^Proj\\.Q$');
        const mq = recorder.bodies('models.get_all')[0];
        assert.deepEqual({ name: mq.name, system_tags: mq.system_tags, order_by: mq.order_by, page: mq.page, page_size: mq.page_size, project: mq.project }, {
          name: '^m\\.v1$',
          system_tags: ['-archived'],
          order_by: ['-created'],
          page: 0,
          page_size: QUERY_PAGE_SIZE,
          project: [proj],
        });
        assert.ok(found[0] instanceof Model);
        assert.equal(found[0].name, 'm.v1', 'query results are loaded');
      });

      it('F70: an unknown project is an error', async () => {
        await assert.rejects(Model.queryModels({ session, projectName: 'nope' }), (e: unknown) => e instanceof UsageError && e.message === 'No projects found when searching for `nope`');
      });

      it('F71/F72: maxResults bounds the page; paging reads until a short page, in order', async () => {
        const proj = (await s.ok(operations.projects.create, { name: 'Many' })).id;
        const ids: string[] = [];
        for (let i = 0; i < 520; i += 20) {
          ids.push(...(await Promise.all(Array.from({ length: 20 }, (_, j) => apiModel({ name: `many-${String(i + j).padStart(3, '0')}`, project: proj })))));
        }
        recorder.clear();
        const three = await Model.queryModels({ session, projectName: 'Many', maxResults: 3 });
        assert.equal(three.length, 3);
        assert.deepEqual(recorder.bodies('models.get_all').map((b) => b.page_size), [3]);
        recorder.clear();
        const all = await Model.queryModels({ session, projectName: 'Many' });
        assert.equal(all.length, 520);
        assert.deepEqual(recorder.bodies('models.get_all').map((b) => [b.page, b.page_size]), [[0, 500], [1, 500]]);
        assert.equal(new Set(all.map((m) => m.id)).size, 520);
        const created = all.map((m) => m.created as string);
        assert.deepEqual([...created].sort().reverse(), created, 'newest first');
      });

      it('F73: metadata, published and archived filters', async () => {
        const proj = (await s.ok(operations.projects.create, { name: 'Filters' })).id;
        const a = await Model.get(await apiModel({ project: proj }), { session });
        await a.setMetadata('acc', '0.9');
        const b = await Model.get(await apiModel({ project: proj, ready: true }), { session });
        await b.setMetadata('acc', '0.8');
        const c = await Model.get(await apiModel({ project: proj }), { session });
        await c.archive();
        recorder.clear();
        assert.deepEqual((await Model.queryModels({ session, projectName: 'Filters', metadata: { acc: '0.9' } })).map((m) => m.id), [a.id]);
        assert.equal(recorder.bodies('models.get_all')[0]['metadata.acc.value'], '0.9');
        assert.deepEqual((await Model.queryModels({ session, projectName: 'Filters', onlyPublished: true })).map((m) => m.id), [b.id]);
        assert.equal(recorder.bodies('models.get_all')[1].ready, true);
        assert.equal((await Model.queryModels({ session, projectName: 'Filters' })).length, 2);
        const withArchived = await Model.queryModels({ session, projectName: 'Filters', includeArchived: true });
        assert.equal(withArchived.length, 3);
        assert.equal(recorder.bodies('models.get_all').at(-1)?.system_tags, undefined);
      });

      it('F74: InputModel by name: the newest match, or a clear error', async () => {
        await apiModel({ name: 'input-x' });
        const newest = await apiModel({ name: 'input-x' });
        assert.equal((await InputModel.get({ name: 'input-x', session })).id, newest);
        await assert.rejects(InputModel.get({ name: 'x', session }), (e: unknown) => e instanceof UsageError && e.message === 'Could not locate model with project=None name=x tags=None published=False');
      });

      it('F75/F79: importModel returns the model already registered with the URI, and refuses an empty URI', async () => {
        const id = await apiModel({ uri: 's3://b/m.pt' });
        recorder.clear();
        const m = await InputModel.importModel({ weightsUrl: 's3://b/m.pt', name: 'ignored', session });
        assert.equal(m.id, id);
        assert.ok(!recorder.endpoints().includes('models.create'));
        await assert.rejects(InputModel.importModel({ weightsUrl: '', session }), (e: unknown) => e instanceof UsageError && e.message === 'Please provide a valid weights_url parameter');
      });

      it('F76 (adjusted by decision 4): importModel without a task creates the model with its URI at once (no placeholder)', async () => {
        assert.equal(Task.current(), undefined);
        recorder.clear();
        const m = await InputModel.importModel({ weightsUrl: '/data/m.pt', name: 'net', session });
        assert.deepEqual(recorder.endpoints().filter((e) => e.startsWith('models.create') || e === 'models.edit'), ['models.create']);
        const create = recorder.bodies('models.create')[0];
        assert.deepEqual([create.uri, create.name, create.framework], ['file:///data/m.pt', 'net', 'PyTorch']);
        assert.deepEqual([m.url, m.name, m.framework], ['file:///data/m.pt', 'net', 'PyTorch']);
      });

      it('F77/F78: importModel with a current task; isPackage and createAsPublished', async () => {
        const task = await Task.init({ projectName: 'Importers', taskName: 'train', session });
        try {
          const m = await InputModel.importModel({ weightsUrl: 's3://b/imported.pt', comment: 'extra', isPackage: true, createAsPublished: true, session });
          assert.equal(m.comment, `Imported by task id: ${task.id}\nextra`);
          assert.equal(m.name, 'Imported by train');
          assert.equal(m.project, task.project);
          assert.equal(m.task, undefined, 'the importing task does not own the model');
          assert.ok(m.systemTags.includes('package'));
          assert.equal(m.published, true);
        } finally {
          await task.close();
        }
      });

      it('F80: loadModel by URI; archived models only when asked', async () => {
        assert.equal(await InputModel.loadModel('s3://nothing/here.pt', { session }), null);
        const id = await apiModel({ uri: 's3://b/load.pt' });
        assert.equal((await InputModel.loadModel('s3://b/load.pt', { session }))?.id, id);
        await (await Model.get(id, { session })).archive();
        assert.equal(await InputModel.loadModel('s3://b/load.pt', { session }), null);
        assert.equal((await InputModel.loadModel('s3://b/load.pt', { session, loadArchived: true }))?.id, id);
      });

      it('F81: InputModel.empty is local', async () => {
        recorder.clear();
        const m = InputModel.empty({ configText: 'a=1', labelEnumeration: { bg: 0 }, session });
        assert.equal(m.id, 'empty');
        assert.equal(m.configText, 'a=1');
        assert.deepEqual(m.labels, { bg: 0 });
        assert.deepEqual(recorder.endpoints(), []);
      });

      it('F82: connecting an input model registers it under its URI stem; the task takes labels and configuration when it has none', async () => {
        const task = await Task.init({ projectName: 'Inputs', taskName: 'use', session });
        try {
          const m = await Model.get(await apiModel({ uri: 's3://b/resnet.pt', labels: { cat: 1 }, design: { design: 'depth = 50' } }), { session });
          recorder.clear();
          await task.connect(m);
          const reg = recorder.bodies('tasks.add_or_update_model')[0];
          assert.deepEqual(reg, { task: task.id, name: 'resnet', model: m.id, type: 'input' });
          assert.deepEqual(task.getLabelsEnumeration(), { cat: 1 });
          assert.equal(task.getModelConfigText(), 'depth = 50');
          assert.match(task.comment, new RegExp(`Using model id: ${m.id}$`));
          const again = await Task.getTask({ taskId: task.id }, { session });
          assert.equal(again.models.input.get('resnet')?.id, m.id);
          assert.ok(again.models.input.get('resnet') instanceof InputModel);
          const other = await Model.get(await apiModel({ uri: 's3://b/other.pt', labels: { dog: 2 } }), { session });
          await new InputModel(other.data, session).connect(task, 'second');
          assert.deepEqual(task.getLabelsEnumeration(), { cat: 1 }, 'labels already set are kept');
        } finally {
          await task.close();
        }
      });

      it('F83/F84: remove deletes the model and its weights file; or keeps the file; failures are false or an error', async () => {
        const dir = scratchDir('rm');
        const file = path.join(dir, 'w.pt');
        writeFileSync(file, 'w');
        const a = await apiModel({ uri: `file://${file}` });
        recorder.clear();
        assert.equal(await Model.remove(a, { session }), true);
        assert.deepEqual(recorder.bodies('models.delete'), [{ model: a, force: false, delete_external_artifacts: false }]);
        assert.ok(!existsSync(file));
        const kept = path.join(dir, 'kept.pt');
        writeFileSync(kept, 'k');
        assert.equal(await Model.remove(await apiModel({ uri: `file://${kept}` }), { session, deleteWeightsFile: false }), true);
        assert.ok(existsSync(kept));
        const used = await apiModel();
        const user = (await s.ok(operations.tasks.create, { name: 'user-task', type: 'training', project: projectId })).id;
        await s.ok(operations.tasks.add_or_update_model, { task: user, name: 'in', model: used, type: 'input' });
        assert.equal(await Model.remove(used, { session }), false);
        await assert.rejects(Model.remove(used, { session, raiseOnErrors: true }), (e: unknown) => e instanceof UsageError && e.message.startsWith(`Could not remove model id=${used}: `));
        assert.equal(await Model.remove(used, { session, force: true }), true);
        await assert.rejects(Model.remove('0'.repeat(32), { session, raiseOnErrors: true }), (e: unknown) => e instanceof UsageError && e.message.startsWith(`Could not find model id=${'0'.repeat(32)}`));
      });

      it('decisions 11 and 13: a corrupted cached copy is detected and downloaded again; a tampered object is an IntegrityError', async () => {
        const task = await Task.init({ projectName: 'Integrity', taskName: 'verify', session, outputUri: true });
        try {
          const out = new OutputModel({ task });
          const dir = scratchDir('integrity');
          const content = randomBytes(256 * 1024);
          const file = path.join(dir, 'w.bin');
          writeFileSync(file, content);
          await out.updateWeights({ weightsFilename: file, asyncEnable: false });
          const m = await Model.get(out.id as string, { session });
          const cached = (await m.getWeights()) as string;
          assert.ok(readFileSync(cached).equals(content));
          writeFileSync(cached, Buffer.alloc(content.length, 7));
          const again = (await m.getWeights()) as string;
          assert.ok(readFileSync(again).equals(content), 'the corrupted copy was replaced by a verified download');
          const stored = path.join(s.dataDir, 'files', 'Integrity', `verify.${task.id}`, 'models', 'w.bin');
          writeFileSync(stored, Buffer.alloc(content.length, 9));
          await assert.rejects(m.getWeights({ forceDownload: true }), (e: unknown) => e instanceof IntegrityError && e.expectedSha256 === m.weightsSha256);
        } finally {
          await task.close();
        }
      });

      it('F85: getLocalCopy: the extracted folder of a package; a file:// weights file in place', async () => {
        const dir = scratchDir('copy');
        const file = path.join(dir, 'plain.pt');
        writeFileSync(file, 'plain');
        const plain = await Model.get(await apiModel({ uri: `file://${file}` }), { session });
        assert.equal(await plain.getLocalCopy(), file);
        const task = await Task.init({ projectName: 'Copies', taskName: 'pkg', session, outputUri: `file://${scratchDir('pkgout')}` });
        try {
          const out = new OutputModel({ task });
          const src = path.join(dir, 'src');
          mkdirSync(src);
          writeFileSync(path.join(src, 'x.bin'), 'X');
          await out.updateWeightsPackage({ weightsPath: src, asyncEnable: false });
          const folder = await (await Model.get(out.id as string, { session })).getLocalCopy();
          assert.equal(readFileSync(path.join(folder as string, 'x.bin'), 'utf8'), 'X');
        } finally {
          await task.close();
        }
      });
    });
  });
}
