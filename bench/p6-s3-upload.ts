/**
 * P6: a 1 GiB upload through the SDK's S3 driver (multipart, parallel parts, SHA-256 while sending) to a local
 * S3-compatible server (s3rver, in its own process). Reference, measured in the same run and interleaved: the
 * AWS SDK's own `Upload` from @aws-sdk/lib-storage with its default settings, same file, same server. Memory:
 * resident set growth of this process while each upload runs (flat = bounded by parts in flight, not by the
 * file's size).
 */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { S3Driver } from '../packages/sdk/src/storage/drivers/s3.js';
import { startS3rver, S3RVER_KEY, S3RVER_SECRET } from '../packages/sdk/test/fixtures/s3rver.js';
import { runWorkload } from './lib/runner.js';
import { GiB, MiB, mbPerSecond, summarize } from './lib/stats.js';
import { atMost, measured, ratioFigure, reported, worst } from './lib/result.js';
import { collectGarbage, RssSampler, writeRandomFile } from './lib/system.js';

const MIN_RATIO = 1.0;
/** "Flat": the driver's parts in flight (4 × 8 MiB) and the client's buffers, whatever the file size. */
const MAX_RSS_GROWTH_MB = 100;
const BUCKET = 'bench';

await runWorkload('P6', '1 GiB upload through the S3 driver to a local S3-compatible server', async (ctx) => {
  const size = ctx.quick ? 64 * MiB : GiB;
  const runs = ctx.runs(3);
  const work = ctx.tempDir('p6');
  const file = path.join(work, 'weights.bin');
  const sha256 = writeRandomFile(file, size);
  const s3 = await startS3rver({ buckets: [BUCKET] });
  ctx.onCleanup(() => s3.stop());

  const driver = new S3Driver({ sdk: { aws: { s3: { credentials: [{ bucket: BUCKET, host: s3.host, key: S3RVER_KEY, secret: S3RVER_SECRET, secure: false }] } } }, env: {} });
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_SECRET },
    // Without these a streamed body is stored with its aws-chunked framing by S3-compatible servers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  ctx.onCleanup(() => client.destroy());
  const sizeOf = async (key: string) => (await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }))).ContentLength;

  // Warm-up of both paths (modules, sockets).
  const small = path.join(work, 'warm-up.bin');
  writeRandomFile(small, 16 * MiB);
  await driver.upload(small, `s3://${s3.host}/${BUCKET}/warm-up/driver.bin`);
  await new Upload({ client, params: { Bucket: BUCKET, Key: 'warm-up/sdk.bin', Body: createReadStream(small) } }).done();

  const refRates: number[] = [];
  const driverRates: number[] = [];
  const refGrowth: number[] = [];
  const driverGrowth: number[] = [];
  for (let run = 1; run <= runs; run++) {
    const refKey = `runs/${run}/lib-storage.bin`;
    collectGarbage();
    let baseline = process.memoryUsage().rss;
    let sampler = new RssSampler();
    let t0 = performance.now();
    await new Upload({ client, params: { Bucket: BUCKET, Key: refKey, Body: createReadStream(file) } }).done();
    refRates.push(mbPerSecond(size, performance.now() - t0));
    refGrowth.push((sampler.stop() - baseline) / 1e6);
    if ((await sizeOf(refKey)) !== size) throw new Error(`run ${run}: lib-storage stored a different size`);

    const key = `runs/${run}/driver.bin`;
    collectGarbage();
    baseline = process.memoryUsage().rss;
    sampler = new RssSampler();
    t0 = performance.now();
    const result = await driver.upload(file, `s3://${s3.host}/${BUCKET}/${key}`);
    driverRates.push(mbPerSecond(size, performance.now() - t0));
    driverGrowth.push((sampler.stop() - baseline) / 1e6);
    if (result.sha256 !== sha256 || (await sizeOf(key)) !== size) throw new Error(`run ${run}: the driver's upload does not match the file`);
    ctx.log(`run ${run}: lib-storage ${refRates.at(-1)!.toFixed(0)} MB/s (+${refGrowth.at(-1)!.toFixed(1)} MB), driver ${driverRates.at(-1)!.toFixed(0)} MB/s (+${driverGrowth.at(-1)!.toFixed(1)} MB)`);
  }
  return {
    params: { bytes: size, runs, server: 's3rver 3.7 (child process)', driver: '8 MiB parts × 4 in flight, SHA-256 while sending', reference: 'lib-storage Upload defaults (5 MiB parts × 4)' },
    figures: [
      ratioFigure('P6.rate', measured('S3 driver upload', summarize(driverRates), 'MB/s'), measured('lib-storage Upload, default settings', summarize(refRates), 'MB/s'), MIN_RATIO, `≥ ${MIN_RATIO.toFixed(1)}x the reference`),
      atMost('P6.rss', worst('S3 driver RSS growth during the upload (worst run)', driverGrowth, 'MB'), MAX_RSS_GROWTH_MB, `flat: ≤ ${MAX_RSS_GROWTH_MB} MB`),
      reported('P6.rss-reference', worst('lib-storage Upload RSS growth (worst run)', refGrowth, 'MB')),
    ],
  };
});
