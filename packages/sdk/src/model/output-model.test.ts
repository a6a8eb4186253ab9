import { describe, it, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import yauzl from 'yauzl';
import { models, operations } from '@cairn/protocol';
import { startTestServer, testDialects, type TestServer } from '@cairn/server/test-harness';
import { scratchDir, testSession, UploadGate, type Recorder } from '../../test/helpers.js';
import { Task } from '../task.js';
import type { Session } from '../session.js';
import { OutputModel } from './output-model.js';
import { Model } from './model.js';
import { UploadError, UsageError } from '../errors.js';
import { setLogSink, type LogLevel } from '../log.js';

const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');


function weightsFile(dir: string, name: string, content = `weights of ${name} ${Math.random()}`): string {
  const file = path.join(dir, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
}

function zipEntries(file: string): Promise<{ name: string; method: number }[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err);
      const out: { name: string; method: number }[] = [];
      zip.on('entry', (e: yauzl.Entry) => {
        out.push({ name: e.fileName, method: e.compressionMethod });
        zip.readEntry();
      });
      zip.on('end', () => resolve(out));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

/** Captures SDK warnings while `fn` runs. */
async function captureLog<T>(fn: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  setLogSink((level: LogLevel, message: string) => lines.push(`${level}: ${message}`), 'warning');
  try {
    return { result: await fn(), lines };
  } finally {
    setLogSink(undefined);
  }
}

describe('OutputModel without a task (matrix G86)', () => {
  it('G86: no task given and no current task is a UsageError', () => {
    assert.equal(Task.current(), undefined);
    assert.throws(() => new OutputModel(), (e: unknown) => e instanceof UsageError && e.message === 'task object was not provided, and no current task was found');
  });
});

for (const dialect of testDialects()) {
  describe(`OutputModel against the real server (${dialect})`, () => {
    let s: TestServer;
    let session: Session;
    let recorder: Recorder;
    let work: string;
    let seq = 0;

    before(async () => {
      s = await startTestServer({ dialect });
      ({ session, recorder } = testSession(s));
    });
    after(async () => {
      OutputModel.setDefaultUploadUri(null);
      await s.stop();
    });
    beforeEach(() => {
      work = scratchDir('out');
    });

    const newTask = async (options: { outputUri?: string | boolean; projectName?: string; taskName?: string; on?: Session } = {}) =>
      Task.init({ projectName: options.projectName ?? 'Proj', taskName: options.taskName ?? `train-${++seq}`, outputUri: options.outputUri, session: options.on ?? session });
    const serverModel = async (id: string) => (await s.ok(models.get_by_id, { model: id })).model;

    describe('construction and connect (matrix G)', () => {
      it('G87: a new model sends nothing; comment and id', async () => {
        const task = await newTask();
        recorder.clear();
        const m = new OutputModel({ task, name: 'm', comment: 'hello' });
        assert.deepEqual(recorder.endpoints(), []);
        assert.equal(m.comment, `Created by task id: ${task.id}\nhello`);
        assert.equal(m.id, undefined);
        assert.equal(m.published, false, 'D40: a floating model is not published');
        assert.equal(m.task, task.id, 'D41: an output model names its task');
      });

      it('G88 (adjusted by decision 2): name, labels and configuration default to the task’s', async () => {
        const task = await newTask();
        await task.setModelLabelEnumeration({ bg: 0, cat: 1 });
        await task.setModelConfig({ configDict: { lr: 0.5 } });
        const m = new OutputModel({ task });
        assert.equal(m.name, task.name);
        assert.deepEqual(m.labels, { bg: 0, cat: 1 });
        assert.equal(m.configText, 'lr = 0.5');
        assert.deepEqual(m.configDict, { lr: 0.5 });
        const bare = new OutputModel({ task: await newTask() });
        assert.equal(bare.configText, '');
      });

      it('G89: given labels win over the task’s', async () => {
        const task = await newTask();
        await task.setModelLabelEnumeration({ bg: 0 });
        assert.deepEqual(new OutputModel({ task, labelEnumeration: { a: 1 } }).labels, { a: 1 });
      });

      it('G90: the upload destination starts as the task’s output URI without the trailing slash', async () => {
        const out = scratchDir('g90');
        const task = await newTask({ outputUri: `file://${out}/` });
        assert.equal(task.outputUri, `file://${out}`);
        assert.equal(new OutputModel({ task }).uploadStorageUri, `file://${out}`);
      });

      it('A5: a config dict that is not a dict is refused', async () => {
        const task = await newTask();
        assert.throws(() => new OutputModel({ task, configDict: [1, 2] as unknown as object }), (e: unknown) => e instanceof UsageError && e.message === 'Model configuration only supports dictionary or string objects');
        assert.throws(() => new OutputModel({ task, configText: 'a', configDict: { a: 1 } }), /Only one of \(config_text, config_dict\) is allowed/);
      });

      it('G91 (adjusted by decision 8): baseModelId reuses a model: task, project, comment, entry from its URI; its design is kept', async () => {
        const other = await newTask();
        const base = new OutputModel({ task: other, configText: 'keep = 1', name: 'base-model' });
        await base.updateWeights({ registerUri: 'file:///data/models/m9.pt' });
        const task = await newTask();
        recorder.clear();
        const m = new OutputModel({ task, baseModelId: base.id });
        await m.reload();
        assert.equal(m.id, base.id);
        const edit = recorder.bodies('models.edit')[0];
        assert.equal(edit.model, base.id);
        assert.equal(edit.task, task.id);
        assert.equal(edit.project, task.project);
        assert.match(String(edit.comment), new RegExp(`Overwritten by task id: ${task.id}`));
        assert.equal(edit.design, undefined, 'no configuration given: the base model keeps its design');
        const reg = recorder.bodies('tasks.add_or_update_model')[0];
        assert.deepEqual({ ...reg }, { task: task.id, name: 'm9', model: base.id, type: 'output' });
        const rec = await serverModel(base.id as string);
        assert.equal(rec.task, task.id);
        assert.deepEqual(rec.design, { design: 'keep = 1' });
      });

      it('G92: an unknown baseModelId leaves the model floating, without an exception', async () => {
        const task = await newTask();
        const { lines } = await captureLog(async () => {
          const m = new OutputModel({ task, baseModelId: 'f'.repeat(32) });
          await m.reload();
          assert.equal(m.id, undefined);
        });
        assert.ok(lines.some((l) => l.includes('could not reuse model')));
      });

      it('G93: connecting to another task is refused', async () => {
        const m = new OutputModel({ task: await newTask() });
        const other = await newTask();
        await assert.rejects(m.connect(other), (e: unknown) => e instanceof UsageError && e.message === 'Can only connect preexisting model to task, but this is a fresh model');
      });

      it('G94: a connect name wins over the weights file name', async () => {
        const task = await newTask();
        const m = new OutputModel({ task });
        await m.connect(task, 'gen');
        await m.updateWeights({ weightsFilename: weightsFile(work, 'a.pt'), asyncEnable: false });
        assert.deepEqual(task.models.output.names, ['gen']);
        assert.equal((await Task.getTask({ taskId: task.id }, { session })).models.output.get('gen')?.id, m.id);
      });
    });

    describe('updateDesign and updateLabels (matrix H)', () => {
      it('H96: on a floating model: local only, and the task takes the config when it has none', async () => {
        const task = await newTask();
        const m = new OutputModel({ task });
        recorder.clear();
        assert.equal(await m.updateDesign({ configDict: { a: 1 } }), true);
        assert.equal(m.configText, 'a = 1');
        assert.ok(!recorder.endpoints().some((e) => e.startsWith('models.')), 'no model request');
        assert.equal(task.getModelConfigText(), 'a = 1');
      });

      it('H97: a task that has a configuration keeps it', async () => {
        const task = await newTask();
        await task.setModelConfig({ configText: 'mine = 1' });
        await new OutputModel({ task }).updateDesign({ configText: 'x = 2' });
        assert.equal(task.getModelConfigText(), 'mine = 1');
      });

      it('H98: on a created model: models.edit with the wrapped design', async () => {
        const task = await newTask();
        const m = new OutputModel({ task });
        await m.setMetadata('k', 1);
        recorder.clear();
        await m.updateDesign({ configText: 'x' });
        assert.deepEqual(recorder.bodies('models.edit')[0].design, { design: 'x' });
        assert.deepEqual((await serverModel(m.id as string)).design, { design: 'x' });
      });

      it('H99: label validation messages', async () => {
        const m = new OutputModel({ task: await newTask() });
        await assert.rejects(m.updateLabels({ a: '1' } as never), (e: unknown) => e instanceof UsageError && e.message === 'label enumeration values must all be integers');
        await assert.rejects(m.updateLabels([1] as never), (e: unknown) => e instanceof UsageError && e.message === 'label enumeration: expected a dictionary');
      });

      it('H100: updateLabels overwrites the task’s labels', async () => {
        const task = await newTask();
        await task.setModelLabelEnumeration({ old: 5 });
        const m = new OutputModel({ task });
        await m.updateLabels({ bg: 0, p: 1 });
        assert.deepEqual(task.getLabelsEnumeration(), { bg: 0, p: 1 });
        assert.deepEqual((await Task.getTask({ taskId: task.id }, { session })).getLabelsEnumeration(), { bg: 0, p: 1 });
      });

      it('H101: a published model cannot be changed', async () => {
        const m = new OutputModel({ task: await newTask() });
        await m.publish();
        const published = (e: unknown) => e instanceof UsageError && e.message === 'Model is published and cannot be changed';
        await assert.rejects(m.updateDesign({ configText: 'x' }), published);
        await assert.rejects(m.updateLabels({ a: 1 }), published);
        await assert.rejects(m.updateWeights({ registerUri: 'file:///x.pt' }), published);
        await assert.rejects(m.setUploadDestination('file:///tmp'), published);
      });
    });

    describe('updateWeights (matrix I)', () => {
      it('I102: exactly one of weightsFilename and registerUri', async () => {
        const m = new OutputModel({ task: await newTask() });
        const msg = 'Model update must have either local weights file to upload, or pre-uploaded register_uri, never both';
        await assert.rejects(m.updateWeights({}), (e: unknown) => e instanceof UsageError && e.message === msg);
        await assert.rejects(m.updateWeights({ weightsFilename: 'a', registerUri: 'b' }), (e: unknown) => e instanceof UsageError && e.message === msg);
      });

      it('I103/I104 (adjusted by decisions 5, 7, 11): with no destination set the file server takes the upload; model name, entry, digest; the file goes once verified', async () => {
        const task = await newTask({ taskName: 'train' });
        const m = new OutputModel({ task });
        const file = weightsFile(work, 'w/best.pt', 'best weights');
        recorder.clear();
        const uri = await m.updateWeights({ weightsFilename: file });
        await OutputModel.waitForUploads();
        assert.ok(uri.startsWith(`${s.filesUrl}/Proj/train.${task.id}/models/best.pt`), uri);
        assert.equal(m.url, uri, 'decision 6: the URI announced is the URI recorded');
        assert.equal(m.name, 'train');
        assert.equal(m.weightsSha256, sha('best weights'));
        assert.equal(m.weightsSize, 12);
        assert.ok(!existsSync(file), 'decision 7: the uploaded file is deleted after the verified upload');
        const reg = recorder.bodies('tasks.add_or_update_model');
        assert.deepEqual({ ...reg[0] }, { task: task.id, name: 'best', model: m.id, type: 'output' });
        assert.equal(recorder.bodies('models.create')[0].uri, '', 'decision 4: created without a placeholder URI');
        const rec = await serverModel(m.id as string);
        assert.equal(rec.uri, uri);
        assert.equal(rec.weights_sha256, sha('best weights'));
        assert.equal(readFileSync(path.join(s.dataDir, 'files', 'Proj', `train.${task.id}`, 'models', 'best.pt'), 'utf8'), 'best weights');
      });

      it('I105/I106: the comment records each snapshot, unless updateComment is false', async () => {
        const task = await newTask();
        const m = new OutputModel({ task });
        const best = weightsFile(work, 'w/best.pt');
        const c = weightsFile(work, 'w/c.pt');
        await m.updateWeights({ weightsFilename: best, asyncEnable: false });
        assert.equal(m.comment, `snapshot ${best} stored\nCreated by task id: ${task.id}`);
        await m.updateWeights({ weightsFilename: c, asyncEnable: false });
        assert.equal(m.comment, `snapshot ${c} stored\nsnapshot ${best} stored\nCreated by task id: ${task.id}`);
        await m.updateWeights({ weightsFilename: weightsFile(work, 'w/d.pt'), updateComment: false, asyncEnable: false });
        assert.equal(m.comment, `snapshot ${c} stored\nsnapshot ${best} stored\nCreated by task id: ${task.id}`);
      });

      it('I107 (adjusted by decision 4): registerUri is recorded as is, with the framework, and returned', async () => {
        const m = new OutputModel({ task: await newTask() });
        const uri = await m.updateWeights({ registerUri: 's3://b/m.onnx' });
        assert.equal(uri, 's3://b/m.onnx');
        const rec = await serverModel(m.id as string);
        assert.equal(rec.uri, 's3://b/m.onnx');
        assert.equal(rec.framework, 'ONNX');
        assert.equal(rec.weights_sha256 ?? null, null);
      });

      it('I108: a relative registerUri becomes a file:// URI under the working directory', async () => {
        const m = new OutputModel({ task: await newTask() });
        assert.equal(await m.updateWeights({ registerUri: 'relative.pt' }), `file://${process.cwd()}/relative.pt`);
        assert.equal(m.url, `file://${process.cwd()}/relative.pt`);
      });

      it('I109: a file:// uploadUri (blocking): the file is copied into the layout and the URI returned and recorded', async () => {
        const out = path.join(scratchDir('i109'), 'not-yet');
        const task = await newTask({ taskName: 'train' });
        const m = new OutputModel({ task });
        const file = weightsFile(work, 'best.pt', 'i109');
        const uri = await m.updateWeights({ weightsFilename: file, uploadUri: `file://${out}`, asyncEnable: false });
        const expected = path.join(out, 'Proj', `train.${task.id}`, 'models', 'best.pt');
        assert.equal(uri, `file://${expected}`);
        assert.equal(m.url, uri);
        assert.equal(readFileSync(expected, 'utf8'), 'i109');
        assert.equal(m.uploadStorageUri, `file://${out}`, 'the upload URI persists for later updates');
      });

      it('I110 (adjusted by decision 4): background upload: resolves at once; no placeholder URI meanwhile; URI and iteration after', async () => {
        const gate = new UploadGate(s.filesUrl);
        const { session: gated } = testSession(s, {}, gate.wrap);
        const task = await newTask({ on: gated });
        const m = new OutputModel({ task });
        gate.close();
        const uri = await m.updateWeights({ weightsFilename: weightsFile(work, 'best.pt', 'i110'), iteration: 7 });
        assert.ok(uri.startsWith(s.filesUrl));
        const before = await serverModel(m.id as string);
        assert.equal(before.uri, '', 'no uploading_file placeholder while the upload runs');
        gate.open();
        await OutputModel.waitForUploads();
        const afterRec = await serverModel(m.id as string);
        assert.equal(afterRec.uri, uri);
        assert.equal(afterRec.last_iteration, 7);
        const t = (await s.ok(operations.tasks.get_by_id, { task: task.id })).task;
        assert.ok((t.last_iteration ?? 0) >= 7, 'the iteration raised the task’s last iteration');
      });

      it('I111/I112 (adjusted by decisions 4 and 7): a failed background upload rejects waitForUploads and close, names file, destination and cause; the URI and the file stay', async () => {
        const task = await newTask();
        const m = new OutputModel({ task });
        const first = weightsFile(work, 'first.pt', 'ok');
        await m.updateWeights({ weightsFilename: first, asyncEnable: false, autoDeleteFile: false });
        const previous = m.url;
        // A folder that is writable when chosen and replaced by a plain file before the upload: mkdir fails (even as root).
        const dest = scratchDir('i111');
        await m.setUploadDestination(`file://${dest}`);
        rmSync(dest, { recursive: true });
        writeFileSync(dest, 'not a folder');
        const file = weightsFile(work, 'second.pt', 'lost?');
        const uri = await m.updateWeights({ weightsFilename: file });
        assert.ok(uri.startsWith(`file://${dest}/`), 'decision 4: resolves to the final URI even in the background');
        await assert.rejects(OutputModel.waitForUploads(), (e: unknown) => {
          assert.ok(e instanceof UploadError, String(e));
          assert.equal(e.file, file);
          assert.ok(e.destination.startsWith(`file://${dest}/`));
          assert.match(e.message, new RegExp(`upload of ${file} to file://${dest}/.* failed: .*(ENOTDIR|EEXIST|not a directory)`, 'i'));
          return true;
        });
        assert.equal((await serverModel(m.id as string)).uri, previous, 'the model keeps its previous URI');
        assert.ok(existsSync(file), 'decision 7: a file whose upload failed is not deleted');
        await assert.rejects(task.close(), (e: unknown) => e instanceof UploadError && e.file === file);
        assert.equal((await s.ok(operations.tasks.get_by_id, { task: task.id })).task.status, 'failed');
        assert.equal(Task.current(), undefined);
        // I112: the blocking form throws at once.
        const m2 = new OutputModel({ task: await newTask() });
        await m2.setUploadDestination(`file://${scratchDir('i112')}`);
        await assert.rejects(m2.updateWeights({ weightsFilename: path.join(work, 'missing.pt'), asyncEnable: false }), UsageError);
      });

      it('I113: targetFilename names the object and the entry', async () => {
        const task = await newTask({ taskName: 'train' });
        const m = new OutputModel({ task });
        const uri = await m.updateWeights({ weightsFilename: weightsFile(work, 'w/best.pt'), targetFilename: 'final', asyncEnable: false });
        assert.ok(uri.endsWith(`/train.${task.id}/models/final`), uri);
        assert.deepEqual(task.models.output.names, ['final']);
      });

      it('I114: the iteration is recorded by blocking and background uploads alike (decision 6), 0 included', async () => {
        const m = new OutputModel({ task: await newTask() });
        recorder.clear();
        await m.updateWeights({ weightsFilename: weightsFile(work, 'a.pt'), iteration: 7, asyncEnable: false });
        await m.updateWeights({ weightsFilename: weightsFile(work, 'b.pt'), iteration: 0 });
        await OutputModel.waitForUploads();
        const iterations = recorder.bodies('models.edit').filter((b) => b.uri).map((b) => b.iteration);
        assert.deepEqual(iterations, [7, 0]);
      });

      it('I115/I116 (adjusted by decision 7): autoDeleteFile removes only the uploaded file, never an earlier one', async () => {
        const m = new OutputModel({ task: await newTask() });
        const kept = weightsFile(work, 'kept.pt');
        const gone = weightsFile(work, 'gone.pt');
        await m.updateWeights({ weightsFilename: kept, autoDeleteFile: false });
        await m.updateWeights({ weightsFilename: gone });
        await OutputModel.waitForUploads();
        assert.ok(existsSync(kept));
        assert.ok(!existsSync(gone));
      });

      it('I117: isPackage sets the package system tag', async () => {
        const m = new OutputModel({ task: await newTask() });
        await m.updateWeights({ weightsFilename: weightsFile(work, 'p.zip'), isPackage: true, asyncEnable: false });
        assert.ok(m.systemTags.includes('package'));
        assert.ok(m.isPackage);
      });

      it('I118: a completed task cannot take the model: a warning, no registration', async () => {
        const task = await newTask();
        await task.markCompleted();
        const { lines } = await captureLog(async () => {
          const m = new OutputModel({ task });
          await m.updateWeights({ registerUri: 'file:///x/late.pt' });
          assert.ok(m.id);
        });
        assert.ok(lines.includes(`warning: Could not update last created model in Task ${task.id}, Task status 'completed' cannot be updated`), lines.join('\n'));
        assert.deepEqual((await s.ok(operations.tasks.get_by_id, { task: task.id })).task.models?.output ?? [], []);
      });

      it('I119: a third background upload waits while two are pending', async () => {
        const gate = new UploadGate(s.filesUrl);
        const { session: gated } = testSession(s, {}, gate.wrap);
        const m = new OutputModel({ task: await newTask({ on: gated }) });
        gate.close();
        await m.updateWeights({ weightsFilename: weightsFile(work, '1.pt') });
        await m.updateWeights({ weightsFilename: weightsFile(work, '2.pt') });
        let third = false;
        const p = m.updateWeights({ weightsFilename: weightsFile(work, '3.pt') }).then(() => (third = true));
        await new Promise((r) => setTimeout(r, 300));
        assert.equal(third, false, 'held back while two uploads are pending');
        gate.open();
        await p;
        await OutputModel.waitForUploads();
        assert.ok(m.url.endsWith('/3.pt'), 'uploads of one model land in order');
      });

      it('I120: a files-server destination percent-encodes the recorded URI; the stored path keeps its space', async () => {
        const task = await newTask({ projectName: 'My Proj', taskName: 'train', outputUri: true });
        assert.equal(task.outputUri, s.filesUrl);
        const m = new OutputModel({ task });
        const sent: number[] = [];
        const uri = await m.updateWeights({ weightsFilename: weightsFile(work, 'best.pt', 'spaced'), onProgress: (p) => sent.push(p.bytes) });
        await OutputModel.waitForUploads();
        assert.equal(uri, `${s.filesUrl}/My%20Proj/train.${task.id}/models/best.pt`);
        assert.equal(m.url, uri);
        assert.equal(readFileSync(path.join(s.dataDir, 'files', 'My Proj', `train.${task.id}`, 'models', 'best.pt'), 'utf8'), 'spaced');
        assert.equal(sent.at(-1), 6, 'upload progress ends at the file size');
        const received: number[] = [];
        assert.equal(readFileSync((await m.getWeights({ onProgress: (p) => received.push(p.bytes) })) as string, 'utf8'), 'spaced');
        assert.equal(received.at(-1), 6, 'download progress ends at the file size');
      });

      it('I121 (adjusted by decision 7): a folder is packaged as <folder>.zip with the package tag; its files stay', async () => {
        const m = new OutputModel({ task: await newTask() });
        const dir = path.join(work, 'ckpt');
        weightsFile(dir, 'a.bin', 'A');
        weightsFile(dir, 'sub/b.bin', 'B');
        const uri = await m.updateWeights({ weightsFilename: dir });
        await OutputModel.waitForUploads();
        assert.ok(uri.endsWith('/models/ckpt.zip'), uri);
        assert.ok(m.isPackage);
        assert.ok(existsSync(path.join(dir, 'a.bin')) && existsSync(path.join(dir, 'sub/b.bin')));
      });
    });

    describe('updateWeightsPackage (matrix J)', () => {
      it('J122: exactly one of weightsFilenames and weightsPath', async () => {
        const m = new OutputModel({ task: await newTask() });
        const msg = 'Model update weights package should get either directory path to pack or a list of files';
        await assert.rejects(m.updateWeightsPackage({}), (e: unknown) => e instanceof UsageError && e.message === msg);
        await assert.rejects(m.updateWeightsPackage({ weightsFilenames: ['a'], weightsPath: 'b' }), (e: unknown) => e instanceof UsageError && e.message === msg);
      });

      it('J123/J126/J127/J128: files are stored uncompressed under their relative names; comment; the temporary zip goes; extracted on download', async () => {
        const task = await newTask();
        const m = new OutputModel({ task });
        const a = weightsFile(work, 'd/a.bin', 'AAA');
        const b = weightsFile(work, 'd/sub/b.bin', 'BBB');
        const zipTmp = scratchDir('ziptmp');
        const saved = process.env.TMPDIR;
        process.env.TMPDIR = zipTmp;
        let uri: string;
        try {
          uri = await m.updateWeightsPackage({ weightsFilenames: [a, b], asyncEnable: false });
        } finally {
          if (saved === undefined) delete process.env.TMPDIR;
          else process.env.TMPDIR = saved;
        }
        assert.ok(uri.endsWith('/models/model_package.zip'), uri);
        assert.deepEqual(readdirSync(zipTmp), [], 'the temporary zip is removed');
        assert.ok(existsSync(a) && existsSync(b), 'decision 7: packed files are never deleted');
        assert.equal(m.comment, `snapshot ['${a}', '${b}'] stored\nCreated by task id: ${task.id}`);
        assert.ok(m.isPackage);
        const zipPath = await new Model(m.data, session).getWeights();
        assert.deepEqual(
          (await zipEntries(zipPath as string)).filter((e) => !e.name.endsWith('/')).map((e) => [e.name, e.method]),
          [['a.bin', 0], ['sub/b.bin', 0]],
        );
        const entries = (await m.getWeightsPackage()) as string[];
        assert.deepEqual(entries.map((e) => path.basename(e)), ['a.bin', 'sub']);
        assert.equal(readFileSync(entries[0], 'utf8'), 'AAA');
        const folder = await m.getWeightsPackage({ returnPath: true });
        assert.equal(readFileSync(path.join(folder as string, 'sub', 'b.bin'), 'utf8'), 'BBB');
        const plain = new OutputModel({ task });
        await plain.updateWeights({ registerUri: 'file:///x/y.pt' });
        await assert.rejects(plain.getWeightsPackage(), (e: unknown) => e instanceof UsageError && e.message === 'Model is not packaged');
      });

      it('J124/J125: one file is stored under its base name; target names get .zip once', async () => {
        const m = new OutputModel({ task: await newTask() });
        const b = weightsFile(work, 'd/sub/b.bin', 'B');
        const uri = await m.updateWeightsPackage({ weightsFilenames: [b], targetFilename: 'pkg', asyncEnable: false });
        assert.ok(uri.endsWith('/models/pkg.zip'));
        assert.deepEqual((await zipEntries((await new Model(m.data, session).getWeights()) as string)).map((e) => e.name), ['b.bin']);
        const upper = await m.updateWeightsPackage({ weightsFilenames: [b], targetFilename: 'PKG.ZIP', asyncEnable: false });
        assert.ok(upper.endsWith('/models/PKG.ZIP'));
      });
    });

    describe('destinations (matrix K)', () => {
      it('K129/K130: "" changes nothing; a local path becomes file:// without the slash and the folder is created', async () => {
        const m = new OutputModel({ task: await newTask() });
        await m.setUploadDestination('');
        assert.equal(m.uploadStorageUri, undefined);
        const dir = path.join(scratchDir('k130'), 'mnt', 'out');
        await m.setUploadDestination(`${dir}/`);
        assert.equal(m.uploadStorageUri, `file://${dir}`);
        assert.ok(existsSync(dir));
      });

      it('K131: a destination that cannot be written is refused with ClearML’s message', async () => {
        const m = new OutputModel({ task: await newTask() });
        const blocker = path.join(work, 'a-file');
        writeFileSync(blocker, 'x');
        await assert.rejects(m.setUploadDestination(`file://${blocker}/sub`), (e: unknown) => e instanceof UsageError && e.message.startsWith(`Could not set destination uri to: file://${blocker}/sub [Check write permissions]`));
        const noCredentials = testSession(s, { env: {} }).session;
        const saved = { ...process.env };
        for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
        try {
          const m2 = new OutputModel({ task: await newTask({ on: noCredentials }) });
          await assert.rejects(m2.setUploadDestination('s3://bkt/x'), (e: unknown) => e instanceof UsageError && e.message.startsWith('Could not set destination uri to: s3://bkt/x [Check write permissions]'));
        } finally {
          Object.assign(process.env, saved);
        }
      });

      it('K132 (adjusted by decision 5): the default upload URI is used when nothing else is set, and can be reset', async () => {
        const out = scratchDir('k132');
        OutputModel.setDefaultUploadUri(`file://${out}/`);
        try {
          const task = await newTask({ taskName: 'train' });
          const m = new OutputModel({ task });
          const uri = await m.updateWeights({ weightsFilename: weightsFile(work, 'd.pt'), asyncEnable: false });
          assert.equal(uri, `file://${out}/Proj/train.${task.id}/models/d.pt`);
          const withOutput = new OutputModel({ task: await newTask({ outputUri: `file://${scratchDir('k132b')}` }) });
          assert.ok(!(await withOutput.updateWeights({ weightsFilename: weightsFile(work, 'e.pt'), asyncEnable: false })).startsWith(`file://${out}`), 'the task’s output URI comes first');
        } finally {
          OutputModel.setDefaultUploadUri(null);
        }
        assert.equal(OutputModel.getDefaultUploadUri(), undefined);
      });

      it('K133: waitForUploads with nothing pending, with timeout 0, and with maxNumUploads', async () => {
        const t0 = Date.now();
        await OutputModel.waitForUploads();
        assert.ok(Date.now() - t0 < 100);
        const gate = new UploadGate(s.filesUrl);
        const { session: gated } = testSession(s, {}, gate.wrap);
        const a = new OutputModel({ task: await newTask({ on: gated }) });
        const b = new OutputModel({ task: await newTask({ on: gated }) });
        gate.close();
        await a.updateWeights({ weightsFilename: weightsFile(work, 'k1.pt') });
        await b.updateWeights({ weightsFilename: weightsFile(work, 'k2.pt') });
        const t1 = Date.now();
        await OutputModel.waitForUploads({ timeout: 0 });
        await OutputModel.waitForUploads({ timeout: 0.2 });
        assert.ok(Date.now() - t1 < 1000, 'bounded by the timeout');
        assert.equal(a.url, '');
        gate.open();
        await OutputModel.waitForUploads({ maxNumUploads: 1 });
        await a.reload();
        assert.ok(a.url.endsWith('/k1.pt'));
        await OutputModel.waitForUploads();
        await b.reload();
        assert.ok(b.url.endsWith('/k2.pt'));
      });
    });

    describe('decision 10 and metadata on an output model', () => {
      it('C34 (adjusted by decision 10): metadata on a new model creates it with its task and registers it on the task', async () => {
        const task = await newTask();
        const m = new OutputModel({ task, name: 'meta-model' });
        recorder.clear();
        assert.equal(await m.setMetadata('acc', 0.9), true);
        assert.deepEqual(recorder.endpoints().slice(0, 2), ['models.create', 'tasks.add_or_update_model']);
        assert.equal((await serverModel(m.id as string)).task, task.id);
        assert.deepEqual(task.models.output.names, ['meta-model']);
        assert.equal(await m.getMetadataCasted('acc'), 0.9);
      });

      it('decision 10: publish() on a new model creates it, then publishes it (not its task)', async () => {
        const task = await newTask();
        const m = new OutputModel({ task });
        recorder.clear();
        await m.publish();
        assert.ok(m.published);
        assert.deepEqual({ ...recorder.bodies('models.set_ready')[0] }, { model: m.id, publish_task: false });
        assert.equal((await s.ok(operations.tasks.get_by_id, { task: task.id })).task.status, 'in_progress');
        recorder.clear();
        await m.publish();
        assert.deepEqual(recorder.bodies('models.set_ready'), [], 'D43: a published model sends nothing');
      });

      it('publish() waits for the model’s pending upload, so the published model has its weights', async () => {
        const gate = new UploadGate(s.filesUrl);
        const { session: gated } = testSession(s, {}, gate.wrap);
        const m = new OutputModel({ task: await newTask({ on: gated }) });
        gate.close();
        const uri = await m.updateWeights({ weightsFilename: weightsFile(work, 'pub.pt') });
        const published = m.publish();
        setTimeout(() => gate.open(), 200);
        await published;
        assert.equal((await serverModel(m.id as string)).uri, uri);
        assert.equal((await serverModel(m.id as string)).ready, true);
      });

      it('D45: unarchive on a floating model sends nothing; archive/unarchive toggle the tag', async () => {
        const m = new OutputModel({ task: await newTask() });
        recorder.clear();
        assert.equal(await m.unarchive(), false);
        assert.deepEqual(recorder.endpoints(), []);
        await m.setMetadata('x', 1);
        assert.equal(await m.archive(), true);
        assert.ok(m.archived);
        assert.equal(await m.unarchive(), true);
        assert.ok(!m.archived);
      });
    });
  });
}
