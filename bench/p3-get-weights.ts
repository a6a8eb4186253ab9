/**
 * P3: `getWeights` of a model whose 1 GiB weights are on Cairn's file server (server in its own process).
 *
 * Cold: an empty cache folder; the call downloads, verifies the SHA-256 recorded with the model, and puts the
 * copy into the cache. Reference, measured in the same run and interleaved: a bare `node:http` GET of the same
 * file (the one the server stores) from a bare server, streamed to disk. Warm: the same call once the copy is cached, from a fresh session
 * (as another process would make it) so nothing is remembered in memory; it must not read the file again.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { Model, OutputModel, Session, Task } from '@cairn/sdk';
import { runWorkload, type WorkloadContext } from './lib/runner.js';
import { startCairn, type CairnServer } from './lib/processes.js';
import { bareGet, startBareServer } from './lib/bare-http.js';
import { GiB, MiB, mbPerSecond, summarize } from './lib/stats.js';
import { atMost, measured, ratioFigure, reported } from './lib/result.js';
import { writeRandomFile } from './lib/system.js';
import { sha256Of } from './lib/verify.js';

/** Target: cold download at least this fraction of the bare GET. */
const MIN_RATIO = 0.85;
/** Target: a cache hit answers within this (ms). */
const MAX_WARM_MS = 5;
/** Cache hits timed per run. */
const WARM_CALLS = 20;

function sessionFor(server: CairnServer, cacheDir: string): Session {
  return new Session({ apiHost: server.apiUrl, filesHost: server.filesUrl, accessKey: server.accessKey, secretKey: server.secretKey, env: {}, cacheDir });
}

/** The model loaded in a fresh session (logged in, record read): what a consumer has before calling getWeights. */
async function loadModel(server: CairnServer, cacheDir: string, id: string): Promise<Model> {
  return Model.get(id, { session: sessionFor(server, cacheDir) });
}

async function run(ctx: WorkloadContext) {
  const size = ctx.quick ? 64 * MiB : GiB;
  const runs = ctx.runs(5);
  const work = ctx.tempDir('p3-work');
  const file = path.join(work, 'weights.bin');
  const sha256 = writeRandomFile(file, size);

  const server = await startCairn({ dataDir: ctx.tempDir('p3-server') });
  ctx.onCleanup(() => server.stop());
  const task = await Task.init({ projectName: 'Bench', taskName: 'download', session: sessionFor(server, ctx.tempDir('p3-upload-cache')), outputUri: true });
  const output = new OutputModel({ task, name: 'weights' });
  const uri = await output.updateWeights({ weightsFilename: file, asyncEnable: false, autoDeleteFile: true });
  await task.close();
  const id = output.id!;
  // The reference serves the very file the server stores, so both read the same bytes from the same cache.
  const stored = path.join(server.dataDir, 'files', decodeURIComponent(uri.slice(server.filesUrl.length + 1)));
  const bare = await startBareServer(path.dirname(stored));
  ctx.onCleanup(() => bare.stop());
  const bareUrl = `${bare.url}/${encodeURIComponent(path.basename(stored))}`;

  // Warm-up of both paths on this process (modules, connections).
  const warmCache = ctx.tempDir('p3-warm-up');
  await (await loadModel(server, warmCache, id)).getWeights({ raiseOnError: true });
  rmSync(warmCache, { recursive: true, force: true });
  await bareGet(bareUrl, path.join(work, 'bare.bin'));

  const bareRates: number[] = [];
  const coldRates: number[] = [];
  const warmMs: number[] = [];
  for (let r = 1; r <= runs; r++) {
    const target = path.join(work, 'bare.bin');
    rmSync(target, { force: true });
    let t0 = performance.now();
    await bareGet(bareUrl, target);
    bareRates.push(mbPerSecond(size, performance.now() - t0));
    rmSync(target);

    const cacheDir = path.join(work, `cache-${r}`);
    const cold = await loadModel(server, cacheDir, id);
    t0 = performance.now();
    const local = await cold.getWeights({ raiseOnError: true });
    coldRates.push(mbPerSecond(size, performance.now() - t0));
    if (!local || (await sha256Of(local)) !== sha256) throw new Error(`run ${r}: the cached copy ${local} does not match the uploaded file`);

    for (let i = 0; i < WARM_CALLS; i++) {
      const warm = await loadModel(server, cacheDir, id);
      t0 = performance.now();
      const again = await warm.getWeights({ raiseOnError: true });
      warmMs.push(performance.now() - t0);
      if (again !== local) throw new Error(`run ${r}: a cache hit answered ${again}, not ${local}`);
    }
    rmSync(cacheDir, { recursive: true, force: true });
    ctx.log(`run ${r}: bare GET ${bareRates.at(-1)!.toFixed(0)} MB/s, cold getWeights ${coldRates.at(-1)!.toFixed(0)} MB/s, warm median ${summarize(warmMs.slice(-WARM_CALLS)).median.toFixed(2)} ms`);
  }

  const cold = measured('getWeights, cold cache (download, SHA-256, rename)', summarize(coldRates), 'MB/s');
  const warm = measured('getWeights, warm cache (hit)', summarize(warmMs), 'ms');
  return {
    params: { bytes: size, runs, warmCallsPerRun: WARM_CALLS },
    figures: [
      ratioFigure('P3.cold', cold, measured('bare node:http GET to disk', summarize(bareRates), 'MB/s'), MIN_RATIO),
      atMost('P3.warm', warm, MAX_WARM_MS, `≤ ${MAX_WARM_MS} ms, no re-hash`),
      reported('P3.warm-p99', { label: 'getWeights, warm cache, p99', value: summarize(warmMs).p99, unit: 'ms', samples: warmMs.length }),
    ],
  };
}

await runWorkload('P3', 'getWeights of a 1 GiB model, cold and warm cache', run);
