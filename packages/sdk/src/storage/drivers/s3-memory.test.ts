import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startS3rver, type S3rver } from '../../../test/fixtures/s3rver.js';
import { writeRandomFile } from '../../../test/fixtures/files.js';

const GiB = 1024 ** 3;
const MB = 1e6;
/** The bound the SDK promises: memory stays flat whatever the file size. */
const MAX_GROWTH = 100 * MB;

describe('S3 driver memory', () => {
  let s3: S3rver;
  let work: string;

  before(async () => {
    s3 = await startS3rver({ buckets: ['models'] });
    work = mkdtempSync(path.join(os.tmpdir(), 'cairn-s3-memory-'));
  });
  after(async () => {
    await s3?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('uploads and downloads 2 GiB with less than 100 MB of memory growth', { timeout: 15 * 60_000 }, async (t) => {
    const file = path.join(work, 'two-gib.bin');
    const sha256 = writeRandomFile(file, 2 * GiB);
    const child = path.resolve(import.meta.dirname, '../../../test/fixtures/s3-memory-child.ts');
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', child, s3.host, 'models', file, path.join(work, 'down.bin')], {
      maxBuffer: 1024 * 1024,
    });
    const result = JSON.parse(stdout.trim().split('\n').pop()!);
    assert.deepEqual(result.up, { uri: `s3://${s3.host}/models/memory/big.bin`, sha256, size: 2 * GiB });
    assert.deepEqual(result.down, { sha256, size: 2 * GiB });
    const growth = result.peak - result.baseline;
    t.diagnostic(`RSS baseline ${(result.baseline / MB).toFixed(1)} MB, peak ${(result.peak / MB).toFixed(1)} MB`);
    assert.ok(growth < MAX_GROWTH, `RSS grew by ${(growth / MB).toFixed(1)} MB (baseline ${(result.baseline / MB).toFixed(1)} MB)`);
  });
});
