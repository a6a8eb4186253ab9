/**
 * The cloud storage libraries (AWS, Google, Azure) load on a driver's first call, not with the SDK: together they
 * took about 0.6 s of every script's start-up, S3, GCS and Azure users or not.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const RECORDER = path.resolve(import.meta.dirname, '../../../test/fixtures/record-imports.mjs');
/** Long enough for a started import to be resolved (the calls themselves are not awaited: they retry for a while). */
const SETTLE_MS = 2000;
const CLOUD_LIBRARIES = /\/node_modules\/(@aws-sdk\/client-s3|@aws-sdk\/lib-storage|@google-cloud\/storage|@azure\/storage-blob)\//;

/** Runs `script` (an ES module body) in a fresh Node process and returns the cloud libraries it loaded. */
function cloudLibrariesLoadedBy(script: string): string[] {
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--import', RECORDER, '--input-type=module', '-e', `${script}\nawait new Promise((r) => setTimeout(r, ${SETTLE_MS}));\nconsole.log(JSON.stringify(globalThis.resolvedModules));\nprocess.exit(0);`],
    { cwd: path.resolve(import.meta.dirname, '../../..'), encoding: 'utf8' },
  );
  assert.equal(run.status, 0, run.stderr);
  const urls = JSON.parse(run.stdout.trim().split('\n').pop()!) as string[];
  return [...new Set(urls.map((u) => CLOUD_LIBRARIES.exec(u)?.[1]).filter((m): m is string => !!m))].sort();
}

describe('cloud storage libraries load lazily', () => {
  it('importing the SDK loads none of them', () => {
    assert.deepEqual(cloudLibrariesLoadedBy(`await import('@cairn/sdk');`), []);
  });

  it('the first call of each driver loads its library', () => {
    const script = `
      const { S3Driver, GcsDriver, AzureDriver } = await import('@cairn/sdk');
      const env = { AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's', AZURE_STORAGE_ACCOUNT: 'acct', AZURE_STORAGE_KEY: Buffer.from('key').toString('base64') };
      // Nothing listens on port 9: each call would fail after retrying; it loads its library first.
      void new S3Driver({ env, sdk: { aws: { s3: { credentials: [{ bucket: 'b', host: '127.0.0.1:9', secure: false, key: 'k', secret: 's' }] } } } }).head('s3://127.0.0.1:9/b/k').catch(() => {});
      void new GcsDriver({ env, apiEndpoint: 'http://127.0.0.1:9' }).head('gs://b/k').catch(() => {});
      void new AzureDriver({ env, endpoint: () => 'http://127.0.0.1:9/acct' }).head('azure://acct.blob.core.windows.net/c/k').catch(() => {});
    `;
    assert.deepEqual(cloudLibrariesLoadedBy(script), ['@aws-sdk/client-s3', '@aws-sdk/lib-storage', '@azure/storage-blob', '@google-cloud/storage']);
  });
});
