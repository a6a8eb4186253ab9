import { describe, it, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import yauzl from 'yauzl';
import { events, operations } from '@cairn/protocol';
import { startTestServer, testDialects, type TestServer } from '@cairn/server/test-harness';
import { scratchDir, testSession } from '../../test/helpers.js';
import { Task } from '../task.js';
import { Session } from '../session.js';
import { OutputModel } from '../model/output-model.js';
import { InputModel, Model } from '../model/model.js';
import { ConfigError, UsageError } from '../errors.js';
import { setLogSink } from '../log.js';
import { createZipPackage } from '../storage/archive.js';
import { OFFLINE_ID, SESSION_FILE, type OfflineSessionData } from './store.js';

const SDK_ROOT = path.resolve(import.meta.dirname, '../..');

/** A fetch that fails the test when anything calls it. */
function forbiddenFetch(calls: string[]): typeof fetch {
  return async (input) => {
    const url = String(input instanceof Request ? input.url : input);
    calls.push(url);
    throw new Error(`network call while offline: ${url}`);
  };
}

/** Runs `body` with the process's global fetch replaced by a forbidden one too. */
async function withoutNetwork<T>(calls: string[], body: () => Promise<T>): Promise<T> {
  const real = globalThis.fetch;
  globalThis.fetch = forbiddenFetch(calls);
  try {
    return await body();
  } finally {
    globalThis.fetch = real;
  }
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

async function zipEntries(zip: string): Promise<string[]> {
  const file = await new Promise<yauzl.ZipFile>((resolve, reject) => yauzl.open(zip, { lazyEntries: true }, (err, f) => (err ? reject(err) : resolve(f))));
  const names: string[] = [];
  await new Promise<void>((resolve, reject) => {
    file.on('entry', (e: yauzl.Entry) => {
      names.push(e.fileName);
      file.readEntry();
    });
    file.on('end', resolve);
    file.on('error', reject);
    file.readEntry();
  });
  return names;
}

/** Every string in a JSON value. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

afterEach(() => Task.setOffline(false));

describe('offline mode without a server', () => {
  it('G95: offline ids are offline-<32 hex> and stable; the task lives in <cache dir>/offline/<task id>; no network call', async () => {
    const calls: string[] = [];
    const cacheDir = scratchDir('offline-cache');
    Task.setOffline(true);
    assert.equal(Task.isOffline(), true);
    // No API server, no credentials: offline needs none, and the session has no client to offer.
    const base = new Session({ env: {}, cacheDir, fetch: forbiddenFetch(calls) });
    assert.throws(() => base.client, (e: unknown) => e instanceof UsageError && /the SDK is offline/.test(e.message));
    await withoutNetwork(calls, async () => {
      const task = await Task.init({ projectName: 'Offline', taskName: 'ids', session: base });
      assert.match(task.id, OFFLINE_ID);
      assert.equal(task.offlineFolder, path.join(cacheDir, 'offline', task.id));
      assert.ok(existsSync(path.join(task.offlineFolder as string, SESSION_FILE)));
      assert.equal(Task.current(), task);
      const model = new OutputModel({ task, name: 'm' });
      const id = model.id;
      assert.match(String(id), OFFLINE_ID);
      assert.equal(model.id, id, 'stable across reads');
      await model.setMetadata('k', 1);
      await model.setName('renamed');
      assert.equal(model.id, id, 'stable across writes');
      assert.notEqual(new OutputModel({ task }).id, id, 'each model has its own');
      const zip = await task.close();
      assert.equal(zip, path.join(cacheDir, 'offline', `${task.id}.zip`));
      assert.ok(existsSync(zip as string));
    });
    assert.deepEqual(calls, []);
    Task.setOffline(false);
    assert.throws(() => base.client, (e: unknown) => e instanceof ConfigError && /No API server configured/.test(e.message), 'online again: where to configure a server');
  });

  it('reads of local state work; calls that need the server throw a UsageError saying the SDK is offline', async () => {
    const calls: string[] = [];
    Task.setOffline(true);
    const base = new Session({ env: {}, cacheDir: scratchDir('offline-cache'), fetch: forbiddenFetch(calls) });
    const work = scratchDir('offline-work');
    const weights = path.join(work, 'best.pt');
    writeFileSync(weights, randomBytes(4096));
    await withoutNetwork(calls, async () => {
      const task = await Task.init({ projectName: 'Offline', taskName: 'reads', session: base, tags: ['t1'] });
      const params = await task.connect({ lr: 0.1, nested: { depth: 3 } });
      assert.deepEqual(params, { lr: 0.1, nested: { depth: 3 } });
      assert.equal(task.data.hyperparams?.General?.['nested/depth']?.value, '3');
      await task.connectConfiguration({ optimizer: 'sgd' });
      assert.equal(task.getModelConfigText(), 'optimizer = "sgd"');
      await task.connectLabelEnumeration({ bg: 0, cat: 1 });
      assert.deepEqual(task.getLabelsEnumeration(), { bg: 0, cat: 1 });
      await task.connect(InputModel.empty({ session: base, labelEnumeration: { other: 5 } }));
      assert.deepEqual(task.getLabelsEnumeration(), { bg: 0, cat: 1 }, 'an empty input model is local: the task keeps its labels');

      const model = new OutputModel({ task, name: 'resnet', comment: 'hello', tags: ['a'] });
      assert.equal(model.configText, 'optimizer = "sgd"', 'the task’s configuration (decision 2)');
      assert.deepEqual(model.labels, { bg: 0, cat: 1 });
      assert.equal(model.comment, `Created by task id: ${task.id}\nhello`);
      assert.equal(model.task, task.id);
      await model.setMetadata('accuracy', 0.93);
      await model.setMetadata('classes', ['bg', 'cat']);
      assert.deepEqual(await model.getAllMetadataCasted(), {
        accuracy: { key: 'accuracy', type: 'float', value: 0.93 },
        classes: { key: 'classes', type: 'list', value: ['bg', 'cat'] },
      });
      assert.equal(await model.getMetadata('accuracy'), '0.93');
      await model.updateDesign({ configDict: { layers: 18 } });
      assert.equal(model.configText, 'layers = 18');
      await model.setTags(['a', 'b']);
      assert.deepEqual(model.tags, ['a', 'b']);

      const copy = await model.updateWeights({ weightsFilename: weights, iteration: 3 });
      assert.equal(copy, path.join(task.offlineFolder as string, 'models', model.id as string, 'best.pt'));
      assert.equal(sha256(copy), sha256(weights));
      assert.ok(existsSync(weights), 'the original is kept');
      assert.equal(model.url, `file://${copy}`);
      assert.equal(model.weightsSha256, sha256(weights));
      assert.equal(model.framework, 'PyTorch');
      assert.ok(model.comment.startsWith(`snapshot ${weights} stored\nCreated by task id: ${task.id}`));
      assert.equal(await model.getWeights(), copy, 'the copy, verified against its digest');
      assert.deepEqual(task.models.output.names, ['resnet'], 'registered by its first metadata call, under its name (decision 10)');
      assert.equal(task.models.output.get('resnet'), model);
      assert.equal(await model.updateWeights({ registerUri: 's3://bucket/other.pt' }), 's3://bucket/other.pt');
      assert.ok(!existsSync(copy), 'the copy the new weights replaced is gone');

      const offline = (e: unknown) => e instanceof UsageError && /the SDK is offline/.test(e.message);
      await assert.rejects(Model.get('abc', { session: base }), offline);
      await assert.rejects(Model.queryModels({ projectName: 'Offline', session: base }), offline);
      await assert.rejects(InputModel.get('abc', { session: base }), offline);
      await assert.rejects(Task.getTask({ taskId: 'abc' }, { session: base }), offline);
      await assert.rejects(model.publish(), offline);
      await assert.rejects(Task.importOfflineSession(task.offlineFolder as string, { session: base }), offline);
      assert.throws(() => new OutputModel({ task, baseModelId: 'abc' }), offline);
      await assert.rejects(task.connect(new InputModel({ id: 'abc', name: 'remote' }, base)), offline);
      const warnings: string[] = [];
      setLogSink((_level, message) => warnings.push(message));
      try {
        assert.equal(await model.archive(), false, 'archive never throws');
      } finally {
        setLogSink(undefined);
      }
      assert.match(warnings.join('\n'), /offline/);
      await task.close();
    });
    assert.deepEqual(calls, []);
  });

  it('CLEARML_OFFLINE_MODE turns offline mode on without a call to Task.setOffline', async () => {
    const cacheDir = scratchDir('offline-env');
    const script = [
      "import { Task, OutputModel } from './src/index.ts';",
      "globalThis.fetch = async () => { throw new Error('network call'); };",
      "const task = await Task.init({ projectName: 'Env', taskName: 'env' });",
      'const model = new OutputModel({ task });',
      'console.log(JSON.stringify({ offline: Task.isOffline(), task: task.id, model: model.id, zip: await task.close() }));',
    ].join('\n');
    const env = { PATH: process.env.PATH, HOME: cacheDir, CLEARML_OFFLINE_MODE: 'yes', CLEARML_CACHE_DIR: cacheDir };
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: SDK_ROOT, env });
    const result = JSON.parse(stdout.trim().split('\n').pop() as string) as { offline: boolean; task: string; model: string; zip: string };
    assert.equal(result.offline, true);
    assert.match(result.task, OFFLINE_ID);
    assert.match(result.model, OFFLINE_ID);
    assert.equal(result.zip, path.join(cacheDir, 'offline', `${result.task}.zip`));
    assert.ok(existsSync(result.zip));
  });

  it('refuses a bundle that names a file outside itself, or is not a session', async () => {
    const cacheDir = scratchDir('offline-bad');
    Task.setOffline(true);
    const base = new Session({ env: {}, cacheDir });
    const task = await Task.init({ projectName: 'Bad', taskName: 'bad', session: base });
    const weights = path.join(cacheDir, 'w.bin');
    writeFileSync(weights, 'w');
    await new OutputModel({ task }).updateWeights({ weightsFilename: weights });
    await task.close();
    Task.setOffline(false);
    const folder = task.offlineFolder as string;
    const manifest = path.join(folder, SESSION_FILE);
    const data = JSON.parse(readFileSync(manifest, 'utf8')) as OfflineSessionData;
    (data.models[0].weights as { file: string }).file = '../../../etc/passwd';
    writeFileSync(manifest, JSON.stringify(data));
    const online = new Session({ apiHost: 'http://127.0.0.1:9/api', accessKey: 'k', secretKey: 's', env: {}, cacheDir, fetch: forbiddenFetch([]) });
    await assert.rejects(Task.importOfflineSession(folder, { session: online }), /names a file outside itself/);
    writeFileSync(manifest, '{"format":"something else"}');
    await assert.rejects(Task.importOfflineSession(folder, { session: online }), /not a usable offline session/);
    await assert.rejects(Task.importOfflineSession(path.join(cacheDir, 'missing.zip'), { session: online }), /offline session not found/);
    const notZip = path.join(cacheDir, 'not.zip');
    writeFileSync(notZip, 'not a zip');
    await assert.rejects(Task.importOfflineSession(notZip, { session: online }), UsageError);
    const unrelated = await createZipPackage([weights], { tmpDir: cacheDir });
    await assert.rejects(Task.importOfflineSession(unrelated, { session: online }), /session\.json cannot be read/);
  });
});

for (const dialect of testDialects()) {
  describe(`offline session import against the real server (${dialect})`, () => {
    let s: TestServer;
    let online: Session;
    before(async () => {
      s = await startTestServer({ dialect });
      ({ session: online } = testSession(s));
    });
    after(() => s.stop());

    it('records everything offline, then imports a copy of the zip from another folder and working directory', async () => {
      const calls: string[] = [];
      const cacheDir = scratchDir('offline-cache');
      const work = scratchDir('offline-work');
      const weights = path.join(work, 'best.pt');
      writeFileSync(weights, randomBytes(300_000));
      const digest = sha256(weights);
      const packDir = path.join(work, 'pack');
      mkdirSync(path.join(packDir, 'sub'), { recursive: true });
      writeFileSync(path.join(packDir, 'a.bin'), 'A');
      writeFileSync(path.join(packDir, 'sub', 'b.bin'), 'B');
      const destination = scratchDir('offline-dest');
      // The same server and keys as the import, but every request fails: offline, none may be made.
      const base = new Session({ apiHost: s.apiUrl, filesHost: s.filesUrl, accessKey: s.accessKey, secretKey: s.secretKey, env: {}, cacheDir, fetch: forbiddenFetch(calls) });

      Task.setOffline(true);
      const recorded = await withoutNetwork(calls, async () => {
        const task = await Task.init({ projectName: 'Offline import', taskName: 'train offline', session: base, tags: ['nightly'] });
        await task.connect({ epochs: 3, opt: { lr: 0.01 } });
        await task.connectConfiguration({ optimizer: { name: 'sgd' } });
        await task.connectLabelEnumeration({ background: 0, cat: 1 });
        task.getLogger().reportScalar('lr', 'schedule', 0.01, 0);
        task.getLogger().reportText('epoch 1 done', { printConsole: false });

        const best = new OutputModel({ task, name: 'best model', tags: ['v1'], comment: 'trained offline', framework: 'PyTorch', configDict: { layers: 18 } });
        await best.connect(task, 'best');
        await best.setMetadata('accuracy', 0.93);
        await best.setMetadata('epochs', 3);
        await best.setMetadata('classes', ['background', 'cat']);
        await best.updateWeights({ weightsFilename: weights, iteration: 7 });
        for (let i = 0; i < 5; i++) best.reportScalar('loss', 'train', 1 / (i + 1), i);
        best.reportSingleValue('accuracy', 0.93);
        best.reportHistogram('hist', 'h', [1, 2, 3], { iteration: 2 });
        best.reportConfusionMatrix('cm', 'val', [[5, 1], [0, 4]], { iteration: 2, xlabels: ['a', 'b'], ylabels: ['a', 'b'] });

        const registered = new OutputModel({ task, name: 'registered', labelEnumeration: { x: 7 } });
        await registered.setUploadDestination(`file://${destination}`);
        await registered.updateWeights({ registerUri: 's3://bucket/models/registered.pt', iteration: 2 });

        const packaged = new OutputModel({ task, name: 'packaged' });
        await packaged.updateWeightsPackage({ weightsPath: packDir, targetFilename: 'bundle' });

        const reported = new OutputModel({ task, name: 'reported only' });
        reported.reportScalar('metric', 'm', 5, 1);

        const unused = new OutputModel({ task, name: 'never used' });
        await unused.setName('still never used');

        const edited = new OutputModel({ task, name: 'edited' });
        await edited.updateDesign({ configText: 'a = 1' });
        await edited.updateLabels({ dog: 3 });
        assert.deepEqual(task.getLabelsEnumeration(), { dog: 3 }, 'updateLabels overwrites the task’s labels');
        await edited.setName('edited model');
        await edited.setTags(['t']);
        await edited.setMetadata('k', 'v');
        await task.setModelLabelEnumeration({ background: 0, cat: 1 });

        const zip = await task.close();
        return { task, zip: zip as string, best, registered, packaged, reported };
      });
      assert.deepEqual(calls, [], 'no network call at all while offline');
      assert.equal(recorded.task.status, 'completed');

      // The bundle holds only relative paths: entry names, and files named inside it.
      const entries = await zipEntries(recorded.zip);
      assert.ok(entries.includes(SESSION_FILE) && entries.includes('events.jsonl'), entries.join(', '));
      assert.ok(entries.includes(`models/${recorded.best.id}/best.pt`));
      assert.ok(entries.includes(`models/${recorded.packaged.id}/bundle.zip`));
      for (const name of entries) assert.ok(!name.startsWith('/') && !name.split('/').includes('..'), name);
      const data = JSON.parse(readFileSync(path.join(recorded.task.offlineFolder as string, SESSION_FILE), 'utf8')) as OfflineSessionData;
      const files = data.models.flatMap((m) => (m.weights?.file ? [m.weights.file] : []));
      assert.deepEqual(files.sort(), [`models/${recorded.best.id}/best.pt`, `models/${recorded.packaged.id}/bundle.zip`].sort());
      for (const text of strings(data)) assert.ok(!text.includes(cacheDir), `no path into the cache folder: ${text}`);
      const recordedEvents = readFileSync(path.join(recorded.task.offlineFolder as string, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(recordedEvents.filter((e) => e.task === recorded.best.id && e.model_event === true).length, 8, 'model reports are model events');
      assert.equal(recordedEvents.filter((e) => e.task === recorded.task.id && e.model_event === false).length, 2);

      // Another machine: a copy of the zip in another folder, nothing else left of the offline run.
      const elsewhere = scratchDir('offline-elsewhere');
      const copy = path.join(elsewhere, 'session.zip');
      copyFileSync(recorded.zip, copy);
      rmSync(cacheDir, { recursive: true, force: true });
      rmSync(packDir, { recursive: true, force: true });
      rmSync(weights);
      Task.setOffline(false);
      const cwd = process.cwd();
      process.chdir(elsewhere);
      let task: Task;
      try {
        task = await Task.importOfflineSession('session.zip', { session: online });
      } finally {
        process.chdir(cwd);
      }
      assert.doesNotMatch(task.id, OFFLINE_ID);
      assert.equal(task.status, 'completed');
      assert.equal(Task.current(), undefined, 'an import does not become the current task');
      assert.ok(readdirSync(elsewhere).every((f) => f === 'session.zip'), 'the import cleans up what it extracted');

      const stored = (await s.ok(operations.tasks.get_by_id, { task: task.id })).task;
      assert.equal(stored.name, 'train offline');
      assert.equal(stored.status, 'completed');
      assert.deepEqual(stored.tags, ['nightly']);
      assert.match(String(stored.comment), /^Auto-generated at /);
      const project = (await s.ok(operations.projects.get_by_id, { project: String(stored.project) })).project;
      assert.equal(project.name, 'Offline import');
      assert.equal(stored.configuration?.General?.value, 'optimizer {\n  name = "sgd"\n}');
      assert.equal(stored.hyperparams?.General?.epochs?.value, '3');
      assert.equal(stored.hyperparams?.General?.['opt/lr']?.value, '0.01');
      assert.deepEqual(stored.execution?.model_labels, { background: 0, cat: 1 });

      const outputs = Object.fromEntries((stored.models?.output ?? []).map((e) => [e.name, e.model]));
      assert.deepEqual(Object.keys(outputs).sort(), ['best', 'bundle', 'edited model', 'registered', 'reported only']);
      assert.deepEqual(task.models.output.names.sort(), ['best', 'bundle', 'edited model', 'registered', 'reported only']);

      const best = await Model.get(outputs.best, { session: online });
      assert.equal(best.name, 'best model');
      assert.deepEqual(best.tags, ['v1']);
      assert.equal(best.framework, 'PyTorch');
      assert.equal(best.configText, 'layers = 18');
      assert.deepEqual(best.labels, { background: 0, cat: 1 });
      assert.equal(best.comment, `snapshot ${weights} stored\nCreated by task id: ${task.id}\ntrained offline`);
      assert.equal(best.task, task.id);
      assert.equal(best.project, stored.project);
      assert.deepEqual(await best.getAllMetadataCasted(), {
        accuracy: { key: 'accuracy', type: 'float', value: 0.93 },
        epochs: { key: 'epochs', type: 'int', value: 3 },
        classes: { key: 'classes', type: 'list', value: ['background', 'cat'] },
      });
      assert.equal(best.weightsSha256, digest, 'the digest recorded by the upload');
      assert.ok(best.url.startsWith(`${s.filesUrl}/`), best.url);
      assert.ok(best.url.endsWith('/models/best.pt'), best.url);
      const downloaded = await best.getWeights({ raiseOnError: true });
      assert.equal(sha256(downloaded as string), digest, 'the weights on the server are the original file');
      assert.equal((await s.ok(operations.models.get_by_id, { model: best.id })).model.last_iteration, 7);

      const scalars = (await s.ok(events.scalar_metrics_iter_histogram, { task: best.id, model_events: true })) as Record<string, Record<string, { x: number[]; y: number[] }>>;
      assert.deepEqual(scalars.loss.train.x, [0, 1, 2, 3, 4]);
      assert.deepEqual(scalars.loss.train.y, [1, 1 / 2, 1 / 3, 1 / 4, 1 / 5]);
      const single = await s.ok(events.get_task_single_value_metrics, { tasks: [best.id], model_events: true });
      assert.equal(single.tasks[0].values[0].value, 0.93);
      const plots = await s.ok(events.get_task_plots, { task: best.id, model_events: true });
      assert.deepEqual(plots.plots.map((p) => p.metric).sort(), ['cm', 'hist']);
      const taskScalars = (await s.ok(events.scalar_metrics_iter_histogram, { task: task.id })) as Record<string, Record<string, { y: number[] }>>;
      assert.deepEqual(taskScalars.lr.schedule.y, [0.01]);
      const log = await s.ok(events.get_task_log, { task: task.id });
      assert.deepEqual(log.events.map((e) => e.msg), ['epoch 1 done']);

      const registered = await Model.get(outputs.registered, { session: online });
      assert.equal(registered.url, 's3://bucket/models/registered.pt');
      assert.deepEqual(registered.labels, { x: 7 });
      assert.equal(registered.comment, `snapshot s3://bucket/models/registered.pt stored\nCreated by task id: ${task.id}`);

      const packaged = await Model.get(outputs.bundle, { session: online });
      assert.equal(packaged.name, 'packaged');
      assert.ok(packaged.isPackage);
      const unpacked = await packaged.getWeightsPackage({ raiseOnError: true, returnPath: true });
      assert.equal(readFileSync(path.join(unpacked as string, 'sub', 'b.bin'), 'utf8'), 'B');
      assert.match(packaged.comment, new RegExp(`^snapshot \\['${packDir}'\\] stored\n`));

      const reported = await Model.get(outputs['reported only'], { session: online });
      const reportedScalars = (await s.ok(events.scalar_metrics_iter_histogram, { task: reported.id, model_events: true })) as Record<string, Record<string, { y: number[] }>>;
      assert.deepEqual(reportedScalars.metric.m.y, [5]);
      const edited = await Model.get(outputs['edited model'], { session: online });
      assert.equal(edited.name, 'edited model');
      assert.deepEqual(edited.tags, ['t']);
      assert.equal(edited.configText, 'a = 1');
      assert.deepEqual(edited.labels, { dog: 3 });
      assert.equal(await edited.getMetadata('k'), 'v');
      assert.equal(edited.url, '');
      const all = await s.ok(operations.models.get_all, { task: [task.id] });
      assert.equal(all.models.length, 5, 'a model never used is not created, as online');
    });

    it('imports the folder of a task that failed, as failed; a cut-short last report is left out, damage fails the import', async () => {
      const cacheDir = scratchDir('offline-cache');
      const weights = path.join(scratchDir('offline-work'), 'w.bin');
      writeFileSync(weights, randomBytes(1000));
      Task.setOffline(true);
      const base = new Session({ env: {}, cacheDir });
      const task = await Task.init({ projectName: 'Offline failed', taskName: 'broken', session: base });
      const model = new OutputModel({ task, name: 'half' });
      const copy = await model.updateWeights({ weightsFilename: weights });
      model.reportScalar('loss', 'train', 9, 1);
      await task.markFailed('diverged');
      Task.setOffline(false);
      const eventsFile = path.join(task.offlineFolder as string, 'events.jsonl');
      const lines = readFileSync(eventsFile, 'utf8');
      writeFileSync(eventsFile, `${lines}{"task": "offl`);
      const warnings: string[] = [];
      setLogSink((_level, message) => warnings.push(message));
      let imported: Task;
      try {
        imported = await Task.importOfflineSession(task.offlineFolder as string, { session: online });
      } finally {
        setLogSink(undefined);
      }
      assert.equal(imported.status, 'failed');
      assert.equal((await s.ok(operations.tasks.get_by_id, { task: imported.id })).task.status_reason, 'diverged');
      assert.match(warnings.join('\n'), /events\.jsonl line 2 of the offline session is not JSON: it was cut short/);
      const half = imported.models.output.get('w') as Model;
      assert.equal(half.name, 'half');
      const scalars = (await s.ok(events.scalar_metrics_iter_histogram, { task: half.id as string, model_events: true })) as Record<string, Record<string, { y: number[] }>>;
      assert.deepEqual(scalars.loss.train.y, [9]);

      const latestImport = async () => {
        const res = await s.ok(operations.tasks.get_all, { name: '^broken$', order_by: ['-created'] });
        return res.tasks[0];
      };
      writeFileSync(eventsFile, `not json\n${lines}`);
      await assert.rejects(Task.importOfflineSession(task.offlineFolder as string, { session: online }), /events\.jsonl line 1 of the offline session is not JSON/);
      assert.notEqual((await latestImport()).id, imported.id);
      assert.match(String((await latestImport()).status_reason), /offline session import failed/, 'a failed import leaves its task failed');

      writeFileSync(eventsFile, lines);
      writeFileSync(copy, 'tampered');
      await assert.rejects(Task.importOfflineSession(task.offlineFolder as string, { session: online }), /SHA-256 mismatch/);
      const latest = await latestImport();
      assert.equal(latest.status, 'failed');
      assert.match(String(latest.status_reason), /offline session import failed: SHA-256 mismatch/);
    });
  });
}
