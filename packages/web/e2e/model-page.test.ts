import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { InputModel, Model, OutputModel, Session, Task } from '@cairn/sdk';
import { models, projects, tasks } from '@cairn/protocol';
import type { TestServer } from '../../server/test/harness.js';
import { assertNoErrors, launchBrowser, plotTraces, screenshot, settled, signIn, startWebServer, type Browser } from './support.js';

const CONFIG = 'model {\n  depth = 50\n  dropout = 0.1\n}\noptimizer = "adam"';
/** The README's picture of the model page, redrawn when `CAIRN_UPDATE_DOCS_SCREENSHOT=1` (it is kept in git). */
const README_SCREENSHOT = path.resolve(import.meta.dirname, '../../../docs/screenshots/model-page.png');

describe('web: the model page, tab by tab', () => {
  let server: TestServer;
  let browser: Browser;
  let session: Session;
  let work: string;
  let task: Task;
  let projectId: string;
  let otherProject: string;
  let evalTask: string;
  let parentId: string;
  let modelId: string;
  let weights: Buffer;
  let base: string;
  /** What the SDK reads back: the model as a training or serving script sees it. */
  const sdkModel = () => Model.get(modelId, { session });
  const read = async () => (await server.ok(models.get_by_id, { model: modelId })).model;

  before(async () => {
    server = await startWebServer();
    browser = await launchBrowser();
    await signIn(browser, server);
    await browser.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    work = mkdtempSync(path.join(os.tmpdir(), 'cairn-web-model-'));
    session = new Session({ apiHost: server.apiUrl, filesHost: server.filesUrl, webHost: server.url, accessKey: server.accessKey, secretKey: server.secretKey, env: {}, cacheDir: path.join(work, 'cache') });

    // A training run as a user writes it: a task, the base model it starts from, the model it outputs.
    task = await Task.init({ projectName: 'Registry Demo', taskName: 'train resnet', session, outputUri: true });
    projectId = task.project!;
    otherProject = (await server.ok(projects.create, { name: 'Archive Shelf' })).id;
    const baseModel = await InputModel.importModel({ weightsUrl: 'https://models.example.com/resnet50-imagenet.pt', name: 'resnet-base', createAsPublished: true, session });
    parentId = baseModel.id;
    // The input and output model share the task's entry name, which makes the input the output's parent.
    await task.connect(baseModel, 'resnet50');
    const output = new OutputModel({
      task,
      name: 'resnet50-finetuned',
      framework: 'PyTorch',
      configText: CONFIG,
      labelEnumeration: { cat: 0, dog: 1 },
      tags: ['vision', 'baseline'],
      comment: 'Fine-tuned on pets',
    });
    await task.connect(output, 'resnet50');
    weights = randomBytes(3 * 1024 * 1024 + 17);
    const file = path.join(work, 'resnet50.pt');
    writeFileSync(file, weights);
    await output.updateWeights({ weightsFilename: file, asyncEnable: false, autoDeleteFile: false, updateComment: false });
    await output.setMetadata('accuracy', 0.93);
    await output.setMetadata('epochs', 10);
    modelId = output.id!;

    const evaluation = await Task.init({ projectName: 'Registry Demo', taskName: 'evaluate on holdout', taskType: 'testing', session, outputUri: false });
    await evaluation.connect(await InputModel.get(modelId, { session }), 'candidate');
    evalTask = evaluation.id;

    // What the training script reports on its model.
    for (let i = 0; i < 10; i++) {
      await output.reportScalar('loss', 'train', 2 / (i + 1), i);
      await output.reportScalar('loss', 'val', 2.5 / (i + 1), i);
      await output.reportScalar('accuracy', 'val', 0.5 + i * 0.04, i);
    }
    await output.reportSingleValue('test_accuracy', 0.91);
    await output.reportConfusionMatrix('Confusion', 'holdout', [[40, 2], [3, 55]], {
      iteration: 9,
      xlabels: ['cat', 'dog'],
      ylabels: ['cat', 'dog'],
      xaxis: 'Predicted',
      yaxis: 'Actual',
      yaxisReversed: true,
      extraLayout: { title: 'Pets confusion', height: 420 },
    });
    await output.reportHistogram('Scores', 'histogram', [5, 9, 2], { iteration: 9, xaxis: 'bucket', extraLayout: { 'title.text': 'Scores by bucket', bargap: 0.3 } });
    await output.flushReports();
    base = `${server.url}/projects/${projectId}/models/${modelId}`;
  });
  afterEach(() => browser.keepFailedPages(import.meta.filename));
  after(async () => {
    await browser?.close();
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test('general: every field, copy and download of the weights', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/projects/${projectId}/models/${modelId}`);
    await page.waitForURL(`**/models/${modelId}/general`);
    await settled(page);
    const field = (name: string) => page.locator(`[data-field="${name}"] dd`);
    assert.equal(await page.locator('h1').textContent(), 'resnet50-finetuned');
    assert.equal(await page.title(), 'resnet50-finetuned · Cairn');
    assert.ok((await field('id').textContent())?.startsWith(modelId));
    assert.match((await field('created').textContent()) ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.match((await field('updated').textContent()) ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.equal(await field('framework').textContent(), 'PyTorch');
    assert.equal(await field('status').textContent(), 'Draft');
    const uri = (await sdkModel()).url;
    assert.ok(uri.startsWith(`${server.filesUrl}/`), `uploaded to the file server: ${uri}`);
    assert.ok((await field('url').textContent())?.includes(uri));
    assert.equal(await field('size').textContent(), `3.00 MiB (${weights.length.toLocaleString('en-US')} bytes)`);
    assert.equal(await field('sha256').textContent(), createHash('sha256').update(weights).digest('hex'));
    assert.equal((await sdkModel()).weightsSha256, createHash('sha256').update(weights).digest('hex'));
    assert.equal(await field('user').textContent(), 'admin');
    assert.equal(await field('archived').textContent(), 'No');
    assert.equal(await field('project').textContent(), 'Registry Demo');
    assert.equal(await field('task').textContent(), 'train resnet');
    assert.equal(await field('parent').textContent(), 'resnet-base');
    const comment = (await sdkModel()).comment;
    assert.ok(comment.includes('Fine-tuned on pets'));
    assert.ok((await field('description').textContent())?.startsWith(comment));
    await screenshot(page, 'model-general');
    if (process.env.CAIRN_UPDATE_DOCS_SCREENSHOT === '1') {
      mkdirSync(path.dirname(README_SCREENSHOT), { recursive: true });
      await page.screenshot({ path: README_SCREENSHOT });
    }

    await page.getByRole('button', { name: 'Copy URL' }).click();
    await page.getByRole('button', { name: 'Copied' }).waitFor();
    assert.equal(await page.evaluate('navigator.clipboard.readText()'), uri);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download' }).click()]);
    const saved = readFileSync((await download.path())!);
    assert.equal(createHash('sha256').update(saved).digest('hex'), createHash('sha256').update(weights).digest('hex'), 'the browser downloads the weights');

    await field('task').getByRole('link').click();
    await page.waitForURL(`**/tasks/${task.id}/general`);
    await page.goBack();
    await field('parent').getByRole('link').click();
    await page.waitForURL(`**/models/${parentId}/general`);
    await page.locator('h1', { hasText: 'resnet-base' }).waitFor();
    await page.close();
    assertNoErrors(browser);
  });

  test('network: HOCON/JSON checked before saving; the saved text is what the API reads', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/network`);
    await settled(page);
    const editor = page.getByLabel('Configuration (HOCON or JSON)');
    assert.equal(await editor.inputValue(), CONFIG);

    await editor.fill('model {\n  depth = 101\n');
    await page.getByRole('button', { name: 'Save configuration' }).click();
    const alert = page.locator('#config-error');
    await alert.waitFor();
    assert.match((await alert.textContent()) ?? '', /line 3, column/);
    assert.equal(await editor.getAttribute('aria-invalid'), 'true');
    assert.equal((await sdkModel()).configText, CONFIG, 'nothing saved');

    await editor.fill('{"model": {"depth": 101}, "optimizer": "sgd"}');
    await page.getByRole('button', { name: 'Save configuration' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    assert.deepEqual((await sdkModel()).configDict, { model: { depth: 101 }, optimizer: 'sgd' });

    const hocon = 'model {\n  depth = 152\n}\nlayers = [64, 128]\nname = ${model.depth}';
    await editor.fill(hocon);
    await page.getByRole('button', { name: 'Save configuration' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    const saved = await sdkModel();
    assert.equal(saved.configText, hocon);
    assert.deepEqual(saved.configDict, { model: { depth: 152 }, layers: [64, 128], name: 152 });
    await screenshot(page, 'model-network');
    await page.close();
    assertNoErrors(browser);
  });

  test('labels: duplicate and non-integer ids refused; saved labels read back', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/labels`);
    await settled(page);
    assert.equal(await page.getByLabel('Label 1 name').inputValue(), 'cat');
    assert.equal(await page.getByLabel('Label 2 id').inputValue(), '1');

    await page.getByRole('button', { name: 'Add label' }).click();
    await page.getByLabel('Label 3 name').fill('bird');
    await page.getByLabel('Label 3 id').fill('1');
    await page.getByRole('button', { name: 'Save labels' }).click();
    await page.getByRole('alert').filter({ hasText: 'The id 1 is used by more than one label' }).waitFor();
    await page.getByLabel('Label 3 id').fill('2.5');
    await page.getByRole('button', { name: 'Save labels' }).click();
    await page.getByRole('alert').filter({ hasText: 'must be a whole number' }).waitFor();
    await page.getByLabel('Label 3 name').fill('dog');
    await page.getByLabel('Label 3 id').fill('2');
    await page.getByRole('button', { name: 'Save labels' }).click();
    await page.getByRole('alert').filter({ hasText: 'listed twice' }).waitFor();
    assert.deepEqual((await sdkModel()).labels, { cat: 0, dog: 1 }, 'nothing saved while invalid');

    await page.getByLabel('Label 3 name').fill('bird');
    await page.getByRole('button', { name: 'Remove label cat' }).click();
    await page.getByRole('button', { name: 'Save labels' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    assert.deepEqual((await sdkModel()).labels, { dog: 1, bird: 2 });
    await screenshot(page, 'model-labels');
    await page.close();
    assertNoErrors(browser);
  });

  test('metadata: add, edit and delete items', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/metadata`);
    await settled(page);
    const row = (key: string) => page.locator(`tr[data-key="${key}"]`);
    assert.equal(await row('accuracy').locator('td[data-col="value"]').textContent(), '0.93');
    assert.equal(await row('epochs').locator('td[data-col="type"]').textContent(), 'int');

    await page.getByRole('button', { name: 'Edit epochs' }).click();
    await page.getByLabel('Metadata value').fill('twelve');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByRole('alert').filter({ hasText: 'whole number' }).waitFor();
    await page.getByLabel('Metadata value').fill('12');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await row('epochs').waitFor();
    const meta = async () => (await sdkModel()).getAllMetadata();
    assert.deepEqual((await meta()).epochs, { key: 'epochs', type: 'int', value: '12' });
    assert.equal(await (await sdkModel()).getMetadataCasted('epochs'), 12);

    await page.getByRole('button', { name: 'Add metadata' }).click();
    await page.getByLabel('Metadata key').fill('dataset');
    await page.getByLabel('Metadata type').selectOption('str');
    await page.getByLabel('Metadata value').fill('oxford-pets');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await row('dataset').waitFor();
    assert.deepEqual((await meta()).dataset, { key: 'dataset', type: 'str', value: 'oxford-pets' });

    // Renaming a key moves the item.
    await page.getByRole('button', { name: 'Edit dataset' }).click();
    await page.getByLabel('Metadata key').fill('data.source');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await row('data.source').waitFor();
    assert.deepEqual(Object.keys(await meta()).sort(), ['accuracy', 'data.source', 'epochs']);

    await page.getByRole('button', { name: 'Delete accuracy' }).click();
    await page.getByRole('dialog', { name: 'Delete metadata' }).getByRole('button', { name: 'Delete' }).click();
    await row('accuracy').waitFor({ state: 'detached' });
    assert.deepEqual(Object.keys(await meta()).sort(), ['data.source', 'epochs']);
    await screenshot(page, 'model-metadata');
    await page.close();
    assertNoErrors(browser);
  });

  test('header: rename, tags and description are saved', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/general`);
    await settled(page);
    await page.getByRole('button', { name: 'Edit model name' }).click();
    await page.getByLabel('Model name').fill('resnet50-pets');
    await page.getByLabel('Model name').press('Enter');
    await page.locator('h1', { hasText: 'resnet50-pets' }).waitFor();
    assert.equal((await sdkModel()).name, 'resnet50-pets');

    await page.getByLabel('New tag').fill('candidate');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByRole('button', { name: 'Remove tag candidate' }).waitFor();
    await page.getByRole('button', { name: 'Remove tag baseline' }).click();
    await page.getByRole('button', { name: 'Remove tag baseline' }).waitFor({ state: 'detached' });
    assert.deepEqual((await sdkModel()).tags, ['candidate', 'vision']);

    await page.locator('.entity-header').getByRole('button', { name: 'Edit description' }).click();
    await page.locator('.entity-header').getByLabel('Description').fill('Fine-tuned on Oxford pets.\nBest of 3 runs.');
    await page.locator('.entity-header').getByRole('button', { name: 'Save' }).click();
    await page.locator('[data-field="description"]', { hasText: 'Best of 3 runs.' }).waitFor();
    assert.equal((await sdkModel()).comment, 'Fine-tuned on Oxford pets.\nBest of 3 runs.');
    await page.close();
    assertNoErrors(browser);
  });

  test('lineage: creating task, parent chain, tasks using the model', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/lineage`);
    await settled(page);
    assert.equal(await page.locator('[data-lineage="creator"] a').textContent(), 'train resnet');
    assert.deepEqual(await page.locator('[data-lineage="parents"] a').allTextContents(), ['resnet-base']);
    assert.equal(await page.locator(`[data-lineage="users"] tr[data-task-id="${evalTask}"] a`).textContent(), 'evaluate on holdout');
    await screenshot(page, 'model-lineage');
    await page.goto(`${server.url}/projects/${projectId}/models/${parentId}/lineage`);
    await settled(page);
    assert.equal(await page.locator('[data-lineage="children"] a').count(), 1, 'the parent lists the derived model');
    await page.close();
    assertNoErrors(browser);
  });

  test('scalars: a chart per metric with variants as lines; x axis, smoothing, single values', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/scalars`);
    await settled(page);
    assert.deepEqual(await page.locator('figure.chart figcaption').allTextContents(), ['accuracy', 'loss']);
    const [accuracy, loss] = await plotTraces(page, '.scalars');
    assert.deepEqual(loss!.map((t) => t.name), ['train', 'val']);
    assert.deepEqual(loss![0]!.x, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(loss![0]!.y, Array.from({ length: 10 }, (_, i) => 2 / (i + 1)));
    assert.equal(accuracy!.length, 1);
    assert.equal(await page.locator('.single-values tr[data-name="test_accuracy"] td.num').textContent(), '0.91');
    await screenshot(page, 'model-scalars');

    await page.getByLabel('X axis').selectOption('timestamp');
    await page.waitForFunction(`typeof document.querySelector('.scalars figure[data-metric="loss"] .plot')?.data?.[0]?.x[0] === 'string'`);
    const [, lossByTime] = await plotTraces(page, '.scalars');
    const reportedAt = new Date(lossByTime![0]!.x![0] as string).getTime();
    assert.ok(Math.abs(Date.now() - reportedAt) < 10 * 60_000, `wall time of the reports on the x axis: ${lossByTime![0]!.x![0]}`);

    await page.getByLabel('X axis').selectOption('iter');
    await page.waitForFunction(`typeof document.querySelector('.scalars figure[data-metric="loss"] .plot')?.data?.[0]?.x[0] === 'number'`);
    await page.getByLabel('Smoothing').fill('0.6');
    await page.waitForFunction(`document.querySelector('.scalars figure[data-metric="loss"] .plot')?.data?.length === 4`);
    const [, smoothed] = await plotTraces(page, '.scalars');
    assert.equal(smoothed!.length, 4, 'raw and smoothed line per variant');
    assert.notDeepEqual(smoothed![1]!.y, smoothed![0]!.y);
    await page.close();
    assertNoErrors(browser);
  });

  test('plots: every figure drawn with its reported layout', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/plots`);
    await settled(page);
    const traces = await plotTraces(page, '.plots');
    assert.deepEqual(traces.map((t) => t[0]!.type), ['heatmap', 'bar']);
    // What plotly drew with (its full layout), not only what it was given.
    const layouts = await page.$$eval('.plots .plot', (divs) =>
      divs.map((d) => {
        const layout = (d as unknown as { _fullLayout: { title?: { text?: string }; height?: number; bargap?: number; xaxis?: { title?: { text?: string } }; yaxis?: { range?: number[] } } })._fullLayout;
        return {
          title: layout.title?.text,
          x: layout.xaxis?.title?.text,
          yReversed: (layout.yaxis?.range?.[0] ?? 0) > (layout.yaxis?.range?.[1] ?? 0),
          height: layout.height,
          bargap: layout.bargap,
        };
      }),
    );
    // The reported extraLayout wins over the figure's own layout.
    assert.deepEqual({ ...layouts[0], bargap: undefined }, { title: 'Pets confusion', x: 'Predicted', yReversed: true, height: 420, bargap: undefined });
    assert.deepEqual({ title: layouts[1]!.title, x: layouts[1]!.x, bargap: layouts[1]!.bargap }, { title: 'Scores by bucket', x: 'bucket', bargap: 0.3 });
    assert.deepEqual(await page.locator('figure.chart figcaption').allTextContents(), ['Confusion / holdout iteration 9', 'Scores / histogram iteration 9']);
    await screenshot(page, 'model-plots');
    await page.close();
    assertNoErrors(browser);
  });

  test('plots: 2D figures are drawn by the cartesian plotly, 3D, surface and table ones by the full one', async () => {
    const kinds = new OutputModel({ task, name: 'plot kinds' });
    await kinds.reportScatter2d('A line', 'val', [[0, 1], [1, 3], [2, 2]], { iteration: 1 });
    await kinds.reportScatter3d('B cloud', 'val', [[0, 1, 2], [1, 2, 3], [2, 0, 1]], { iteration: 1 });
    await kinds.reportSurface('C surface', 'val', [[1, 2], [3, 4]], { iteration: 1 });
    await kinds.reportTable('D table', 'val', { tablePlot: [['name', 'score'], ['a', 1], ['b', 2]], iteration: 1 });
    await kinds.flushReports();
    const page = await browser.newPage();
    await page.goto(`${server.url}/projects/${projectId}/models/${kinds.id}/plots`);
    await settled(page);
    await page.waitForFunction(`document.querySelectorAll('.plots .plot[data-rendered="true"]').length === 4`);
    // The types plotly drew (a bundle without a trace type would draw a scatter instead).
    const drawn = await page.$$eval('.plots .plot', (divs) => divs.map((d) => (d as unknown as { _fullData: { type: string }[] })._fullData[0]!.type));
    assert.deepEqual(drawn, ['scatter', 'scatter3d', 'surface', 'table']);
    const scripts = (await page.evaluate(`performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname)`)) as string[];
    assert.deepEqual(scripts.filter((p) => p.startsWith('/plotly')).map((p) => p.replace(/-[\d.]+\.min\.js$/, '')).sort(), ['/plotly', '/plotly-cartesian']);
    // Each chart was drawn for real: plotly put its SVG or WebGL output inside every graph div.
    assert.deepEqual(await page.$$eval('.plots .plot', (divs) => divs.map((d) => d.querySelector('.main-svg') !== null)), [true, true, true, true]);
    await page.close();
    assertNoErrors(browser);
  });

  test('menu: publish locks editing; archive and restore; move; delete', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/general`);
    await settled(page);
    const menu = async (item: string) => {
      await page.getByRole('button', { name: 'Actions' }).click();
      await page.getByRole('menuitem', { name: item }).click();
    };
    // Publishing a model publishes its creating task first (as in ClearML): refused while it still runs.
    await menu('Publish');
    await page.locator('.entity-header [role="alert"]', { hasText: 'Could not publish' }).waitFor();
    assert.equal((await read()).ready, false);
    await task.markCompleted();
    await menu('Publish');
    await page.locator('.entity-title .badge', { hasText: 'Published' }).waitFor();
    assert.equal((await sdkModel()).published, true);
    assert.equal((await server.ok(tasks.get_by_id, { task: task.id })).task.status, 'published');
    await page.getByRole('link', { name: 'Network' }).click();
    await page.locator('.network').getByText('Published models are read-only.').waitFor();
    assert.equal(await page.locator('.tab-panel textarea').count(), 0);
    await page.getByRole('link', { name: 'Labels' }).click();
    await page.locator('.labels').getByText('Published models are read-only.').waitFor();
    assert.equal(await page.locator('.tab-panel input').count(), 0);

    await menu('Archive');
    await page.locator('.badge-archived').waitFor();
    assert.ok((await read()).system_tags?.includes('archived'));
    await menu('Restore from archive');
    await page.locator('.badge-archived').waitFor({ state: 'detached' });
    assert.ok(!(await read()).system_tags?.includes('archived'));

    await menu('Move to project…');
    const move = page.getByRole('dialog', { name: 'Move 1 model(s)' });
    await move.getByLabel('Project').selectOption({ label: 'Archive Shelf' });
    await move.getByRole('button', { name: 'Move' }).click();
    await page.waitForURL(`**/projects/${otherProject}/models/${modelId}/general`);
    assert.equal((await read()).project, otherProject);

    // Keyboard: the menu opens and runs its items from the keyboard.
    await page.getByRole('button', { name: 'Actions' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('menuitem', { name: 'Delete…' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('dialog', { name: 'Delete model' }).getByRole('button', { name: 'Delete' }).click();
    await page.waitForURL(`**/projects/${otherProject}/models`);
    assert.equal((await server.call('models.get_by_id', { model: modelId })).status, 400);
    await page.close();
    assertNoErrors(browser);
  });
});
