import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { models } from '@cairn/protocol';
import { startTestServer, testDialects, type TestServer } from '@cairn/server/test-harness';
import { IntegrityError, StorageError } from '../../errors.js';
import { Task } from '../../task.js';
import { OutputModel } from '../../model/output-model.js';
import { Model } from '../../model/model.js';
import { testSession } from '../../../test/helpers.js';
import { StorageManager } from '../manager.js';
import { AzureDriver, AZURE_BLOCK_SIZE } from './azure.js';
import { startAzurite, AZURITE_ACCOUNT, AZURITE_KEY, type Azurite } from '../../../test/fixtures/azurite.js';
import { checkEmptyAndOddKeys, checkHeadListDelete } from '../../../test/object-store-contract.js';
import { sha256File, writeRandomFile } from '../../../test/fixtures/files.js';

const MiB = 1024 * 1024;
const BIG = 200 * MiB;
const HOST = `${AZURITE_ACCOUNT}.blob.core.windows.net`;

describe('Azure Blob driver against Azurite', () => {
  let azurite: Azurite;
  let service: BlobServiceClient;
  let work: string;
  let big: string;
  let bigSha: string;
  let small: string;
  let smallSha: string;

  const conf = (entry: Record<string, unknown> = {}) => ({
    azure: { storage: { containers: [{ account_name: AZURITE_ACCOUNT, account_key: AZURITE_KEY, container_name: 'models', ...entry }] } },
  });
  const driver = (sdk: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) => new AzureDriver({ sdk, env, endpoint: azurite.endpoint });
  const manager = (d: AzureDriver) => new StorageManager({ drivers: [d], cacheDir: mkdtempSync(path.join(work, 'cache-')) });

  before(async () => {
    azurite = await startAzurite();
    service = new BlobServiceClient(azurite.endpoint(AZURITE_ACCOUNT), new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY));
    await service.getContainerClient('models').create();
    await service.getContainerClient('other').create();
    work = mkdtempSync(path.join(os.tmpdir(), 'cairn-azure-test-'));
    big = path.join(work, 'big.bin');
    bigSha = writeRandomFile(big, BIG);
    small = path.join(work, 'small.bin');
    smallSha = writeRandomFile(small, 3 * MiB + 17);
  });
  after(async () => {
    await azurite?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('uploads 200 MiB in parallel blocks and downloads it through the StorageManager, digests matching', async () => {
    const m = manager(driver(conf()));
    const uri = `azure://${HOST}/models/Proj/train v1.abc/models/big.bin`;
    const up = await m.upload(big, uri);
    assert.deepEqual(up, { uri, sha256: bigSha, size: BIG });
    const blocks = await service.getContainerClient('models').getBlockBlobClient('Proj/train v1.abc/models/big.bin').getBlockList('committed');
    assert.equal(blocks.committedBlocks?.length, Math.ceil(BIG / AZURE_BLOCK_SIZE), 'one committed block per 8 MiB');

    const local = await m.getLocalCopy(uri, { expectedSha256: up.sha256, expectedSize: up.size });
    assert.equal(statSync(local).size, BIG);
    assert.equal(sha256File(local), bigSha);
  });

  it('takes the account and key from AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY', async () => {
    const m = manager(driver({}, { AZURE_STORAGE_ACCOUNT: AZURITE_ACCOUNT, AZURE_STORAGE_KEY: AZURITE_KEY }));
    const uri = `azure://${HOST}/other/env/small.bin`;
    const up = await m.upload(small, uri);
    assert.equal(up.sha256, smallSha);
    assert.equal(sha256File(await m.getLocalCopy(uri, { expectedSha256: smallSha })), smallSha);
  });

  it('signs with the configured key: a wrong key is refused by the server', async () => {
    const wrong = randomBytes(64).toString('base64');
    await assert.rejects(driver(conf({ account_key: wrong })).upload(small, `azure://${HOST}/models/refused.bin`), (err: unknown) => {
      assert.ok(err instanceof StorageError);
      assert.match(err.message, /AuthorizationFailure|AuthenticationFailed|HTTP 403/);
      assert.equal(err.file, small);
      return true;
    });
  });

  it('an entry for one container does not serve another; without any key the error names the URL, the config keys and the environment variables', async () => {
    const uri = `azure://${HOST}/other/x.bin`;
    await assert.rejects(manager(driver(conf())).upload(small, uri), (err: unknown) => {
      assert.ok(err instanceof StorageError);
      assert.equal(err.uri, uri);
      assert.match(err.message, /Missing account name or key for Azure Blob Storage access for azure:\/\/devstoreaccount1\.blob\.core\.windows\.net\/other/);
      assert.match(err.message, /sdk\.azure\.storage\.containers/);
      assert.match(err.message, /AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY/);
      return true;
    });
    // An entry without container_name serves every container of the account.
    const up = await driver(conf({ container_name: '' })).upload(small, uri);
    assert.equal(up.sha256, smallSha);
  });

  it('a corrupted blob (bytes changed after upload) fails the download with IntegrityError', async () => {
    const m = manager(driver(conf()));
    const up = await m.upload(small, `azure://${HOST}/models/corrupt.bin`);
    const tampered = Buffer.alloc(up.size, 7);
    await service.getContainerClient('models').getBlockBlobClient('corrupt.bin').upload(tampered, tampered.length);
    await assert.rejects(m.getLocalCopy(up.uri, { expectedSha256: up.sha256, expectedSize: up.size }), (err: unknown) => {
      assert.ok(err instanceof IntegrityError);
      assert.equal(err.expectedSha256, smallSha);
      assert.notEqual(err.actualSha256, smallSha);
      return true;
    });
  });

  it('round-trips an empty file, and keys with a space, %3F and non-ASCII characters as written', async () => {
    const d = driver(conf());
    await checkEmptyAndOddKeys({ driver: d, manager: manager(d), work, small, smallSha }, `azure://${HOST}/models/odd`);
  });

  it('heads, lists and deletes blobs', async () => {
    const d = driver(conf());
    await checkHeadListDelete({ driver: d, manager: manager(d), work, small, smallSha }, `azure://${HOST}/models/listing`);
  });

  for (const dialect of testDialects()) {
    describe(`OutputModel weights in Azure Blob Storage (${dialect})`, () => {
      let s: TestServer;
      before(async () => {
        s = await startTestServer({ dialect });
      });
      after(() => s?.stop());

      it('updateWeights uploads 200 MiB and records its digest; getWeights verifies it', async () => {
        const { session } = testSession(s, { storage: manager(driver(conf())) });
        const task = await Task.init({ projectName: 'Object stores', taskName: `azure ${dialect}`, outputUri: false, session });
        const model = new OutputModel({ task, name: 'big' });
        const uri = await model.updateWeights({ weightsFilename: big, uploadUri: `azure://${HOST}/models/out`, autoDeleteFile: false, asyncEnable: false });
        assert.equal(uri, `azure://${HOST}/models/out/Object stores/azure ${dialect}.${task.id}/models/big.bin`);
        const record = (await s.ok(models.get_by_id, { model: model.id! })).model;
        assert.deepEqual([record.uri, record.weights_sha256, record.weights_size], [uri, bigSha, BIG]);
        const local = await (await Model.get(model.id!, { session })).getWeights({ raiseOnError: true });
        assert.equal(sha256File(local!), bigSha);
      });
    });
  }

  it('checks that a destination is writable', async () => {
    const d = driver(conf({ container_name: '' }));
    await d.verifyWritable(`azure://${HOST}/models/writable`);
    const left = [];
    for await (const item of d.list(`azure://${HOST}/models/writable`)) left.push(item);
    assert.deepEqual(left, []);
    await assert.rejects(d.verifyWritable(`azure://${HOST}/no-such-container/out`), (err: unknown) => err instanceof StorageError && /ContainerNotFound/.test(err.message));
  });
});
