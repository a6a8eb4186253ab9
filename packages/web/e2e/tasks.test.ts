import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { models, projects, tasks } from '@cairn/protocol';
import type { TestServer } from '../../server/test/harness.js';
import { assertNoErrors, columnTexts, eventually, launchBrowser, plotTraces, screenshot, settled, signIn, startWebServer, type Browser, setChecked } from './support.js';
import { addEvents, plot, scalar } from './seed.js';

describe('web: tasks table and task page', () => {
  let server: TestServer;
  let browser: Browser;
  let projectId: string;
  let prepare: string;
  let train: string;
  let inputModel: string;
  let outputModel: string;

  before(async () => {
    server = await startWebServer();
    browser = await launchBrowser();
    await signIn(browser, server);
    projectId = (await server.ok(projects.create, { name: 'Pipelines' })).id;
    inputModel = (await server.ok(models.create, { name: 'pretrained backbone', uri: '', project: projectId, ready: true })).id;
    prepare = (await server.ok(tasks.create, { name: 'prepare data', type: 'data_processing', project: projectId })).id;
    await server.ok(tasks.edit_configuration, { task: prepare, configuration: [{ name: 'General', value: 'batch = 32', type: 'hocon' }] });
    await server.ok(tasks.edit_hyper_params, {
      task: prepare,
      hyperparams: [
        { section: 'Args', name: 'lr', value: '0.1' },
        { section: 'Args', name: 'epochs', value: '5' },
      ],
    });
    train = (
      await server.ok(tasks.create, {
        name: 'train classifier',
        type: 'training',
        project: projectId,
        models: { input: [{ name: 'backbone', model: inputModel }] },
      })
    ).id;
    await server.ok(tasks.edit_configuration, { task: train, configuration: [{ name: 'General', value: 'epochs = 3' }] });
    await server.ok(tasks.started, { task: train });
    outputModel = (await server.ok(models.create, { name: 'classifier', uri: '', project: projectId, task: train, ready: false })).id;
    await server.ok(tasks.add_or_update_model, { task: train, name: 'Output Model', model: outputModel, type: 'output' });
    await addEvents(server, [
      ...[0, 1, 2].flatMap((i) => [scalar(train, false, 'loss', 'train', i, 1 / (i + 1)), scalar(train, false, 'loss', 'val', i, 1.2 / (i + 1))]),
      plot(train, false, 'confusion', 'val', 2, { data: [{ type: 'heatmap', z: [[5, 1], [0, 6]] }], layout: { title: 'Confusion' } }),
    ]);
    await server.ok(tasks.completed, { task: train });
    const failed = (await server.ok(tasks.create, { name: 'broken run', type: 'testing', project: projectId })).id;
    await server.ok(tasks.started, { task: failed });
    await server.ok(tasks.failed, { task: failed });
  });
  afterEach(() => browser.keepFailedPages(import.meta.filename));
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('tasks table: status, type, project, user, times; filters and search', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/projects/${projectId}/tasks`);
    await settled(page);
    // The list may not have started loading when the page first settles.
    await eventually(async () => assert.deepEqual((await columnTexts(page, '.tasks-table', 'name')).sort(), ['broken run', 'prepare data', 'train classifier']));
    const trainRow = page.locator(`tr[data-task-id="${train}"]`);
    assert.equal(await trainRow.locator('td[data-col="status"]').textContent(), 'completed');
    assert.equal(await trainRow.locator('td[data-col="type"]').textContent(), 'training');
    assert.equal(await trainRow.locator('td[data-col="project"]').textContent(), 'Pipelines');
    assert.equal(await trainRow.locator('td[data-col="user"]').textContent(), 'admin');
    await screenshot(page, 'tasks-table');

    await page.getByRole('search').getByRole('button', { name: 'Status', exact: true }).click();
    await setChecked(page.getByRole('checkbox', { name: 'failed', exact: true }), true);
    await page.keyboard.press('Escape');
    await page.waitForURL(/status=failed/);
    await eventually(async () => assert.deepEqual(await columnTexts(page, '.tasks-table', 'name'), ['broken run']));
    await page.getByRole('search').getByRole('button', { name: 'Status (1)', exact: true }).click();
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.keyboard.press('Escape');

    await page.getByRole('searchbox', { name: 'Search tasks' }).fill('classifier');
    await page.waitForURL(/q=classifier/);
    await eventually(async () => assert.deepEqual(await columnTexts(page, '.tasks-table', 'name'), ['train classifier']));
    await page.getByRole('link', { name: 'train classifier' }).click();
    await page.waitForURL(`**/tasks/${train}/general`);
    await page.locator('h1', { hasText: 'train classifier' }).waitFor();
    await settled(page);
    assert.equal(await page.locator('[data-field="status"] .badge').textContent(), 'completed');
    assert.match((await page.locator('[data-field="started"] dd').textContent()) ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.match((await page.locator('[data-field="completed"] dd').textContent()) ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    await screenshot(page, 'task-general');
    await page.close();
    assertNoErrors(browser);
  });

  test('task models link to the model pages; scalars and plots are drawn', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/projects/${projectId}/tasks/${train}/models`);
    await settled(page);
    await page.locator('[data-models="output"]').getByRole('link', { name: 'classifier' }).waitFor();
    await page.locator('[data-models="input"]').getByRole('link', { name: 'pretrained backbone' }).click();
    await page.waitForURL(`**/models/${inputModel}/general`);
    await page.locator('h1', { hasText: 'pretrained backbone' }).waitFor();

    await page.goto(`${server.url}/projects/${projectId}/tasks/${train}/scalars`);
    await settled(page);
    const [loss] = await plotTraces(page, '.scalars');
    assert.deepEqual(loss!.map((t) => t.name), ['train', 'val']);
    assert.deepEqual(loss![0]!.y, [1, 0.5, 1 / 3]);
    await page.goto(`${server.url}/projects/${projectId}/tasks/${train}/plots`);
    await settled(page);
    const [confusion] = await plotTraces(page, '.plots');
    assert.equal(confusion![0]!.type, 'heatmap');
    await page.close();
    assertNoErrors(browser);
  });

  test('configuration and hyperparameters: editable while created, read-only after', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/projects/${projectId}/tasks/${train}/configuration`);
    await settled(page);
    assert.equal(await page.locator('[data-config="General"] pre').textContent(), 'epochs = 3');
    assert.equal(await page.locator('textarea').count(), 0, 'a completed task is read-only');

    await page.goto(`${server.url}/projects/${projectId}/tasks/${prepare}/configuration`);
    await settled(page);
    await page.getByLabel('Value of General').fill('batch = 64\nshuffle = true');
    await page.getByRole('button', { name: 'Save General' }).click();
    await page.getByRole('button', { name: 'Save General' }).and(page.locator(':disabled')).waitFor();
    const config = async () => (await server.ok(tasks.get_configurations, { tasks: [prepare] })).configurations[0]!.configuration;
    assert.equal((await config()).find((c) => c.name === 'General')?.value, 'batch = 64\nshuffle = true');

    await page.getByRole('button', { name: 'Add configuration item' }).click();
    await page.locator('form.config-item').getByLabel('Name').fill('augment');
    await page.locator('form.config-item').getByLabel('Value').fill('flip = true');
    await page.locator('form.config-item').getByRole('button', { name: 'Add' }).click();
    await page.locator('[data-config="augment"]').waitFor();
    assert.equal((await config()).find((c) => c.name === 'augment')?.value, 'flip = true');
    await page.locator('[data-config="augment"]').getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog', { name: 'Delete configuration item' }).getByRole('button', { name: 'Delete' }).click();
    await page.locator('[data-config="augment"]').waitFor({ state: 'detached' });
    assert.equal((await config()).some((c) => c.name === 'augment'), false);

    await page.goto(`${server.url}/projects/${projectId}/tasks/${prepare}/hyperparams`);
    await settled(page);
    await page.getByLabel('Value of Args/lr').fill('0.05');
    await page.locator('[data-param="Args/lr"]').getByRole('button', { name: 'Save' }).click();
    const params = async () => (await server.ok(tasks.get_hyper_params, { tasks: [prepare] })).params[0]!.hyperparams;
    await page.locator('[data-param="Args/lr"]').getByRole('button', { name: 'Save' }).and(page.locator(':disabled')).waitFor();
    assert.equal((await params()).find((p) => p.name === 'lr')?.value, '0.05');

    const add = page.getByRole('form', { name: 'Add hyperparameter' });
    await add.getByLabel('Section').fill('Args');
    await add.getByLabel('Name').fill('momentum');
    await add.getByLabel('Value').fill('0.9');
    await add.getByRole('button', { name: 'Add hyperparameter' }).click();
    await page.locator('[data-param="Args/momentum"]').waitFor();
    assert.equal((await params()).find((p) => p.name === 'momentum')?.value, '0.9');
    await page.getByRole('button', { name: 'Delete Args/epochs' }).click();
    await page.locator('[data-param="Args/epochs"]').waitFor({ state: 'detached' });
    assert.equal((await params()).some((p) => p.name === 'epochs'), false);
    await screenshot(page, 'task-hyperparams');

    await page.goto(`${server.url}/projects/${projectId}/tasks/${train}/hyperparams`);
    await settled(page);
    assert.equal(await page.locator('input').count(), 0, 'a completed task is read-only');
    await page.close();
    assertNoErrors(browser);
  });
});
