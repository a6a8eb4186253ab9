import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { models } from '@cairn/protocol';
import { startTestServer, testDialects, type TestServer } from '@cairn/server/test-harness';
import { IntegrityError, StorageError } from '../../errors.js';
import { Task } from '../../task.js';
import { OutputModel } from '../../model/output-model.js';
import { Model } from '../../model/model.js';
import { testSession } from '../../../test/helpers.js';
import { StorageManager } from '../manager.js';
import { GcsDriver, GCS_CHUNK_SIZE } from './gcs.js';
import { createServiceAccount, startGcsServer, type GcsServer, type ServiceAccount } from '../../../test/fixtures/gcs-server.js';
import { checkEmptyAndOddKeys, checkHeadListDelete } from '../../../test/object-store-contract.js';
import { corruptFile, sha256File, writeRandomFile } from '../../../test/fixtures/files.js';

const MiB = 1024 * 1024;
const BIG = 200 * MiB;

describe('Google Cloud Storage driver against the GCS JSON-API test server', () => {
  let gcs: GcsServer;
  let work: string;
  let big: string;
  let bigSha: string;
  let small: string;
  let smallSha: string;
  let keyFile: string;
  const main = createServiceAccount('trainer@cairn-test.iam.gserviceaccount.com', 'cairn-test');
  const other = createServiceAccount('other@cairn-test.iam.gserviceaccount.com', 'cairn-test');
  const stranger = createServiceAccount('stranger@elsewhere.iam.gserviceaccount.com', 'elsewhere');

  const driver = (sdk: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => new GcsDriver({ sdk, env, apiEndpoint: gcs.endpoint });
  const conf = (account: ServiceAccount = main) => ({ google: { storage: { project: 'cairn-test', credentials_json: writeKey(account) } } });
  const manager = (d: GcsDriver) => new StorageManager({ drivers: [d], cacheDir: mkdtempSync(path.join(work, 'cache-')) });
  const writeKey = (account: ServiceAccount) => {
    const file = path.join(work, `${account.email}.json`);
    writeFileSync(file, JSON.stringify(account.json));
    return file;
  };

  before(async () => {
    gcs = await startGcsServer({ buckets: ['models'], serviceAccounts: [main, other] });
    work = mkdtempSync(path.join(os.tmpdir(), 'cairn-gcs-test-'));
    big = path.join(work, 'big.bin');
    bigSha = writeRandomFile(big, BIG);
    small = path.join(work, 'small.bin');
    smallSha = writeRandomFile(small, 3 * MiB + 17);
    keyFile = writeKey(main);
  });
  after(async () => {
    await gcs?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('uploads 200 MiB as a chunked resumable upload and downloads it through the StorageManager, digests matching', async () => {
    const m = manager(driver(conf()));
    const uri = 'gs://models/Proj/train v1.abc/models/big.bin';
    gcs.requests.length = 0;
    const up = await m.upload(big, uri);
    assert.deepEqual(up, { uri, sha256: bigSha, size: BIG });
    const chunks = gcs.requests.filter((r) => r.method === 'PUT' && /^bytes \d+-\d+\//.test(r.contentRange ?? ''));
    assert.equal(chunks.length, Math.ceil(BIG / GCS_CHUNK_SIZE), 'one PUT per 16 MiB chunk');
    assert.ok(gcs.requests.some((r) => r.method === 'POST' && r.url.includes('uploadType=resumable')));
    const signed = gcs.requests.filter((r) => r.method !== 'PUT');
    assert.ok(signed.length > 0 && signed.every((r) => r.account === main.email), 'every request but the chunks (their session URI is the credential) signed by the configured service account');

    const local = await m.getLocalCopy(uri, { expectedSha256: up.sha256, expectedSize: up.size });
    assert.equal(statSync(local).size, BIG);
    assert.equal(sha256File(local), bigSha);
  });

  it('sends a file up to the threshold in one multipart request', async () => {
    const d = driver(conf());
    gcs.requests.length = 0;
    const up = await d.upload(small, 'gs://models/one/small.bin', { contentType: 'application/x-test' });
    assert.equal(up.sha256, smallSha);
    assert.deepEqual(gcs.requests.map((r) => [r.method, new URL(r.url, 'http://x').searchParams.get('uploadType')]), [['POST', 'multipart']]);
  });

  it('uses a per-bucket entry with inline credentials_json before the defaults', async () => {
    const d = driver({
      google: {
        storage: {
          credentials_json: keyFile,
          credentials: [{ bucket: 'models', subdir: 'team-b', credentials_json: JSON.stringify(other.json) }],
        },
      },
    });
    gcs.requests.length = 0;
    await d.upload(small, 'gs://models/team-b/small.bin');
    assert.deepEqual([...new Set(gcs.requests.map((r) => r.account))], [other.email]);
    gcs.requests.length = 0;
    await d.upload(small, 'gs://models/team-a/small.bin');
    assert.deepEqual([...new Set(gcs.requests.map((r) => r.account))], [main.email]);
  });

  it('takes the key file from GOOGLE_APPLICATION_CREDENTIALS', async () => {
    const d = driver({}, { GOOGLE_APPLICATION_CREDENTIALS: writeKey(other) });
    const m = manager(d);
    gcs.requests.length = 0;
    const up = await m.upload(small, 'gs://models/env/small.bin');
    assert.equal(sha256File(await m.getLocalCopy(up.uri, { expectedSha256: up.sha256 })), smallSha);
    assert.deepEqual([...new Set(gcs.requests.map((r) => r.account))], [other.email]);
  });

  it('refused credentials fail with a StorageError naming the URL and what to configure', async () => {
    const uri = 'gs://models/refused.bin';
    await assert.rejects(manager(driver(conf(stranger))).upload(small, uri), (err: unknown) => {
      assert.ok(err instanceof StorageError);
      assert.equal(err.uri, uri);
      assert.match(err.message, /credentials from sdk\.google\.storage credentials_json .* were refused/);
      assert.match(err.message, /GOOGLE_APPLICATION_CREDENTIALS/);
      return true;
    });
  });

  it('without credentials fails with a StorageError naming the URL, the config keys and the environment variable', async () => {
    // Google's default-credentials search would otherwise probe for a cloud metadata server.
    const saved = process.env.METADATA_SERVER_DETECTION;
    process.env.METADATA_SERVER_DETECTION = 'none';
    try {
      const uri = 'gs://models/nocreds.bin';
      await assert.rejects(manager(driver({})).upload(small, uri), (err: unknown) => {
        assert.ok(err instanceof StorageError);
        assert.equal(err.uri, uri);
        assert.match(err.message, /no credentials are configured/);
        assert.match(err.message, /sdk\.google\.storage\.credentials_json/);
        assert.match(err.message, /GOOGLE_APPLICATION_CREDENTIALS/);
        return true;
      });
    } finally {
      if (saved === undefined) delete process.env.METADATA_SERVER_DETECTION;
      else process.env.METADATA_SERVER_DETECTION = saved;
    }
  });

  it('a corrupted object fails the download with IntegrityError', async () => {
    const m = manager(driver(conf()));
    const up = await m.upload(small, 'gs://models/corrupt.bin');
    corruptFile(gcs.objectFile('models', 'corrupt.bin'), 4242);
    await assert.rejects(m.getLocalCopy(up.uri, { expectedSha256: up.sha256, expectedSize: up.size }), (err: unknown) => {
      assert.ok(err instanceof IntegrityError);
      assert.equal(err.expectedSha256, smallSha);
      assert.notEqual(err.actualSha256, smallSha);
      return true;
    });
  });

  it('round-trips an empty file, and keys with a space, %3F and non-ASCII characters as written', async () => {
    const d = driver(conf());
    await checkEmptyAndOddKeys({ driver: d, manager: manager(d), work, small, smallSha }, 'gs://models/odd');
  });

  it('heads, lists and deletes objects', async () => {
    const d = driver(conf());
    await checkHeadListDelete({ driver: d, manager: manager(d), work, small, smallSha }, 'gs://models/listing');
  });

  for (const dialect of testDialects()) {
    describe(`OutputModel weights in Google Cloud Storage (${dialect})`, () => {
      let s: TestServer;
      before(async () => {
        s = await startTestServer({ dialect });
      });
      after(() => s?.stop());

      it('updateWeights uploads 200 MiB and records its digest; getWeights verifies it', async () => {
        const { session } = testSession(s, { storage: manager(driver(conf())) });
        const task = await Task.init({ projectName: 'Object stores', taskName: `gs ${dialect}`, outputUri: false, session });
        const model = new OutputModel({ task, name: 'big' });
        const uri = await model.updateWeights({ weightsFilename: big, uploadUri: 'gs://models/out', autoDeleteFile: false, asyncEnable: false });
        assert.equal(uri, `gs://models/out/Object stores/gs ${dialect}.${task.id}/models/big.bin`);
        const record = (await s.ok(models.get_by_id, { model: model.id! })).model;
        assert.deepEqual([record.uri, record.weights_sha256, record.weights_size], [uri, bigSha, BIG]);
        const local = await (await Model.get(model.id!, { session })).getWeights({ raiseOnError: true });
        assert.equal(sha256File(local!), bigSha);
      });
    });
  }

  it('checks that a destination is writable', async () => {
    const d = driver(conf());
    await d.verifyWritable('gs://models/writable');
    const left = [];
    for await (const item of d.list('gs://models/writable')) left.push(item);
    assert.deepEqual(left, []);
    await assert.rejects(d.verifyWritable('gs://no-such-bucket/out'), (err: unknown) => err instanceof StorageError && /HTTP 404/.test(err.message));
  });
});
