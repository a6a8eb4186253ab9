/**
 * What the package entry offers beyond the model classes: the reporting classes and plot types, and the storage
 * drivers, usable as an application would use them (only `../src/index.js` is imported), against the real server.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { operations } from '@cairn/protocol';
import { startTestServer, type TestServer } from '@cairn/server/test-harness';
import * as sdk from '../src/index.js';

describe('the package entry', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(() => s.stop());

  it('exports the reporting classes and plot types: a pipeline with a Logger and a ModelReporter stores their events', async () => {
    const client = new sdk.ApiClient({ apiHost: s.apiUrl, accessKey: s.accessKey, secretKey: s.secretKey });
    const task = (await s.ok(operations.tasks.create, { name: 'exports run', type: 'training' })).id;
    const model = (await s.ok(operations.models.create, { name: 'exports model', uri: '', ready: false })).id;
    const pipeline = new sdk.EventPipeline(client, { flushOnExit: false } satisfies sdk.EventPipelineOptions);
    const logger: sdk.Reporter = new sdk.Logger({ pipeline, entityId: () => task, worker: 'exports' });
    const reporter = new sdk.ModelReporter({ pipeline, entityId: async () => model, modelEvent: true });

    const level: sdk.LogLineLevel = 'warning';
    assert.ok(logger instanceof sdk.Logger);
    await logger.reportText('from the public entry', { level, printConsole: false });
    const matrix: sdk.Matrix = [
      [1, 2],
      [3, 4],
    ];
    const series: sdk.LineSeries[] = [{ name: 'train', data: [[0, 1], [1, 0.5]] }];
    const mode: sdk.HistogramMode = sdk.HISTOGRAM_MODES[0];
    await reporter.reportScalar('loss', 'train', 0.25, 3);
    await reporter.reportMatrix('weights', 'layer1', matrix, { iteration: 3 });
    await reporter.reportLinePlot('curve', series, { iteration: 3 });
    await reporter.reportHistogram('classes', 'count', [5, 7], { mode, iteration: 3 });
    await pipeline.flush();

    const log = await s.ok(operations.events.get_task_log, { task });
    assert.deepEqual(log.events.map((e) => [e.msg, e.level, e.worker]), [['from the public entry', 'warning', 'exports']]);
    const plots = await s.ok(operations.events.get_task_plots, { task: model, model_events: true, iters: 1 });
    assert.deepEqual(plots.plots.map((p) => p.metric).sort(), ['classes', 'curve', 'weights']);
    const scalars = await s.ok(operations.events.scalar_metrics_iter_histogram, { task: model, model_events: true });
    assert.deepEqual((scalars as { loss?: { train?: { y: number[] } } }).loss?.train?.y, [0.25]);
  });

  it('a ReportingError from the pipeline is exported too', async () => {
    const client = new sdk.ApiClient({ apiHost: s.apiUrl, accessKey: s.accessKey, secretKey: s.secretKey });
    const pipeline = new sdk.EventPipeline(client, { flushOnExit: false });
    const logger = new sdk.Logger({ pipeline, entityId: () => 'f'.repeat(32) });
    await logger.reportScalar('loss', 'train', 1, 1);
    await assert.rejects(pipeline.flush(), (err: unknown) => err instanceof sdk.ReportingError && err instanceof sdk.CairnError && err.details.lost === 1);
  });

  it('exports the storage drivers, configured as clearml.conf configures them', async () => {
    const s3 = new sdk.S3Driver({
      sdk: { aws: { s3: { key: 'default-key', secret: 'default-secret', credentials: [{ bucket: 'models', host: 'minio.local:9000', key: 'k', secret: 's', secure: false }] } } },
      env: {},
    });
    const located = s3.locate('s3://minio.local:9000/models/run/w.bin');
    assert.deepEqual([located.bucket, located.key, located.settings.key, located.settings.secure], ['models', 'run/w.bin', 'k', false]);
    const drivers: sdk.StorageDriver[] = [s3, new sdk.GcsDriver({ sdk: {}, env: {} }), new sdk.AzureDriver({ sdk: {}, env: {} })];
    assert.deepEqual(drivers.map((d) => d.schemes), [['s3'], ['gs'], ['azure']]);

    // A StorageManager takes drivers of the application's own too, by scheme.
    const written: string[] = [];
    const memory: sdk.StorageDriver = {
      schemes: ['mem'],
      upload: async (_local, uri) => {
        written.push(uri);
        return { uri, sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', size: 0 };
      },
      download: async () => ({ sha256: '', size: 0 }),
      head: async () => undefined,
      delete: async () => false,
      list: async function* () {},
      verifyWritable: async () => {},
    };
    const manager = new sdk.StorageManager({ drivers: [memory], cacheMaxBytes: sdk.DEFAULT_CACHE_MAX_BYTES } satisfies sdk.StorageManagerOptions);
    assert.equal(manager.driverFor('s3://bucket/key') instanceof sdk.S3Driver, true);
    assert.equal(manager.cache instanceof sdk.DownloadCache, true);
    assert.deepEqual(await manager.upload(import.meta.filename, 'mem://box/exports.test.ts'), { uri: 'mem://box/exports.test.ts', sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', size: 0 });
    assert.deepEqual(written, ['mem://box/exports.test.ts']);
  });
});
