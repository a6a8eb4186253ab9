import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { startTestServer, testDialects, type TestServer } from '@cairn/server/test-harness';

/** The file size the issue asks for. */
const FILE_BYTES = 2 * 1024 ** 3;
/** How much the SDK process may grow while moving it. */
const MAX_GROWTH_BYTES = 100 * 1024 * 1024;

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 8 * 1024 * 1024 })) hash.update(chunk);
  return hash.digest('hex');
}

// The SDK's memory does not depend on the database, so this runs on the first dialect only.
const dialect = testDialects()[0];

describe(`2 GiB of weights through the file server (${dialect})`, () => {
  let s: TestServer;
  const work = mkdtempSync(path.join(os.tmpdir(), 'cairn-big-'));
  before(async () => {
    s = await startTestServer({ dialect });
  });
  after(async () => {
    await s.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('uploads and downloads with flat memory; the downloaded file has the recorded SHA-256', { timeout: 600_000 }, async () => {
    const file = path.join(work, 'weights.bin');
    writeFileSync(file, '');
    truncateSync(file, FILE_BYTES);
    const expected = await sha256Of(file);
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, '../../test/big-transfer.ts')], {
      env: {
        PATH: process.env.PATH,
        HOME: work,
        CLEARML_API_HOST: s.apiUrl,
        CLEARML_FILES_HOST: s.filesUrl,
        CLEARML_API_ACCESS_KEY: s.accessKey,
        CLEARML_API_SECRET_KEY: s.secretKey,
        BIG_FILE: file,
        BIG_CACHE_DIR: path.join(work, 'cache'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, err);
    const r = JSON.parse(out.trim().split('\n').pop() as string);
    const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
    console.log(`2 GiB: upload ${r.uploadSeconds}s, download ${r.downloadSeconds}s, RSS baseline ${mb(r.baseline)}, peak ${mb(r.peak)} (upload peak ${mb(r.uploadPeak)})`);
    assert.equal(r.recorded, r.uri, 'the URI announced is the URI recorded');
    assert.equal(r.size, FILE_BYTES);
    assert.equal(r.sha256, expected, 'the digest computed while uploading is the file’s');
    assert.ok(r.peak - r.baseline < MAX_GROWTH_BYTES, `memory grew by ${mb(r.peak - r.baseline)}`);
    assert.equal(await sha256Of(r.local), expected, 'the downloaded copy has the recorded SHA-256');
  });
});
