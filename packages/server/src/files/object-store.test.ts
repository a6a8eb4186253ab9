import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { BlobServiceClient } from '@azure/storage-blob';
import { models } from '@cairn/protocol';
import { startTestServer, testDialects, type TestServer } from '../../test/harness.js';
import { ObjectFileStore } from './object-store.js';
import { multipartBody } from './test-support.js';
import { startS3rver, S3RVER_KEY, S3RVER_SECRET, type S3rver } from '../../../sdk/test/fixtures/s3rver.js';
import { startAzurite, AZURITE_ACCOUNT, type Azurite } from '../../../sdk/test/fixtures/azurite.js';
import { startGcsServer, type GcsServer } from '../../../sdk/test/fixtures/gcs-server.js';

const MiB = 1024 * 1024;

/** One kind of object store, started for the tests, with independent ways to look into it. */
interface StoreKind {
  name: string;
  /** Starts the protocol server and sets the environment variables the server reads. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** `CAIRN_FILES_URI` for a prefix. */
  uri(prefix: string): string;
  /** Whether the store holds an object under its full key, asked without Cairn's code. */
  exists(fullKey: string): Promise<boolean>;
  /** Puts an object without Cairn's code. */
  put(fullKey: string, data: Buffer): Promise<void>;
}

const ENV_KEYS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_ENDPOINT_URL_S3', 'STORAGE_EMULATOR_HOST', 'AZURE_STORAGE_CONNECTION_STRING'] as const;

function s3Kind(): StoreKind {
  let s3: S3rver;
  return {
    name: 's3 (s3rver)',
    async start() {
      s3 = await startS3rver({ buckets: ['files'] });
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: S3RVER_KEY, AWS_SECRET_ACCESS_KEY: S3RVER_SECRET, AWS_ENDPOINT_URL_S3: s3.endpoint });
    },
    stop: () => s3?.stop(),
    uri: (prefix) => `s3://files/${prefix}`,
    exists: async (key) => existsSync(s3.objectFile('files', key)),
    async put(key, data) {
      const res = await fetch(`${s3.endpoint}/files/${key}`, { method: 'PUT', body: data });
      assert.equal(res.status, 200, await res.text());
    },
  };
}

function gcsKind(): StoreKind {
  let gcs: GcsServer;
  return {
    name: 'gs (GCS JSON-API test server)',
    async start() {
      gcs = await startGcsServer({ buckets: ['files'] });
      process.env.STORAGE_EMULATOR_HOST = gcs.endpoint;
    },
    stop: () => gcs?.stop(),
    uri: (prefix) => `gs://files/${prefix}`,
    async exists(key) {
      try {
        gcs.objectFile('files', key);
        return true;
      } catch {
        return false;
      }
    },
    async put(key, data) {
      const res = await fetch(`${gcs.endpoint}/upload/storage/v1/b/files/o?uploadType=media&name=${encodeURIComponent(key)}`, { method: 'POST', body: data });
      assert.equal(res.status, 200, await res.text());
    },
  };
}

function azureKind(): StoreKind {
  let azurite: Azurite;
  let service: BlobServiceClient;
  return {
    name: 'azure (Azurite)',
    async start() {
      azurite = await startAzurite();
      process.env.AZURE_STORAGE_CONNECTION_STRING = azurite.connectionString;
      service = BlobServiceClient.fromConnectionString(azurite.connectionString);
      await service.getContainerClient('files').create();
    },
    stop: () => azurite?.stop(),
    uri: (prefix) => `azure://${AZURITE_ACCOUNT}.blob.core.windows.net/files/${prefix}`,
    exists: (key) => service.getContainerClient('files').getBlobClient(key).exists(),
    async put(key, data) {
      await service.getContainerClient('files').getBlockBlobClient(key).upload(data, data.length);
    },
  };
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

for (const kind of [s3Kind(), gcsKind(), azureKind()]) {
  describe(`object store files: ${kind.name}`, () => {
    const saved: Partial<Record<(typeof ENV_KEYS)[number], string>> = {};
    let work: string;
    before(async () => {
      for (const key of ENV_KEYS) saved[key] = process.env[key];
      await kind.start();
      work = mkdtempSync(path.join(os.tmpdir(), 'cairn-object-store-'));
    });
    after(async () => {
      await kind.stop();
      for (const key of ENV_KEYS) {
        if (saved[key] === undefined) delete process.env[key];
        else process.env[key] = saved[key];
      }
      rmSync(work, { recursive: true, force: true });
    });

    it('writes a stream of unknown size in parts, stats it, reads it whole and in ranges', async () => {
      const store = new ObjectFileStore(kind.uri('store'));
      const data = randomBytes(20 * MiB + 3);
      const chunks = Array.from({ length: Math.ceil(data.length / MiB) }, (_, i) => data.subarray(i * MiB, (i + 1) * MiB));
      const before = Date.now();
      const written = await store.write('a/b/weights.bin', Readable.from(chunks));
      assert.equal(written.size, data.length);
      assert.ok(Math.abs(written.mtimeMs - before) < 60_000);
      assert.ok(await kind.exists('store/a/b/weights.bin'), 'stored below the prefix');
      assert.deepEqual(await store.stat('a/b/weights.bin'), written);
      assert.equal(sha(await readAll(store.read('a/b/weights.bin'))), sha(data));
      assert.deepEqual(await readAll(store.read('a/b/weights.bin', { start: 5, end: 104 })), data.subarray(5, 105));
      assert.deepEqual(await readAll(store.read('a/b/weights.bin', { start: data.length - 1, end: data.length - 1 })), data.subarray(-1));
      assert.equal(await store.stat('a/b'), undefined, 'a prefix is not a file');
      assert.equal(await store.stat('a/b/missing.bin'), undefined);
    });

    it('writes a local file stream and overwrites an existing object', async () => {
      const store = new ObjectFileStore(kind.uri('store'));
      const file = path.join(work, 'local.bin');
      const data = randomBytes(9 * MiB);
      writeFileSync(file, data);
      await store.write('over.bin', Readable.from([Buffer.from('old')]));
      assert.equal((await store.write('over.bin', createReadStream(file))).size, data.length);
      assert.equal(sha(await readAll(store.read('over.bin'))), sha(data));
    });

    it('a failed read surfaces as a stream error', async () => {
      const store = new ObjectFileStore(kind.uri('store'));
      await assert.rejects(readAll(store.read('no/such/file.bin', { start: 0, end: 9 })));
    });

    it('deletes one file, and a tree: the key itself and everything below it, nothing beside it', async () => {
      const store = new ObjectFileStore(kind.uri('tree'));
      for (const key of ['dir', 'dir/a.bin', 'dir/sub/b.bin', 'dirx/c.bin', 'one.bin']) await kind.put(`tree/${key}`, Buffer.from(key));
      assert.equal(await store.delete('one.bin'), true);
      assert.equal(await kind.exists('tree/one.bin'), false);
      assert.equal(await store.delete('one.bin'), false);
      assert.equal(await store.delete('dirx'), false, 'a prefix is not one file');
      assert.equal(await store.deleteTree('dir'), true);
      for (const key of ['dir', 'dir/a.bin', 'dir/sub/b.bin']) assert.equal(await kind.exists(`tree/${key}`), false, key);
      assert.equal(await kind.exists('tree/dirx/c.bin'), true);
      assert.equal(await store.deleteTree('dir'), false);
    });

    for (const dialect of testDialects()) {
      describe(`the server with CAIRN_FILES_URI (${dialect})`, () => {
        let s: TestServer;
        before(async () => {
          s = await startTestServer({ dialect, config: { filesUri: kind.uri(`srv-${dialect}`) } });
        });
        after(() => s?.stop());

        it('stores an upload in the object store and serves it through /files/', async () => {
          const data = randomBytes(3 * MiB + 11);
          const { body, contentType } = multipartBody([{ name: '/Proj/train v1.abc/models/weights.bin', data }]);
          const auth = { authorization: `Bearer ${await s.token()}` };
          const up = await fetch(`${s.filesUrl}`, { method: 'POST', body, headers: { ...auth, 'content-type': contentType } });
          assert.equal(up.status, 200, await up.clone().text());
          assert.deepEqual(await up.json(), ['Proj/train v1.abc/models/weights.bin']);
          assert.ok(await kind.exists(`srv-${dialect}/Proj/train v1.abc/models/weights.bin`));
          assert.ok(!existsSync(path.join(s.server.config.filesRoot, 'Proj')), 'nothing in the local files folder');

          const url = `${s.filesUrl}/Proj/train%20v1.abc/models/weights.bin`;
          const got = await fetch(url, { headers: auth });
          assert.equal(got.status, 200);
          assert.equal(got.headers.get('content-length'), String(data.length));
          assert.deepEqual(Buffer.from(await got.arrayBuffer()), data);
          const part = await fetch(url, { headers: { ...auth, range: 'bytes=100-199' } });
          assert.equal(part.status, 206);
          assert.equal(part.headers.get('content-range'), `bytes 100-199/${data.length}`);
          assert.deepEqual(Buffer.from(await part.arrayBuffer()), data.subarray(100, 200));

          const del = await fetch(url, { method: 'DELETE', headers: auth });
          assert.equal(del.status, 200);
          assert.equal(await kind.exists(`srv-${dialect}/Proj/train v1.abc/models/weights.bin`), false);
          assert.equal((await fetch(url, { headers: auth })).status, 404);
        });

        it('models.delete removes weights in the object store unless delete_external_artifacts is false', async () => {
          const keep = `weights-${dialect}/keep.bin`;
          const drop = `weights-${dialect}/drop.bin`;
          for (const key of [keep, drop]) await kind.put(key, Buffer.from(key));
          const dropped = await s.ok(models.create, { name: 'drop', uri: kind.uri(drop) });
          const kept = await s.ok(models.create, { name: 'keep', uri: kind.uri(keep) });
          const missing = await s.ok(models.create, { name: 'missing', uri: kind.uri(`weights-${dialect}/never-uploaded.bin`) });

          assert.equal((await s.ok(models.delete, { model: dropped.id })).deleted, true);
          assert.equal(await kind.exists(drop), false);
          await s.ok(models.delete, { model: kept.id, delete_external_artifacts: false });
          assert.equal(await kind.exists(keep), true);
          assert.equal((await s.ok(models.delete, { model: missing.id })).deleted, true, 'a missing object does not fail the delete');
        });
      });
    }
  });
}
