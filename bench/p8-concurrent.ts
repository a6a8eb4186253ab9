/**
 * P8: 50 concurrent SDK clients against one server (SQLite, own process) for 60 s. Each client has its own
 * session, task and output model and loops: report 100 scalars and flush them, upload a 10 MiB weights file
 * (blocking, digest checked). The clients run in two worker processes so that no single event loop carries
 * all of them.
 *
 * Figures: errors (client operations that failed, and server answers of 500 or more), request latency at the
 * server (p50/p99 by kind: API calls, logins, file uploads) and per operation at the clients, and throughput.
 */
import path from 'node:path';
import { runWorkload } from './lib/runner.js';
import { benchDir, startChild, startCairn } from './lib/processes.js';
import { MiB, summarize } from './lib/stats.js';
import { atMost, measured, p99Of, reported, type Figure } from './lib/result.js';
import { writeRandomFile } from './lib/system.js';
import type { ClientReport } from './lib/p8-client.js';

const CLIENTS = 50;
const WORKERS = 2;
const DURATION_MS = 60_000;
const FILE_BYTES = 10 * MiB;
const SCALARS_PER_ROUND = 100;
/** A worker that has not answered this long after the run's end is stuck. */
const ANSWER_GRACE_MS = 5 * 60_000;

await runWorkload('P8', '50 concurrent clients reporting scalars and uploading 10 MiB files for 60 s', async (ctx) => {
  const clients = ctx.quick ? 4 : CLIENTS;
  const durationMs = ctx.quick ? 5_000 : DURATION_MS;
  const fileBytes = ctx.quick ? MiB : FILE_BYTES;
  const work = ctx.tempDir('p8');
  const file = path.join(work, 'weights.bin');
  const sha256 = writeRandomFile(file, fileBytes);

  const server = await startCairn({ dataDir: ctx.tempDir('p8-server') });
  ctx.onCleanup(() => server.stop());
  const workers = await Promise.all(Array.from({ length: WORKERS }, () => startChild<{ ready: boolean }>(path.join(benchDir, 'lib/p8-client.ts'))));
  for (const worker of workers) ctx.onCleanup(() => worker.stop());
  await server.requests();

  const perWorker = Math.ceil(clients / WORKERS);
  const started = performance.now();
  const answers = await Promise.race([
    Promise.all(
      workers.map((worker, w) =>
        worker.ask<{ reports: ClientReport[] }>({
          type: 'run',
          apiUrl: server.apiUrl,
          filesUrl: server.filesUrl,
          accessKey: server.accessKey,
          secretKey: server.secretKey,
          clients: Math.min(perWorker, clients - w * perWorker),
          firstClient: w * perWorker,
          durationMs,
          file,
          sha256,
          cacheDir: path.join(work, `cache-${w}`),
          scalarsPerRound: SCALARS_PER_ROUND,
        }),
      ),
    ),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the clients did not finish')), durationMs + ANSWER_GRACE_MS).unref()),
  ]);
  const elapsedS = (performance.now() - started) / 1000;
  const reports = answers.flatMap((a) => a.reports);
  const { samples, refused, slowest } = await server.requests();

  const slowestApi = slowest.api ?? [];
  const errors = reports.flatMap((r) => r.errors);
  const serverErrors = Object.entries(refused).filter(([key]) => Number(key.split(' ')[1]) >= 500);
  const uploads = reports.reduce((n, r) => n + r.uploads, 0);
  const scalars = reports.reduce((n, r) => n + r.scalars, 0);
  for (const message of [...new Set(errors)].slice(0, 5)) ctx.log(`client error: ${message}`);
  ctx.log(`${uploads} uploads, ${scalars} scalars, ${errors.length} client errors, refused: ${JSON.stringify(refused)}`);

  const api = summarize(samples.api ?? []);
  const logins = summarize(samples.login ?? []);
  const files = summarize(samples.files ?? []);
  const flush = summarize(reports.flatMap((r) => r.flushMs));
  const upload = summarize(reports.flatMap((r) => r.uploadMs));
  const p99 = (id: string, label: string, s: typeof api): Figure => reported(id, p99Of(label, s, 'ms'));
  const figures: Figure[] = [
    atMost('P8.errors', { label: 'failed client operations + server answers ≥ 500', value: errors.length + serverErrors.reduce((n, [, c]) => n + c, 0), unit: 'errors' }, 0, '0 errors'),
    p99('P8.api-p99', 'API request latency at the server (logins apart), p99', api),
    reported('P8.api-p50', measured('API request latency at the server (logins apart), p50', api, 'ms')),
    p99('P8.login-p99', `auth.login latency at the server (one per client at the start; a deliberately slow hash), p99`, logins),
    p99('P8.upload-request-p99', 'file-server request latency at the server (upload chunks), p99', files),
    p99('P8.flush-p99', `client: ${SCALARS_PER_ROUND} scalars reported and flushed, p99`, flush),
    p99('P8.update-weights-p99', `client: updateWeights of ${fileBytes / MiB} MiB, p99`, upload),
    reported('P8.upload-throughput', { label: 'weights stored (all clients)', value: (uploads * fileBytes) / 1e6 / elapsedS, unit: 'MB/s' }),
    reported('P8.scalar-throughput', { label: 'scalars stored (all clients)', value: scalars / elapsedS, unit: 'events/s' }),
  ];
  return {
    params: { clients, workers: WORKERS, durationS: durationMs / 1000, fileBytes, scalarsPerRound: SCALARS_PER_ROUND, uploads, scalars, apiRequests: api.n, logins: logins.n, fileRequests: files.n, refused, slowestApi: slowestApi.slice(0, 5) },
    figures,
    notes: ['A 4xx answer counted in `refused` is part of a protocol (a token renewal, a tus offset check), not a failure.'],
  };
});
