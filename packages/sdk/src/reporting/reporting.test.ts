/**
 * Every report method of a model, round-tripped through the real server: reported with a
 * ModelReporter, read back with the events endpoints (`model_events: true`) and compared with the
 * figure of sdk-behaviour.md §3.6 / §10 E (items 46–68), with the fixes of DEVIATIONS.md.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { operations, SINGLE_VALUE_ITERATION, type StoredEvent } from '@cairn/protocol';
import { startTestServer, testDialects, type TestServer } from '@cairn/server/test-harness';
import { ApiClient } from '../api/client.js';
import { UsageError } from '../errors.js';
import { EventPipeline } from './pipeline.js';
import { ModelReporter } from './model-reporter.js';
import { Logger } from './logger.js';

const ev = operations.events;
const SPIKES = { showspikes: true, spikethickness: 1, spikesnap: 'cursor', spikemode: 'toaxis+across' };
const SCALE = [[0, 'rgb(71, 17, 100)'], [0.1, 'rgb(53, 92, 140)'], [0.2, 'rgb(37, 139, 141)'], [0.6, 'rgb(66, 189, 112)'], [0.9, 'rgb(141, 214, 68)'], [1.0, 'rgb(221, 226, 24)']];
const BAR = { tick0: 0, tickmode: 'array', tickvals: [0.1, 0.2, 0.6, 0.9, 1.0] };

for (const dialect of testDialects()) {
  describe(`model reporting round trip (${dialect})`, () => {
    let s: TestServer;
    let client: ApiClient;
    let pipeline: EventPipeline;
    let csvDir: string;
    let http: Server;
    let csvUrl: string;

    before(async () => {
      s = await startTestServer({ dialect });
      client = new ApiClient({ apiHost: s.apiUrl, accessKey: s.accessKey, secretKey: s.secretKey });
      pipeline = new EventPipeline(client);
      csvDir = mkdtempSync(path.join(os.tmpdir(), 'cairn-csv-'));
      writeFileSync(path.join(csvDir, 'scores.csv'), 'name,score\nalpha,1\nbeta,2\n');
      http = createServer((_req, res) => res.end('epoch,loss\n1,0.5\n2,0.25\n'));
      await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
      csvUrl = `http://127.0.0.1:${(http.address() as { port: number }).port}/loss.csv`;
    });
    after(async () => {
      await pipeline.close();
      await new Promise((resolve) => http.close(resolve));
      rmSync(csvDir, { recursive: true, force: true });
      await s.stop();
    });

    async function newModel(): Promise<{ id: string; reporter: ModelReporter }> {
      const { id } = await client.call(operations.models.create, { name: 'reported model', uri: 'file:///tmp/weights.bin', ready: false });
      return { id, reporter: new ModelReporter({ pipeline, entityId: async () => id, modelEvent: true }) };
    }

    /** The one plot of a model, read back as the web app's Plots tab reads it. */
    async function onlyPlot(model: string): Promise<{ event: StoredEvent; figure: Record<string, unknown> }> {
      await pipeline.flush();
      const { plots } = await client.call(ev.get_task_plots, { task: model, model_events: true });
      assert.equal(plots.length, 1);
      return { event: plots[0]!, figure: JSON.parse(plots[0]!.plot_str!) };
    }

    it('46/47: scalars and single values are model events with the right metric, variant and iteration', async () => {
      const { id, reporter } = await newModel();
      assert.equal(reporter.reportScalar('loss', 'train', 1, 5), undefined);
      reporter.reportSingleValue('acc', 0.9);
      reporter.reportScalar('loss', 'train', NaN, 6);
      await pipeline.flush();
      const { events } = await client.call(ev.get_task_events, { task: id, model_events: true, event_type: 'training_stats_scalar' });
      const view = events.map((e) => [e.metric, e.variant, e.iter, e.value, e.task, e.model_event]);
      assert.deepEqual(view, [
        ['Summary', 'acc', SINGLE_VALUE_ITERATION, 0.9, id, true],
        ['loss', 'train', 5, 1, id, true],
        ['loss', 'train', 6, 0, id, true],
      ]);
      const hist = await client.call(ev.scalar_metrics_iter_histogram, { task: id, model_events: true });
      assert.deepEqual(hist.loss!.train!.x, [5, 6]);
      const single = await client.call(ev.get_task_single_value_metrics, { tasks: [id], model_events: true });
      assert.deepEqual(single.tasks[0]!.values.map((v) => [v.metric, v.variant, v.value]), [['Summary', 'acc', 0.9]]);
    });

    it('48/67/68: a histogram at iteration 0 (omitted or 0), with NaN sent as "nan"', async () => {
      const { id, reporter } = await newModel();
      reporter.reportHistogram('H', 's', [1, NaN, 3]);
      const { event, figure } = await onlyPlot(id);
      assert.deepEqual([event.metric, event.variant, event.iter, event.model_event], ['H', 's', 0, true]);
      assert.deepEqual(figure, {
        data: [{ name: 's', y: [1, 'nan', 3], x: [0, 1, 2], type: 'bar' }],
        layout: { title: 'H', xaxis: { title: null }, yaxis: { title: null }, barmode: 'group', bargap: 0.08, bargroupgap: 0 },
      });
      reporter.reportHistogram('H', 's', [2], { iteration: 0 });
      const again = await onlyPlot(id);
      assert.deepEqual([again.event.iter, (again.figure.data as { y: number[] }[])[0]!.y], [0, [2]]);
    });

    it('49–52: labelled rows, xlabels, data_args; an invalid mode is refused before anything is sent', async () => {
      const { id, reporter } = await newModel();
      reporter.reportHistogram('H', 's', [[1, 2], [3, 4]], { iteration: 3, labels: ['a', 'b'], xlabels: ['p', 'q'], xaxis: 'X', yaxis: 'Y', dataArgs: { orientation: 'h' } });
      const { event, figure } = await onlyPlot(id);
      assert.equal(event.iter, 3);
      assert.deepEqual(figure, {
        data: [
          { name: 'a', y: [1, 2], x: ['p', 'q'], type: 'bar', orientation: 'h' },
          { name: 'b', y: [3, 4], x: ['p', 'q'], type: 'bar', orientation: 'h' },
        ],
        layout: { title: 's', xaxis: { title: 'X' }, yaxis: { title: 'Y' }, barmode: 'group', bargap: 0.08, bargroupgap: 0 },
      });
      assert.throws(() => reporter.reportHistogram('H', 's', [1], { mode: 'overlay' as never }), UsageError);
    });

    it('53: a vector is a histogram at the given iteration', async () => {
      const { id, reporter } = await newModel();
      reporter.reportVector('V', 's', Float32Array.from([1, 2, 3]), { iteration: 2 });
      const { event, figure } = await onlyPlot(id);
      assert.equal(event.iter, 2);
      assert.deepEqual(figure.data, [{ name: 's', y: [1, 2, 3], x: [0, 1, 2], type: 'bar' }]);
    });

    it('54–57: tables from rows, a CSV file and a URL; exactly one source', async () => {
      const { id, reporter } = await newModel();
      reporter.reportTable('T', 's', { tablePlot: [['a', 'b'], [1, 2], [3, 4]] });
      const { figure } = await onlyPlot(id);
      const trace = (figure.data as Record<string, { values: unknown }>[])[0]!;
      assert.deepEqual([trace.header!.values, trace.cells!.values, figure.layout], [['a', 'b'], [[1, 3], [2, 4]], { 'title.text': 'T', title: 's' }]);
      assert.throws(() => reporter.reportTable('T', 's', {}), { name: 'UsageError', message: 'At least one of (tablePlot, csv, url) is required' });
      assert.throws(() => reporter.reportTable('T', 's', { tablePlot: [[1]], csv: 'x.csv' }), { name: 'UsageError', message: 'Only one of (tablePlot, csv, url) is allowed' });
      assert.throws(() => reporter.reportTable('T', 's', { tablePlot: ['a', 'b'] as never }), UsageError);

      const file = await newModel();
      await file.reporter.reportTable('T', 'file', { csv: path.join(csvDir, 'scores.csv') });
      const fromFile = (await onlyPlot(file.id)).figure.data as Record<string, { values: unknown }>[];
      assert.deepEqual([fromFile[0]!.header!.values, fromFile[0]!.cells!.values], [['name', ['score']], [['alpha', 'beta'], [1, 2]]]);

      const web = await newModel();
      await web.reporter.reportTable('T', 'url', { url: csvUrl });
      await web.reporter.reportTable('T', 'file-url', { url: pathToFileURL(path.join(csvDir, 'scores.csv')).href, iteration: 1 });
      await pipeline.flush();
      const { plots } = await client.call(ev.get_task_plots, { task: web.id, model_events: true });
      const byVariant = Object.fromEntries(plots.map((p) => [p.variant, JSON.parse(p.plot_str!).data[0].cells.values]));
      assert.deepEqual(byVariant, { url: [[1, 2], [0.5, 0.25]], 'file-url': [['alpha', 'beta'], [1, 2]] });
      await assert.rejects(web.reporter.reportTable('T', 'missing', { csv: path.join(csvDir, 'none.csv') }) as Promise<void>, /ENOENT/);
    });

    it('58–60: a line plot has an empty variant, reversed axis, comment; bad data is refused', async () => {
      const { id, reporter } = await newModel();
      reporter.reportLinePlot('L', [{ name: 's1', data: [[0, 1], [1, 2]] }], { xaxis: 'X', yaxis: 'Y', reverseXaxis: true, comment: 'cm', extraLayout: { xaxis: { type: 'log' } } });
      const { event, figure } = await onlyPlot(id);
      assert.equal(event.variant, '');
      assert.deepEqual(figure, {
        data: [{ name: 's1', x: [0, 1], y: [1, 2], mode: 'lines', text: null, type: 'scatter' }],
        layout: { title: 'L<br><sup>cm</sup>', xaxis: { title: 'X', ...SPIKES, autorange: 'reversed', type: 'log' }, yaxis: { title: 'Y', ...SPIKES }, name: null },
      });
      assert.throws(() => reporter.reportLinePlot('L', [{ name: 's', data: [[0, 1, 2]] }]), /Expected series data to have 2 columns/);
    });

    it('61 with DEVIATIONS 3: a 2-D scatter defaults to mode "lines"', async () => {
      const { id, reporter } = await newModel();
      reporter.reportScatter2d('S', 'ser', [[0, 1], [1, 2]], { labels: ['a', 'b'] });
      const { event, figure } = await onlyPlot(id);
      assert.equal(event.variant, 'ser');
      assert.deepEqual(figure.data, [{ name: 'ser', x: [0, 1], y: [1, 2], mode: 'lines', text: ['a', 'b'], type: 'scatter' }]);
    });

    it('62 with DEVIATIONS 1 and 4: a 3-D scatter', async () => {
      const { id, reporter } = await newModel();
      reporter.reportScatter3d('S3', 'ser', [[0, 1, 2], [1, 2, 3]], { xaxis: 'x', zaxis: 'z', fill: true });
      const { figure } = await onlyPlot(id);
      assert.deepEqual(figure, {
        data: [{ name: 'ser', x: [0, 1], y: [1, 2], z: [2, 3], text: null, type: 'scatter3d', mode: 'markers', marker: { size: 5, line: { color: 'rgba(217, 217, 217, 0.14)', width: 0.8 }, opacity: 0.8 } }],
        layout: { showlegend: true, title: 'S3', scene: { xaxis: { title: 'x' }, yaxis: { title: null }, zaxis: { title: 'z' } }, name: null },
      });
    });

    it('63/64 with DEVIATIONS 2 and 5: confusion matrices', async () => {
      const { id, reporter } = await newModel();
      reporter.reportConfusionMatrix('CM', 'ser', [[1, 2], [3, 4]], { xlabels: ['p', 'q'], ylabels: ['r', 's'], yaxisReversed: true, comment: 'cc' });
      const { figure } = await onlyPlot(id);
      assert.deepEqual(figure, {
        data: [{ x: ['p', 'q'], y: ['r', 's'], z: [[1, 2], [3, 4]], type: 'heatmap', colorscale: SCALE, colorbar: BAR }],
        layout: { showlegend: true, title: 'CM<br><sup>cc</sup>', xaxis: { title: null }, yaxis: { title: null, autorange: 'reversed' }, name: 'ser' },
      });
      const other = await newModel();
      other.reporter.reportConfusionMatrix('CM', 'ser', [[1]], { extraLayout: { height: 300 } });
      const withLayout = (await onlyPlot(other.id)).figure as { data: Record<string, unknown>[]; layout: Record<string, unknown> };
      assert.deepEqual([withLayout.layout.height, withLayout.data[0]!.height, withLayout.data[0]!.colorscale], [300, undefined, SCALE]);
    });

    it('65: report_matrix is a confusion matrix without a comment', async () => {
      const { id, reporter } = await newModel();
      reporter.reportMatrix('CM', 'ser', [Float64Array.from([1, 2]), Float64Array.from([3, 4])], { iteration: 4 });
      const { event, figure } = await onlyPlot(id);
      assert.equal(event.iter, 4);
      assert.deepEqual(figure.data, [{ x: null, y: null, z: [[1, 2], [3, 4]], type: 'heatmap', colorscale: SCALE, colorbar: BAR }]);
      assert.equal((figure.layout as { title: string }).title, 'CM');
    });

    it('66: a surface is titled title/series and carries the camera', async () => {
      const { id, reporter } = await newModel();
      reporter.reportSurface('SF', 'ser', [[1, 2], [3, 4]], { xlabels: ['a', 'b'], camera: [1, 2, 3] });
      const { figure } = await onlyPlot(id);
      const layout = figure.layout as { title: string; scene: { xaxis: { tickvals: number[]; ticktext: string[] }; camera: unknown } };
      assert.deepEqual([layout.title, layout.scene.xaxis.tickvals, layout.scene.xaxis.ticktext, layout.scene.camera], ['SF/ser', [0, 1], ['a', 'b'], { eye: { x: 1, y: 2, z: 3 } }]);
    });

    it("a task Logger reports to the task's scalars, plots and console log", async () => {
      const { id: task } = await client.call(operations.tasks.create, { name: 'logged task', type: 'training' });
      const logger = new Logger({ pipeline, entityId: () => task, worker: 'test-worker' });
      logger.reportScalar('loss', 'train', 0.5, 1);
      logger.reportConfusionMatrix('CM', 'ser', [[1]]);
      logger.reportText('hello from the logger', { printConsole: false });
      logger.reportText('something failed', { level: 'error', printConsole: false });
      assert.throws(() => logger.reportText('x', { level: 'loud' as never }), UsageError);
      await logger.flush();
      const log = await client.call(ev.get_task_log, { task, order: 'asc' });
      assert.deepEqual(log.events.map((e) => [e.msg, e.level, e.worker, e.model_event]), [
        ['hello from the logger', 'info', 'test-worker', false],
        ['something failed', 'error', 'test-worker', false],
      ]);
      const scalars = await client.call(ev.get_scalar_metrics_and_variants, { task });
      assert.deepEqual(scalars.metrics, { loss: ['train'] });
      assert.equal((await client.call(ev.get_task_plots, { task })).plots.length, 1);
    });
  });
}
