/**
 * The event pipeline against the real server: batching without a request per call, backpressure,
 * retries through a server restart, refusals surfacing at flush(), models created on first report,
 * and the flush at process exit.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { operations } from '@cairn/protocol';
import { startServer } from '@cairn/server';
import { startTestServer, testDialects, type TestServer } from '@cairn/server/test-harness';
import { ApiClient } from '../api/client.js';
import { ReportingError } from './errors.js';
import { EventPipeline, FLUSH_THRESHOLD_EVENTS } from './pipeline.js';
import { ModelReporter } from './model-reporter.js';

const ev = operations.events;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An API client whose add_batch requests are counted on the wire, and those that could not connect. */
function countingClient(s: TestServer): { client: ApiClient; batches: () => number; unreachable: () => number } {
  let batches = 0;
  let unreachable = 0;
  const client = new ApiClient({
    apiHost: s.apiUrl,
    accessKey: s.accessKey,
    secretKey: s.secretKey,
    fetch: async (input, init) => {
      if (!String(input).endsWith('/events.add_batch')) return fetch(input, init);
      batches++;
      try {
        return await fetch(input, init);
      } catch (err) {
        unreachable++;
        throw err;
      }
    },
  });
  return { client, batches: () => batches, unreachable: () => unreachable };
}

async function createModel(client: ApiClient, ready = false): Promise<string> {
  return (await client.call(operations.models.create, { name: ready ? 'published model' : 'pipeline model', uri: 'file:///tmp/w.bin', ready })).id;
}

/** Every point of one scalar series, in iteration order. */
async function series(client: ApiClient, model: string, metric: string, variant: string): Promise<{ iter: number[]; y: number[]; total: number }> {
  const res = await client.call(ev.scalar_metrics_iter_raw, { task: model, model_events: true, metric: { metric, variants: [variant] }, batch_size: 200_000, count_total: true });
  const v = res.variants[variant] ?? { iter: [], y: [] };
  return { iter: v.iter as number[], y: v.y as number[], total: res.total ?? 0 };
}

for (const dialect of testDialects()) {
  describe(`event pipeline (${dialect})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer({ dialect });
    });
    after(() => s.stop());

    it('100,000 scalars in a tight loop: batched requests, every point stored once, cheap calls', async () => {
      const { client, batches } = countingClient(s);
      const model = await createModel(client);
      const pipeline = new EventPipeline(client);
      const reporter = new ModelReporter({ pipeline, entityId: async () => model, modelEvent: true });
      const N = 100_000;
      let waited = 0;
      const started = performance.now();
      for (let i = 0; i < N; i++) {
        const space = reporter.reportScalar('loss', 'train', i * 0.5, i);
        if (space) {
          waited++;
          await space;
        }
      }
      await pipeline.close();
      const seconds = (performance.now() - started) / 1000;
      console.log(`# ${dialect}: ${N} scalars stored in ${seconds.toFixed(1)} s with ${batches()} add_batch requests (${waited} waits for queue room)`);
      assert.ok(batches() <= N / FLUSH_THRESHOLD_EVENTS, `${batches()} requests`);
      assert.ok(waited > 0, 'the queue bound was reached');
      const stored = await series(client, model, 'loss', 'train');
      assert.equal(stored.total, N);
      assert.deepEqual(stored.iter, Array.from({ length: N }, (_, i) => i));
      assert.ok(stored.y.every((y, i) => y === i * 0.5));
    });

    it('a report call costs microseconds and does no I/O', async () => {
      const { client, batches } = countingClient(s);
      const model = await createModel(client);
      const pipeline = new EventPipeline(client, { flushThreshold: 1_000_000, maxQueuedEvents: 1_000_000, flushIntervalMs: 60_000 });
      const reporter = new ModelReporter({ pipeline, entityId: async () => model, modelEvent: true });
      reporter.reportScalar('warm', 'up', 0, 0);
      await pipeline.flush();
      const N = 50_000;
      const started = performance.now();
      for (let i = 0; i < N; i++) reporter.reportScalar('cost', 'per call', i, i);
      const microseconds = ((performance.now() - started) * 1000) / N;
      console.log(`# reportScalar: ${microseconds.toFixed(2)} µs per call`);
      assert.equal(batches(), 1, 'no request while reporting');
      // The benchmark's goal is 2 µs; a loaded CI machine gets ten times that before this fails.
      assert.ok(microseconds < 20, `${microseconds} µs per call`);
      await pipeline.close();
      assert.equal((await series(client, model, 'cost', 'per call')).total, N);
    });

    it('bounds memory: a full queue makes the report call return a Promise, and nothing is dropped', async () => {
      const { client } = countingClient(s);
      const model = await createModel(client);
      const pipeline = new EventPipeline(client, { maxQueuedEvents: 50, flushThreshold: 10, maxEventsPerRequest: 20 });
      const reporter = new ModelReporter({ pipeline, entityId: async () => model, modelEvent: true });
      const results = [];
      for (let i = 0; i < 500; i++) {
        const r = reporter.reportScalar('bp', 'v', i, i);
        results.push(r);
        if (r) await r;
        assert.ok(pipeline.pending <= 51, `${pipeline.pending} events held`);
      }
      assert.ok(results.slice(0, 50).every((r) => r === undefined));
      assert.ok(results.some((r) => r instanceof Promise));
      await pipeline.close();
      const stored = await series(client, model, 'bp', 'v');
      assert.deepEqual(stored.iter, Array.from({ length: 500 }, (_, i) => i));
      assert.throws(() => reporter.reportScalar('bp', 'v', 0, 500), /the reporting pipeline is closed/);
    });

    it('a model created on first report: events wait for its id, then land on it', async () => {
      const { client, batches } = countingClient(s);
      const pipeline = new EventPipeline(client);
      const before = batches();
      let requestsBeforeId = -1;
      const reporter = new ModelReporter({
        pipeline,
        entityId: async () => {
          await sleep(200);
          requestsBeforeId = batches() - before;
          return createModel(client);
        },
        modelEvent: true,
      });
      for (let i = 0; i < 3; i++) assert.equal(reporter.reportScalar('floating', 'v', i, i), undefined);
      reporter.reportHistogram('hist', 'h', [1, 2]);
      await pipeline.flush();
      assert.equal(requestsBeforeId, 0);
      const { models } = await client.call(operations.models.get_all, { name: '^pipeline model$', order_by: ['-created'], page_size: 1, only_fields: ['id'] });
      const model = models[0]!.id;
      assert.deepEqual((await series(client, model, 'floating', 'v')).iter, [0, 1, 2]);
      assert.equal((await client.call(ev.get_task_plots, { task: model, model_events: true })).plots.length, 1);

      const broken = new ModelReporter({ pipeline, entityId: async () => Promise.reject(new Error('no project here')), modelEvent: true });
      broken.reportScalar('x', 'y', 1, 1);
      await assert.rejects(pipeline.flush(), (err: unknown) => err instanceof ReportingError && /could not be registered: no project here/.test(err.message));
      await pipeline.close();
    });

    it('reporting to a published model is refused by the server and surfaces at flush()', async () => {
      const { client } = countingClient(s);
      const published = await createModel(client, true);
      const draft = await createModel(client);
      const pipeline = new EventPipeline(client);
      const reporter = new ModelReporter({ pipeline, entityId: async () => published, modelEvent: true });
      reporter.reportScalar('loss', 'train', 1, 1);
      reporter.reportSingleValue('acc', 0.5);
      await assert.rejects(pipeline.flush(), (err: unknown) => {
        assert.ok(err instanceof ReportingError);
        assert.match(err.message, /events\.add_batch/);
        assert.match(err.message, new RegExp(`model ${published}`));
        assert.match(err.message, /400\/131/);
        assert.match(err.message, new RegExp(`Events not added: Invalid model id ${published}=2`));
        assert.deepEqual([err.details.lost, err.details.entities], [2, [`model ${published}`]]);
        return true;
      });
      // A refusal is reported once; the pipeline goes on.
      await pipeline.flush();

      // Part of a batch refused: the flush names what was lost.
      const good = new ModelReporter({ pipeline, entityId: async () => draft, modelEvent: true });
      good.reportScalar('loss', 'train', 1, 1);
      reporter.reportScalar('loss', 'train', 2, 2);
      await assert.rejects(pipeline.flush(), /stored 1 of 2 events .*Invalid model id/);
      await pipeline.close();
      assert.deepEqual((await series(client, draft, 'loss', 'train')).iter, [1]);
    });

    it('events still queued when the process ends are sent by the exit hook', async () => {
      const { client } = countingClient(s);
      const model = await createModel(client);
      const fixture = path.join(import.meta.dirname, 'test-fixtures', 'report-then-exit.ts');
      const run = (target: string) =>
        new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
          const child = spawn(process.execPath, ['--import', 'tsx', fixture, s.apiUrl, s.accessKey, s.secretKey, target, '40'], { stdio: ['ignore', 'ignore', 'pipe'] });
          let stderr = '';
          child.stderr.on('data', (chunk) => (stderr += chunk));
          child.on('error', reject);
          child.on('exit', (code) => resolve({ code, stderr }));
        });
      const ok = await run(model);
      assert.equal(ok.code, 0, ok.stderr);
      assert.deepEqual((await series(client, model, 'exit', 'flush')).iter, Array.from({ length: 40 }, (_, i) => i));

      const refused = await run(await createModel(client, true));
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /reported events were not stored: .*Invalid model id/);
    });
  });

  // Its own server, started after the one above is stopped: a test server's database is not shared.
  describe(`event pipeline through a server restart (${dialect})`, () => {
    let s: TestServer;
    let restarted: Awaited<ReturnType<typeof startServer>> | undefined;
    before(async () => {
      s = await startTestServer({ dialect });
    });
    after(async () => {
      await restarted?.close();
      await s.stop();
    });

    it('the server stopped for a few seconds and restarted on the same data: nothing lost, nothing duplicated', async () => {
      const { client, unreachable } = countingClient(s);
      const model = await createModel(client);
      const pipeline = new EventPipeline(client, { retryMaxDelayMs: 1_000 });
      const reporter = new ModelReporter({ pipeline, entityId: async () => model, modelEvent: true });
      const N = 12_000;
      const stopAt = 4_000;
      let stopped: Promise<void> | undefined;
      for (let i = 0; i < N; i++) {
        if (i === stopAt) {
          await s.server.close();
          // Keep reporting while the server is down; start it again a few seconds later.
          stopped = sleep(3_000).then(async () => {
            restarted = await startServer({ ...s.server.config, port: s.server.port, logLevel: 'silent' });
          });
        }
        const space = reporter.reportScalar('restart', 'v', i * 2, i);
        if (space) await space;
        if (i % 250 === 0) await sleep(5);
      }
      await stopped;
      await pipeline.close();
      assert.ok(restarted, 'the server came back');
      assert.ok(unreachable() > 0, 'batches were retried while the server was down');
      console.log(`# ${dialect}: ${unreachable()} add_batch attempts found the server down`);
      const stored = await series(client, model, 'restart', 'v');
      assert.equal(stored.total, N);
      assert.deepEqual(stored.iter, Array.from({ length: N }, (_, i) => i));
      assert.ok(stored.y.every((y, i) => y === i * 2));
    });
  });
}
