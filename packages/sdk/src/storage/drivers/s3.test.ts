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
import type { TransferProgress } from '../types.js';
import { S3Driver, S3_PART_SIZE } from './s3.js';
import { startS3rver, S3RVER_KEY, S3RVER_SECRET, type S3rver } from '../../../test/fixtures/s3rver.js';
import { startRecordingProxy, type RecordingProxy } from '../../../test/fixtures/recording-proxy.js';
import { checkEmptyAndOddKeys, checkHeadListDelete } from '../../../test/object-store-contract.js';
import { corruptFile, sha256File, writeRandomFile } from '../../../test/fixtures/files.js';

const MiB = 1024 * 1024;
const BIG = 200 * MiB;

describe('S3 driver against s3rver', () => {
  let s3: S3rver;
  let proxy: RecordingProxy;
  let work: string;
  let big: string;
  let bigSha: string;
  let small: string;
  let smallSha: string;

  /** clearml.conf with a per-bucket entry for the test server (through the recording proxy). */
  const conf = (entry: Record<string, unknown> = {}) => ({
    sdk: { aws: { s3: { credentials: [{ bucket: 'models', host: proxy.host, key: S3RVER_KEY, secret: S3RVER_SECRET, secure: false, ...entry }] } } },
  });
  const manager = (config: Record<string, unknown>, drivers?: S3Driver[]) =>
    new StorageManager({ config, drivers, cacheDir: mkdtempSync(path.join(work, 'cache-')) });

  before(async () => {
    s3 = await startS3rver({ buckets: ['models', 'other'] });
    proxy = await startRecordingProxy(s3.endpoint);
    work = mkdtempSync(path.join(os.tmpdir(), 'cairn-s3-test-'));
    big = path.join(work, 'big.bin');
    bigSha = writeRandomFile(big, BIG);
    small = path.join(work, 'small.bin');
    smallSha = writeRandomFile(small, 3 * MiB + 17);
  });
  after(async () => {
    await proxy?.stop();
    await s3?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('uploads 200 MiB as a parallel multipart upload and downloads it through the StorageManager, digests matching', async () => {
    const m = manager(conf());
    const uri = `s3://${proxy.host}/models/Proj/train v1.abc/models/big.bin`;
    proxy.requests.length = 0;
    const progress: TransferProgress[] = [];
    const up = await m.upload(big, uri, { onProgress: (p) => progress.push(p) });
    assert.deepEqual(up, { uri, sha256: bigSha, size: BIG });
    const parts = proxy.requests.filter((r) => r.method === 'PUT' && /[?&]partNumber=\d+/.test(r.url));
    assert.equal(parts.length, Math.ceil(BIG / S3_PART_SIZE), 'one PUT per 8 MiB part');
    assert.ok(proxy.requests.some((r) => r.method === 'POST' && /[?&]uploads\b/.test(r.url)), 'multipart upload created');
    assert.ok(proxy.requests.some((r) => r.method === 'POST' && /[?&]uploadId=/.test(r.url)), 'multipart upload completed');
    assert.ok(progress.length > 1);
    assert.equal(progress.at(-1)!.bytes, BIG);

    const local = await m.getLocalCopy(up.uri, { expectedSha256: up.sha256, expectedSize: up.size });
    assert.equal(statSync(local).size, BIG);
    assert.equal(sha256File(local), bigSha);
  });

  it('restarts a download whose connection dropped half-way', async () => {
    const driver = new S3Driver(conf());
    const uri = `s3://${proxy.host}/models/dropped.bin`;
    await driver.upload(small, uri);
    proxy.requests.length = 0;
    proxy.dropNextDownloadAfter(MiB);
    const target = path.join(work, 'dropped.bin');
    assert.deepEqual(await driver.download(uri, target), { sha256: smallSha, size: statSync(small).size });
    assert.equal(sha256File(target), smallSha);
    assert.equal(proxy.requests.filter((r) => r.method === 'GET').length, 2, 'cut once, then downloaded whole');
  });

  it('puts a file below the multipart threshold in one request', async () => {
    const driver = new S3Driver(conf());
    proxy.requests.length = 0;
    const tiny = path.join(work, 'tiny.txt');
    const sha = writeRandomFile(tiny, 1000);
    const up = await driver.upload(tiny, `s3://${proxy.host}/models/tiny.txt`, { contentType: 'text/plain' });
    assert.equal(up.sha256, sha);
    assert.deepEqual(proxy.requests.map((r) => r.method), ['PUT']);
  });

  it('takes the key pair from the environment when the bucket entry has none', async () => {
    const driver = new S3Driver({
      sdk: conf({ key: undefined, secret: undefined }).sdk,
      env: { AWS_ACCESS_KEY_ID: S3RVER_KEY, AWS_SECRET_ACCESS_KEY: S3RVER_SECRET },
    });
    const m = manager({}, [driver]);
    const uri = `s3://${proxy.host}/models/env/small.bin`;
    const up = await m.upload(small, uri);
    assert.equal(up.sha256, smallSha);
    assert.equal(sha256File(await m.getLocalCopy(uri, { expectedSha256: smallSha })), smallSha);
  });

  it('sends the configured key: a key the server does not know is refused with its error code', async () => {
    const driver = new S3Driver(conf({ key: 'NOT-A-KNOWN-KEY' }));
    await assert.rejects(driver.upload(small, `s3://${proxy.host}/models/refused.bin`), (err: unknown) => {
      assert.ok(err instanceof StorageError);
      assert.match(err.message, /InvalidAccessKeyId/);
      assert.match(err.message, /refused\.bin/);
      assert.equal(err.file, small);
      return true;
    });
    assert.equal(await new S3Driver(conf()).head(`s3://${proxy.host}/models/refused.bin`), undefined);
  });

  it('without any key pair fails with a StorageError naming the URL, the config keys and the environment variables', async () => {
    const driver = new S3Driver({ sdk: { aws: { s3: { credentials: [{ bucket: 'models', host: proxy.host, secure: false }] } } }, env: {} });
    const m = manager({}, [driver]);
    const uri = `s3://${proxy.host}/models/nocreds.bin`;
    await assert.rejects(m.upload(small, uri), (err: unknown) => {
      assert.ok(err instanceof StorageError);
      assert.equal(err.uri, uri);
      assert.match(err.message, /Missing key and secret for S3 storage access/);
      assert.match(err.message, /sdk\.aws\.s3\.key/);
      assert.match(err.message, /AWS_ACCESS_KEY_ID/);
      assert.match(err.message, /AWS_SECRET_ACCESS_KEY/);
      return true;
    });
  });

  it('a corrupted object fails the download with IntegrityError', async () => {
    const m = manager(conf());
    const up = await m.upload(small, `s3://${proxy.host}/models/corrupt.bin`);
    corruptFile(s3.objectFile('models', 'corrupt.bin'), 12345);
    await assert.rejects(m.getLocalCopy(up.uri, { expectedSha256: up.sha256, expectedSize: up.size }), (err: unknown) => {
      assert.ok(err instanceof IntegrityError);
      assert.equal(err.expectedSha256, smallSha);
      assert.notEqual(err.actualSha256, smallSha);
      return true;
    });
  });

  it('round-trips an empty file, and keys with a space, %3F and non-ASCII characters as written', async () => {
    const d = new S3Driver(conf());
    await checkEmptyAndOddKeys({ driver: d, manager: manager(conf(), [d]), work, small, smallSha }, `s3://${proxy.host}/models/odd`);
  });

  it('heads, lists and deletes objects', async () => {
    const driver = new S3Driver(conf());
    const m = manager(conf(), [driver]);
    const base = `s3://${proxy.host}/models/listing`;
    await checkHeadListDelete({ driver, manager: m, work, small, smallSha }, base);
    await assert.rejects(m.getLocalCopy(`${base}/a.bin`), StorageError);
  });

  it('checks that a destination is writable', async () => {
    const driver = new S3Driver(conf());
    await driver.verifyWritable(`s3://${proxy.host}/models/writable`);
    const left = [];
    for await (const item of driver.list(`s3://${proxy.host}/models/writable`)) left.push(item);
    assert.deepEqual(left, [], 'the check object is removed');
    const sdk = conf().sdk;
    sdk.aws.s3.credentials.push({ ...sdk.aws.s3.credentials[0], bucket: 'no-such-bucket' });
    await assert.rejects(new S3Driver({ sdk }).verifyWritable(`s3://${proxy.host}/no-such-bucket/out`), (err: unknown) => {
      assert.ok(err instanceof StorageError);
      assert.match(err.message, /NoSuchBucket/);
      return true;
    });
  });

  for (const dialect of testDialects()) {
    describe(`OutputModel weights in S3 (${dialect})`, () => {
      let s: TestServer;
      before(async () => {
        s = await startTestServer({ dialect });
      });
      after(() => s?.stop());

      it('updateWeights uploads 200 MiB with the credentials of clearml.conf and records its digest; getWeights verifies it', async () => {
        const confFile = path.join(work, `clearml-${dialect}.conf`);
        writeFileSync(
          confFile,
          `sdk {\n  aws {\n    s3 {\n      credentials: [\n        { bucket: models, host: "${proxy.host}", key: ${S3RVER_KEY}, secret: ${S3RVER_SECRET}, secure: false }\n      ]\n    }\n  }\n}\n`,
        );
        const { session } = testSession(s, { configFile: confFile, cacheDir: mkdtempSync(path.join(work, 'cache-')) });
        const task = await Task.init({ projectName: 'Object stores', taskName: `s3 ${dialect}`, session });
        const model = new OutputModel({ task, name: 'big' });
        const uri = await model.updateWeights({ weightsFilename: big, uploadUri: `s3://${proxy.host}/models/out`, autoDeleteFile: false, asyncEnable: false });
        assert.equal(uri, `s3://${proxy.host}/models/out/Object stores/s3 ${dialect}.${task.id}/models/big.bin`);
        const record = (await s.ok(models.get_by_id, { model: model.id! })).model;
        assert.deepEqual([record.uri, record.weights_sha256, record.weights_size], [uri, bigSha, BIG]);
        const local = await (await Model.get(model.id!, { session })).getWeights({ raiseOnError: true });
        assert.equal(sha256File(local!), bigSha);
      });
    });
  }

  it('resolves buckets, hosts and credentials as ClearML does (longest prefix, host entries, defaults, environment)', () => {
    const driver = new S3Driver({
      sdk: {
        aws: {
          s3: {
            key: 'default-key',
            secret: 'default-secret',
            region: 'eu-west-1',
            credentials: [
              { bucket: 'my-bucket', key: 'bucket-key', secret: 'bucket-secret' },
              { bucket: 'my-bucket', subdir: 'deep/er', key: 'subdir-key', secret: 'subdir-secret' },
              { bucket: 'minio-bucket', host: 'h:9000', key: 'minio-key', secret: 'minio-secret', secure: false, multipart: false },
            ],
          },
        },
      },
      env: { AWS_ACCESS_KEY_ID: 'env-key', AWS_SECRET_ACCESS_KEY: 'env-secret' },
    });
    const mine = driver.locate('s3://my-bucket/x/model.pt');
    assert.deepEqual([mine.base, mine.bucket, mine.key, mine.settings.key], ['s3://my-bucket', 'my-bucket', 'x/model.pt', 'bucket-key']);
    assert.equal(driver.locate('s3://my-bucket/deep/er/m.pt').settings.key, 'subdir-key');
    assert.equal(driver.locate('s3://my-bucket/deep/erx/m.pt').settings.key, 'bucket-key', 'prefixes match whole segments');
    assert.equal(driver.locate('s3://my-bucket-2/m.pt').settings.key, 'default-key');
    const minio = driver.locate('s3://h:9000/minio-bucket/a/b.pt');
    assert.deepEqual([minio.base, minio.bucket, minio.key, minio.settings.key], ['s3://h:9000/minio-bucket', 'minio-bucket', 'a/b.pt', 'minio-key']);
    assert.deepEqual([minio.settings.secure, minio.settings.multipart, minio.settings.region], [false, false, 'eu-west-1']);
    const other = driver.locate('s3://other.host:9000/b/k');
    assert.deepEqual([other.base, other.bucket, other.key, other.settings.key], ['s3://other.host:9000/b', 'b', 'k', 'default-key']);

    const fromEnv = new S3Driver({ env: { AWS_ACCESS_KEY_ID: 'env-key', AWS_SECRET_ACCESS_KEY: 'env-secret', AWS_DEFAULT_REGION: 'us-west-2' } });
    const loc = fromEnv.locate('s3://any/k');
    assert.deepEqual([loc.settings.key, loc.settings.secret, loc.settings.region], ['env-key', 'env-secret', 'us-west-2']);
  });
});
