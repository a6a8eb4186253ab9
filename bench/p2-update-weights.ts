/**
 * P2: `updateWeights` of a 1 GiB file to Cairn's own file server (server in its own process, on loopback),
 * blocking, verified: the digest the SDK computed while sending must equal the file's, and the stored object
 * must hash to it too (checked after the clock stops).
 *
 * References, measured in the same run and interleaved with the SDK runs: a bare `node:http` PUT of the same
 * file to a bare server that streams it to disk (no framework, no hashing), and `cp` + `sync` of the file.
 * The SDK's memory: resident set growth of this process over its steady state while the upload runs.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { OutputModel, Session, Task } from '@cairn/sdk';
import { runWorkload } from './lib/runner.js';
import { startCairn } from './lib/processes.js';
import { barePut, startBareServer } from './lib/bare-http.js';
import { GiB, MiB, mbPerSecond, summarize } from './lib/stats.js';
import { atMost, measured, ratioFigure, reported, worst } from './lib/result.js';
import { collectGarbage, RssSampler, writeRandomFile } from './lib/system.js';
import { sha256Of } from './lib/verify.js';

/** Target: at least this fraction of the bare PUT's throughput. */
const MIN_RATIO = 0.85;
/** Target: the SDK's resident set grows by at most this while uploading. */
const MAX_RSS_GROWTH = 64 * 1e6;

await runWorkload('P2', 'updateWeights of a 1 GiB file to the own file server, verified', async (ctx) => {
  const size = ctx.quick ? 64 * MiB : GiB;
  const runs = ctx.runs(5);
  const work = ctx.tempDir('p2-work');
  const file = path.join(work, 'weights.bin');
  const sha256 = writeRandomFile(file, size);

  const server = await startCairn({ dataDir: ctx.tempDir('p2-server') });
  ctx.onCleanup(() => server.stop());
  const bareDir = ctx.tempDir('p2-bare');
  const bare = await startBareServer(bareDir);
  ctx.onCleanup(() => bare.stop());
  const copyDir = ctx.tempDir('p2-copy');

  const session = new Session({ apiHost: server.apiUrl, filesHost: server.filesUrl, accessKey: server.accessKey, secretKey: server.secretKey, env: {}, cacheDir: ctx.tempDir('p2-cache') });
  const task = await Task.init({ projectName: 'Bench', taskName: 'upload', session, outputUri: true });

  // Warm-up: modules, connections and the tus discovery exist before the baseline is taken.
  const small = path.join(work, 'warm-up.bin');
  writeRandomFile(small, 4 * MiB);
  await new OutputModel({ task, name: 'warm-up' }).updateWeights({ weightsFilename: small, asyncEnable: false, autoDeleteFile: true });
  await barePut(`${bare.url}/warm-up.bin`, file);
  rmSync(path.join(bareDir, 'warm-up.bin'));

  const bareRates: number[] = [];
  const sdkRates: number[] = [];
  const copyRates: number[] = [];
  const growth: number[] = [];
  for (let run = 1; run <= runs; run++) {
    let t0 = performance.now();
    await barePut(`${bare.url}/weights.bin`, file);
    bareRates.push(mbPerSecond(size, performance.now() - t0));
    rmSync(path.join(bareDir, 'weights.bin'));

    const model = new OutputModel({ task, name: `weights-${run}` });
    collectGarbage();
    const baseline = process.memoryUsage().rss;
    const sampler = new RssSampler();
    t0 = performance.now();
    const uri = await model.updateWeights({ weightsFilename: file, asyncEnable: false, autoDeleteFile: false });
    const ms = performance.now() - t0;
    growth.push(sampler.stop() - baseline);
    sdkRates.push(mbPerSecond(size, ms));
    if (model.weightsSha256 !== sha256 || model.weightsSize !== size) throw new Error(`run ${run}: recorded ${model.weightsSha256}/${model.weightsSize}, expected ${sha256}/${size}`);
    const stored = path.join(server.dataDir, 'files', decodeURIComponent(uri.slice(server.filesUrl.length + 1)));
    if ((await sha256Of(stored)) !== sha256) throw new Error(`run ${run}: the stored object ${stored} does not match the file`);
    await session.storage.delete(uri);

    const copy = path.join(copyDir, 'weights.bin');
    t0 = performance.now();
    if (spawnSync('cp', [file, copy]).status !== 0 || spawnSync('sync', [copy]).status !== 0) throw new Error('cp + sync failed');
    copyRates.push(mbPerSecond(size, performance.now() - t0));
    rmSync(copy);
    ctx.log(`run ${run}: bare PUT ${bareRates.at(-1)!.toFixed(0)} MB/s, SDK ${sdkRates.at(-1)!.toFixed(0)} MB/s (+${(growth.at(-1)! / 1e6).toFixed(1)} MB RSS), cp+sync ${copyRates.at(-1)!.toFixed(0)} MB/s`);
  }
  await task.close();

  const sdk = measured('updateWeights (tus, SHA-256 while sending)', summarize(sdkRates), 'MB/s');
  const copy = measured('cp + sync', summarize(copyRates), 'MB/s');
  return {
    params: { bytes: size, runs, destination: 'own file server (tus, 128 MiB chunks)' },
    figures: [
      ratioFigure('P2.rate', sdk, measured('bare node:http PUT to disk', summarize(bareRates), 'MB/s'), MIN_RATIO),
      reported('P2.rate-vs-copy', sdk, copy),
      atMost('P2.rss', worst('SDK RSS growth during the upload (worst run)', growth.map((g) => g / 1e6), 'MB'), MAX_RSS_GROWTH / 1e6, `≤ ${MAX_RSS_GROWTH / 1e6} MB`),
    ],
  };
});
