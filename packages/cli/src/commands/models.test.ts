/**
 * `cairn models ...` run as the user runs it (`node packages/cli/bin/cairn.js`, what `npx cairn` starts), as a child
 * process against a real test server, configured through the environment or a clearml.conf. The CLI is a client
 * of the API: the database behind the server is covered by the server's own tests, so these run on SQLite.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { operations } from '@cairn/protocol';
import { startTestServer, type TestServer } from '@cairn/server/test-harness';
import { OutputModel, Session, Task } from '@cairn/sdk';
import { runCli as run, SOURCE_CLI as BIN } from '../../test/run-cli.js';

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

describe('cairn models', () => {
  let s: TestServer;
  let home: string;
  let env: Record<string, string>;
  /** Runs a command that must succeed. */
  const ok = async (...args: string[]) => {
    const r = await run(args, env);
    assert.equal(r.code, 0, `cairn ${args.join(' ')} failed:\n${r.stderr}\n${r.stdout}`);
    return r;
  };
  const okJson = async <T = Record<string, unknown>>(...args: string[]) => JSON.parse((await ok(...args, '--json')).stdout) as T;
  const fails = async (args: string[], runEnv = env) => {
    const r = await run(args, runEnv);
    assert.equal(r.code, 1, `cairn ${args.join(' ')} should fail:\n${r.stdout}`);
    assert.equal(r.stdout, '', 'a failure prints no result');
    return r.stderr;
  };
  const weights = (name: string, content: string) => {
    const file = path.join(home, 'in', name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
    return file;
  };
  type Uploaded = { id: string; task: string; url: string; sha256: string; size: number; name: string; project: { id: string; name: string } };
  let sdk: Session;
  /** A model with weights made in this process through the SDK: fixtures need not pay for a CLI start each. */
  const register = async (name: string, projectName: string, options: { tags?: string[]; weights?: string } = {}) => {
    const task = await Task.init({ projectName, taskName: `register ${name}`, session: sdk });
    const model = new OutputModel({ task, name, tags: options.tags });
    await model.updateWeights({ weightsFilename: options.weights ?? weights(`${name}.bin`, name), asyncEnable: false, autoDeleteFile: false });
    await task.close();
    return { id: model.id!, task: task.id, url: model.url, sha256: model.weightsSha256!, project: model.project! };
  };

  before(async () => {
    s = await startTestServer();
    home = mkdtempSync(path.join(os.tmpdir(), 'cairn-cli-'));
    env = {
      HOME: home,
      TMPDIR: home,
      CLEARML_CACHE_DIR: path.join(home, 'cache'),
      CLEARML_API_HOST: s.apiUrl,
      CLEARML_FILES_HOST: s.filesUrl,
      CLEARML_API_ACCESS_KEY: s.accessKey,
      CLEARML_API_SECRET_KEY: s.secretKey,
    };
    sdk = new Session({ apiHost: s.apiUrl, filesHost: s.filesUrl, accessKey: s.accessKey, secretKey: s.secretKey, env: {}, cacheDir: path.join(home, 'sdk-cache') });
  });
  after(async () => {
    await s.stop();
    rmSync(home, { recursive: true, force: true });
  });

  it('upload creates a task and a model, uploads with progress lines, keeps the file, and prints URL and digest', async () => {
    const content = 'cli weights '.repeat(50_000);
    const file = weights('resnet.pt', content);
    const r = await ok('models', 'upload', file, '--project', 'CLI/Uploads', '--name', 'resnet', '--tag', 'cli', '--tag', 'first', '--json');
    const up = JSON.parse(r.stdout) as Uploaded;
    assert.equal(up.sha256, sha256(content));
    assert.equal(up.size, Buffer.byteLength(content));
    assert.match(up.url, new RegExp(`^${s.filesUrl}/CLI/Uploads/upload resnet\\.${up.task}/models/resnet\\.pt$`.replaceAll(' ', '%20')));
    assert.match(r.stderr, /^upload resnet\.pt: .* \/ 585\.9 KiB \(100%\), .*\/s$/m, 'plain progress lines when stderr is not a terminal');
    assert.equal(existsSync(file), true, 'the uploaded file is left where it was');

    const model = (await s.ok(operations.models.get_by_id, { model: up.id })).model;
    assert.deepEqual([model.name, model.task, model.uri, model.weights_sha256, model.tags], ['resnet', up.task, up.url, up.sha256, ['cli', 'first']]);
    const task = (await s.ok(operations.tasks.get_by_id, { task: up.task })).task;
    assert.deepEqual([task.name, task.status, task.project], ['upload resnet', 'completed', up.project.id]);
    const download = await fetch(up.url, { headers: { authorization: `Bearer ${await s.token()}` } });
    assert.equal(sha256(Buffer.from(await download.arrayBuffer())), up.sha256);

    const text = await ok('models', 'upload', weights('small.bin', 'tiny'), '--project', 'CLI/Uploads', '--name', 'small', '--task-name', 'nightly export');
    assert.match(text.stdout, /^model id: +[0-9a-f]{32}$/m);
    assert.match(text.stdout, new RegExp(`^url: +${s.filesUrl}/CLI/Uploads/nightly%20export\\.[0-9a-f]{32}/models/small\\.bin$`, 'm'));
    assert.match(text.stdout, new RegExp(`^sha256: +${sha256('tiny')}$`, 'm'));
    assert.match(text.stdout, /^size: +4 bytes \(4 B\)$/m);
  });

  it('list filters by project, name, tags, published and archived, and limits', async () => {
    const a = await register('alpha', 'CLI/List', { tags: ['vision', 'prod'] });
    const b = await register('beta', 'CLI/List', { tags: ['vision'] });
    const c = await register('gamma', 'CLI/Other', { tags: ['prod'] });
    await s.ok(operations.models.set_ready, { model: a.id, publish_task: false });
    await s.ok(operations.models.archive_many, { ids: [b.id] });

    type Listed = { id: string; name: string; project: { name: string }; published: boolean; archived: boolean; sha256: string };
    const names = async (...args: string[]) => (await okJson<Listed[]>('models', 'list', ...args)).map((m) => m.name).sort();
    const [project, withArchived, prod, prodAndVision, published, byName, limited, table, none] = await Promise.all([
      names('--project', 'CLI/List'),
      names('--project', 'CLI/List', '--archived'),
      names('--tag', 'prod'),
      names('--tag', 'prod', '--tag', 'vision', '--archived'),
      okJson<Listed[]>('models', 'list', '--published'),
      names('--name', 'gamma'),
      ok('models', 'list', '--limit', '1', '--json'),
      ok('models', 'list', '--project', 'CLI/List', '--archived'),
      ok('models', 'list', '--name', 'no such model'),
    ]);
    assert.deepEqual([project, withArchived, prod, prodAndVision, byName], [['alpha'], ['alpha', 'beta'], ['alpha', 'gamma'], ['alpha'], ['gamma']]);
    assert.deepEqual(
      published.map((m) => [m.id, m.name, m.project.name, m.published, m.archived, m.sha256]),
      [[a.id, 'alpha', 'CLI/List', true, false, a.sha256]],
    );
    assert.equal((JSON.parse(limited.stdout) as Listed[]).length, 1);
    assert.equal(limited.stderr, 'showing the first 1 models; --limit raises it\n');

    const lines = table.stdout.split('\n');
    assert.match(lines[0]!, /^ID +NAME +PROJECT +STATUS +FRAMEWORK +SIZE +UPDATED$/);
    assert.ok(lines.some((l) => l.startsWith(a.id) && /alpha +CLI\/List +published +.* 5 B +20\d\d-/.test(l)), table.stdout);
    assert.ok(lines.some((l) => l.startsWith(b.id) && /beta +CLI\/List +draft, archived /.test(l)), table.stdout);
    assert.ok(!table.stdout.includes(c.id));
    assert.deepEqual([none.stdout, none.stderr], ['', 'no models match\n']);
  });

  it('show prints every field: URL, size, SHA-256, labels, metadata and configuration', async () => {
    const up = await register('shown', 'CLI/Show', { weights: weights('shown.pt', 'shown weights') });
    await s.ok(operations.models.edit, { model: up.id, labels: { background: 0, cat: 1 }, design: { design: 'lr = 0.1\nlayers = [64, 32]' }, comment: 'first line\nsecond line' });
    await s.ok(operations.models.add_or_update_metadata, { model: up.id, metadata: [{ key: 'accuracy', type: 'float', value: '0.93' }, { key: 'arch', type: 'str', value: 'resnet' }] });

    const [shown, { stdout: text }] = await Promise.all([okJson<Record<string, unknown>>('models', 'show', up.id), ok('models', 'show', up.id)]);
    assert.deepEqual(
      [shown.id, shown.name, shown.url, shown.size, shown.sha256, shown.published, shown.framework],
      [up.id, 'shown', up.url, Buffer.byteLength('shown weights'), sha256('shown weights'), false, 'PyTorch'],
    );
    assert.deepEqual(shown.project, { id: up.project, name: 'CLI/Show' });
    assert.deepEqual(shown.task, { id: up.task, name: 'register shown' });
    assert.deepEqual(shown.labels, { background: 0, cat: 1 });
    assert.deepEqual(shown.metadata, { accuracy: { key: 'accuracy', type: 'float', value: '0.93' }, arch: { key: 'arch', type: 'str', value: 'resnet' } });
    assert.equal(shown.config, 'lr = 0.1\nlayers = [64, 32]');
    assert.equal(shown.comment, 'first line\nsecond line');

    for (const line of [
      `id:          ${up.id}`,
      `project:     CLI/Show (${up.project})`,
      `task:        register shown (${up.task})`,
      'status:      draft',
      `url:         ${up.url}`,
      'size:        13 bytes (13 B)',
      `sha256:      ${sha256('shown weights')}`,
      'comment:     first line',
      '             second line',
      '  0: background',
      '  1: cat',
      '  lr = 0.1',
      '  layers = [64, 32]',
    ]) {
      assert.ok(text.split('\n').includes(line), `"${line}" in:\n${text}`);
    }
    assert.match(text, /^ {2}accuracy +float +0\.93$/m);
  });

  it('download verifies the weights, into the cache or a folder; a package comes extracted', async () => {
    const content = 'downloadable '.repeat(10_000);
    const up = await register('net', 'CLI/Download', { weights: weights('net.onnx', content) });
    const to = path.join(home, 'out', 'net');
    // One after the other: the first downloads (with progress), the second is served from the cache.
    const cached = await ok('models', 'download', up.id, '--json');
    const copied = await ok('models', 'download', up.id, '--to', to);
    const got = JSON.parse(cached.stdout) as { path: string; sha256: string; verified: boolean; package: boolean };
    assert.ok(got.path.startsWith(path.join(home, 'cache')), got.path);
    assert.deepEqual([sha256(readFileSync(got.path)), got.sha256, got.verified, got.package], [up.sha256, up.sha256, true, false]);
    assert.match(cached.stderr, /^download net: .*\(100%\)/m);

    assert.equal(sha256(readFileSync(path.join(to, 'net.onnx'))), up.sha256);
    assert.match(copied.stdout, new RegExp(`^path: +${path.join(to, 'net.onnx')}$`, 'm'));
    assert.match(copied.stdout, new RegExp(`^sha256: +${up.sha256} \\(verified\\)$`, 'm'));

    const folder = path.join(home, 'in', 'bundle');
    mkdirSync(path.join(folder, 'sub'), { recursive: true });
    writeFileSync(path.join(folder, 'model.bin'), 'bundle weights');
    writeFileSync(path.join(folder, 'sub', 'vocab.txt'), 'a b c');
    const pkg = await register('bundle', 'CLI/Download', { weights: folder });
    const out = path.join(home, 'out', 'bundle');
    const extracted = JSON.parse((await ok('models', 'download', pkg.id, '--to', out, '--json')).stdout) as { path: string; package: boolean };
    assert.deepEqual([extracted.path, extracted.package], [out, true]);
    assert.deepEqual(readdirSync(out).sort(), ['model.bin', 'sub']);
    assert.equal(readFileSync(path.join(out, 'sub', 'vocab.txt'), 'utf8'), 'a b c');

    // Weights whose bytes do not match the recorded digest are an error, never a silently wrong file.
    const forged = (await s.ok(operations.models.create, { name: 'forged', uri: up.url, ready: false, weights_sha256: sha256('something else'), weights_size: Buffer.byteLength(content) })).id;
    const empty = (await s.ok(operations.models.create, { name: 'no weights', uri: '', ready: false })).id;
    const [mismatch, noWeights] = await Promise.all([fails(['models', 'download', forged, '--to', path.join(home, 'out', 'forged')]), fails(['models', 'download', empty])]);
    assert.match(mismatch, /^error: SHA-256 mismatch: expected [0-9a-f]{64}, got [0-9a-f]{64}/m);
    assert.equal(existsSync(path.join(home, 'out', 'forged', 'net.onnx')), false);
    assert.match(noWeights, new RegExp(`^error: model ${empty} has no weights\\n$`));
  });

  it('publish, archive and unarchive change the model and say so', async () => {
    const up = await register('pub', 'CLI/Publish');
    const published = await okJson<{ published: boolean }>('models', 'publish', up.id);
    assert.equal(published.published, true);
    assert.equal((await s.ok(operations.models.get_by_id, { model: up.id })).model.ready, true);
    assert.equal((await s.ok(operations.tasks.get_by_id, { task: up.task })).task.status, 'completed', 'the task is not published');
    assert.equal((await ok('models', 'publish', up.id)).stdout, `model ${up.id} (pub) was already published\n`);

    assert.equal((await ok('models', 'archive', up.id)).stdout, `model ${up.id} (pub) archived\n`);
    assert.deepEqual((await s.ok(operations.models.get_by_id, { model: up.id })).model.system_tags, ['archived']);
    const restored = await okJson<{ archived: boolean }>('models', 'unarchive', up.id);
    assert.equal(restored.archived, false);
    assert.deepEqual((await s.ok(operations.models.get_by_id, { model: up.id })).model.system_tags, []);
  });

  it('errors print the typed error message and exit 1', async () => {
    const missing = 'f'.repeat(32);
    const { CLEARML_API_ACCESS_KEY: _key, CLEARML_API_SECRET_KEY: _secret, ...noCredentials } = env;
    const [show, publish, upload, credentials, login, usage] = await Promise.all([
      fails(['models', 'show', missing]),
      fails(['models', 'publish', missing]),
      fails(['models', 'upload', path.join(home, 'nothing.bin'), '--project', 'CLI/Errors', '--name', 'x']),
      fails(['models', 'list'], noCredentials),
      fails(['models', 'list'], { ...env, CLEARML_API_SECRET_KEY: 'wrong' }),
      run(['models', 'list', '--limit', '-3'], env),
    ]);
    assert.match(show, /^error: models\.get_by_id failed with 400\/201: .*\n$/);
    assert.match(publish, /^error: models\.get_by_id failed with 400\/201: .*\n$/);
    assert.match(upload, /^error: no such file or folder: .*nothing\.bin\n$/);
    assert.match(credentials, /^error: No API credentials for http:\/\/127\.0\.0\.1:\d+\/api: /);
    assert.match(login, /^error: login to http:\/\/127\.0\.0\.1:\d+\/api failed \(401\/22 .*\); the key pair was read from CLEARML_API_ACCESS_KEY and CLEARML_API_SECRET_KEY\n$/);
    assert.notEqual(usage.code, 0);
    assert.match(usage.stderr, /expected a whole number/);
  });

  it('reads the server and credentials from clearml.conf like the SDK', async () => {
    const conf = path.join(home, 'clearml.conf');
    writeFileSync(conf, `api {\n  api_server: ${s.apiUrl}\n  files_server: ${s.filesUrl}\n  credentials {\n    access_key: "${s.accessKey}"\n    secret_key: "${s.secretKey}"\n  }\n}\n`);
    const up = await register('conf', 'CLI/Conf');
    const fromFile = { HOME: home, TMPDIR: home, CLEARML_CACHE_DIR: path.join(home, 'cache') };
    const listed = await run(['models', 'list', '--project', 'CLI/Conf', '--json'], fromFile);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual((JSON.parse(listed.stdout) as { id: string }[]).map((m) => m.id), [up.id]);
    const other = path.join(home, 'elsewhere.conf');
    writeFileSync(other, readFileSync(conf, 'utf8'));
    rmSync(conf);
    const explicit = await run(['models', 'show', up.id, '--json'], { ...fromFile, CLEARML_CONFIG_FILE: other });
    assert.equal(explicit.code, 0, explicit.stderr);
    assert.equal((JSON.parse(explicit.stdout) as { id: string }).id, up.id);
  });

  it('draws a progress bar on a terminal', async () => {
    const file = weights('tty.bin', 'terminal '.repeat(1000));
    // `script` runs the command on a pseudo-terminal, as a user's shell would.
    const args = ['models', 'upload', file, '--project', 'CLI/TTY', '--name', 'tty'].map((a) => `'${a}'`).join(' ');
    const r = await run(['-qec', `'${process.execPath}' '${BIN}' ${args}`, '/dev/null'], env, ['script']);
    assert.equal(r.code, 0, r.stdout);
    assert.match(r.stdout, /upload tty\.bin \[█+\] 100% \| 8\.8 KiB \/ 8\.8 KiB \|/);
    assert.doesNotMatch(r.stdout, /^upload tty\.bin: /m, 'no plain lines on a terminal');
    assert.match(r.stdout, /sha256: +[0-9a-f]{64}/);
  });
});
