/**
 * Remote execution end to end: `examples/remote-train.ts` runs locally; in Chromium its task is cloned, the clone's
 * hyperparameters, configuration and labels are edited and it is enqueued; a `cairn agent` started here runs it;
 * the new output model carries the edited values and the task ends completed with its log stored.
 */
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { events, models, queues, tasks } from '@cairn/protocol';
import { textToConfigDict } from '@cairn/sdk/hocon';
import type { TestServer } from '../../server/test/harness.js';
import { assertNoErrors, eventually, launchBrowser, screenshot, settled, signIn, startWebServer, type Browser, setChecked } from './support.js';

const root = path.resolve(import.meta.dirname, '../../..');
const examples = path.join(root, 'examples');
const cli = path.join(root, 'packages/cli/bin/cairn.js');
/** The agent and the example each start a Node process with the TypeScript loader: a few seconds each. */
const RUN_TIMEOUT_MS = 90_000;

describe('web: clone, edit and enqueue a task; an agent runs it', () => {
  let server: TestServer;
  let browser: Browser;
  let scratch: string;
  let env: Record<string, string>;
  let agent: ChildProcess | undefined;
  let agentOutput = '';

  before(async () => {
    server = await startWebServer();
    browser = await launchBrowser();
    await signIn(browser, server);
    scratch = mkdtempSync(path.join(os.tmpdir(), 'cairn-remote-e2e-'));
    env = {
      PATH: process.env.PATH ?? '',
      HOME: scratch,
      CLEARML_CACHE_DIR: path.join(scratch, 'cache'),
      CLEARML_API_HOST: server.apiUrl,
      CLEARML_WEB_HOST: server.url,
      CLEARML_FILES_HOST: server.filesUrl,
      CLEARML_API_ACCESS_KEY: server.accessKey,
      CLEARML_API_SECRET_KEY: server.secretKey,
      EXAMPLE_PROJECT: 'Remote demo',
    };
  });
  afterEach(() => browser.keepFailedPages(import.meta.filename));
  after(async () => {
    if (agent && agent.exitCode === null) {
      agent.kill('SIGTERM');
      await new Promise((resolve) => agent!.once('exit', resolve));
    }
    await browser?.close();
    await server?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  /** Runs the example from its folder, as a user would; resolves to its printed `key: value` lines. */
  async function runExample(): Promise<Record<string, string>> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'remote-train.ts'], { cwd: examples, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, `remote-train.ts failed:\n${err}\n${out}`);
    return Object.fromEntries(out.trim().split('\n').filter((l) => l.includes(': ')).map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]));
  }

  test('the edited clone runs on an agent and its model carries the edited labels and configuration', { timeout: RUN_TIMEOUT_MS * 3 }, async () => {
    const local = await runExample();
    assert.equal(local.remote, 'false');
    assert.deepEqual(JSON.parse(local.labels!), { background: 0, cat: 1, dog: 2 });
    assert.deepEqual(JSON.parse(local.config!), { optimizer: { name: 'sgd', lr: 0.01 }, layers: [64, 10], dropout: 0.25 });
    const source = local['task id']!;
    const { task: recorded } = await server.ok(tasks.get_by_id, { task: source });
    assert.equal(recorded.status, 'completed');
    assert.equal(recorded.script?.working_dir, examples);
    assert.equal(recorded.script?.entry_point, 'remote-train.ts');
    assert.equal(recorded.script?.binary, 'node --import tsx');
    const projectId = String(recorded.project);

    const page = await browser.newPage();
    await page.goto(`${server.url}/projects/${projectId}/tasks/${source}/general`);
    await settled(page);
    await page.getByRole('button', { name: 'Clone' }).click();
    const dialog = page.getByRole('dialog', { name: 'Clone task' });
    await dialog.getByLabel('Name').fill('remote-train (tuned)');
    await dialog.getByRole('button', { name: 'Clone' }).click();
    await page.waitForURL(new RegExp(`/projects/${projectId}/tasks/(?!${source})[0-9a-f]{32}/general$`));
    const clone = /tasks\/([0-9a-f]{32})\//.exec(page.url())![1]!;
    await page.locator('h1', { hasText: 'remote-train (tuned)' }).waitFor();
    assert.equal(await page.locator('[data-field="status"] .badge').textContent(), 'created');

    await page.getByRole('link', { name: 'Hyperparameters' }).click();
    await settled(page);
    await page.getByLabel('Value of General/epochs').fill('2');
    await page.locator('[data-param="General/epochs"]').getByRole('button', { name: 'Save' }).click();
    await page.locator('[data-param="General/epochs"]').getByRole('button', { name: 'Save' }).and(page.locator(':disabled')).waitFor();

    await page.getByRole('link', { name: 'Configuration' }).click();
    await settled(page);
    const text = await page.getByLabel('Value of General').inputValue();
    assert.match(text, /lr = 0\.01/);
    await page.getByLabel('Value of General').fill(text.replace('lr = 0.01', 'lr = 0.05'));
    await page.getByRole('button', { name: 'Save General' }).click();
    await page.getByRole('button', { name: 'Save General' }).and(page.locator(':disabled')).waitFor();

    await page.getByRole('link', { name: 'Labels' }).click();
    await settled(page);
    await page.getByRole('button', { name: 'Add label' }).click();
    await page.getByLabel('Label 4 name').fill('bird');
    assert.equal(await page.getByLabel('Label 4 id').inputValue(), '3');
    await page.getByRole('button', { name: 'Save labels' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    assert.deepEqual((await server.ok(tasks.get_by_id, { task: clone })).task.execution?.model_labels, { background: 0, cat: 1, dog: 2, bird: 3 });
    await screenshot(page, 'task-labels');

    await page.getByRole('button', { name: 'Enqueue' }).click();
    const enqueue = page.getByRole('dialog', { name: 'Enqueue task' });
    const defaultQueue = (await server.ok(queues.get_default, {})).id;
    await eventually(async () => assert.equal(await enqueue.getByLabel('Queue').inputValue(), defaultQueue));
    await enqueue.getByRole('button', { name: 'Enqueue' }).click();
    await page.locator('.entity-header .badge', { hasText: 'queued' }).waitFor();

    const queuesPage = await browser.newPage();
    await queuesPage.goto(`${server.url}/queues`);
    await settled(queuesPage);
    await queuesPage.locator('[data-queue="default"] [data-col="entries"]').getByRole('link', { name: 'remote-train (tuned)' }).waitFor();
    assert.equal(await queuesPage.locator('[data-queue="default"] [data-col="waiting"]').textContent(), '1');

    agent = spawn(process.execPath, [cli, 'agent', '--queue', 'default', '--workdir', path.join(scratch, 'work'), '--id', 'e2e-agent', '--poll-interval', '0.2'], {
      cwd: scratch,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    agent.stdout!.on('data', (d) => (agentOutput += d));
    agent.stderr!.on('data', (d) => (agentOutput += d));

    await queuesPage.locator('[data-worker="e2e-agent"]').waitFor({ timeout: RUN_TIMEOUT_MS });
    await screenshot(queuesPage, 'queues');
    await queuesPage.close();

    // The page follows the run by itself.
    await page.locator('.entity-header .badge', { hasText: 'completed' }).waitFor({ timeout: RUN_TIMEOUT_MS });
    await page.getByRole('link', { name: 'Log' }).click();
    await page.getByTestId('task-log').filter({ hasText: 'epoch 2/2: batch size 32, sgd lr 0.05' }).waitFor();
    assert.equal(await page.getByTestId('task-log').filter({ hasText: 'epoch 3/' }).count(), 0, 'two epochs, as edited');
    await screenshot(page, 'task-log');
    await page.close();

    const { task: ran } = await server.ok(tasks.get_by_id, { task: clone });
    assert.equal(ran.status, 'completed', agentOutput);
    assert.equal(ran.last_worker, 'e2e-agent');
    const { models: produced } = await server.ok(models.get_all, { task: [clone] });
    assert.equal(produced.length, 1);
    const model = produced[0]!;
    assert.deepEqual(model.labels, { background: 0, cat: 1, dog: 2, bird: 3 });
    assert.deepEqual(textToConfigDict(String(model.design?.design)), { optimizer: { name: 'sgd', lr: 0.05 }, layers: [64, 10], dropout: 0.25 });
    assert.ok(model.uri?.startsWith(`${server.filesUrl}/`), 'weights uploaded to the file server');
    assert.match(String(model.weights_sha256), /^[0-9a-f]{64}$/);
    const log = (await server.ok(events.get_task_log, { task: clone, navigate_earlier: false, batch_size: 1000 })).events.map((e) => String(e.msg));
    assert.ok(log.includes('epoch 1/2: batch size 32, sgd lr 0.05'), JSON.stringify(log));
    assert.ok(log.some((l) => l.startsWith('e2e-agent runs: node --import tsx remote-train.ts')));
    assertNoErrors(browser);
  });

  test('a queued task is aborted (and leaves its queue) or dequeued from its page', async () => {
    const { id: aborted } = await server.ok(tasks.create, { name: 'abort me', type: 'training' });
    const { id: dequeued } = await server.ok(tasks.create, { name: 'dequeue me', type: 'training' });
    const { id: queue } = await server.ok(queues.create, { name: 'manual' });
    await server.ok(tasks.enqueue_many, { ids: [aborted, dequeued], queue });
    const page = await browser.newPage();
    await page.goto(`${server.url}/projects/*/tasks/${aborted}/general`);
    await settled(page);
    assert.equal(await page.locator('[data-field="queue"] dd').textContent(), 'manual', 'the queue by name');
    await page.getByRole('button', { name: 'Abort' }).click();
    await page.getByRole('dialog', { name: 'Abort task' }).getByRole('button', { name: 'Abort' }).click();
    await page.locator('.entity-header .badge', { hasText: 'stopped' }).waitFor();
    await page.goto(`${server.url}/projects/*/tasks/${dequeued}/general`);
    await settled(page);
    await page.getByRole('button', { name: 'Dequeue' }).click();
    await page.locator('.entity-header .badge', { hasText: 'created' }).waitFor();
    assert.deepEqual((await server.ok(queues.get_by_id, { queue })).queue.entries, []);
    assert.equal((await server.ok(tasks.get_by_id, { task: aborted })).task.status, 'stopped');
    await page.close();
    assertNoErrors(browser);
  });

  test("a draft's input model is chosen in the Models tab", async () => {
    const { id: task } = await server.ok(tasks.create, { name: 'needs a backbone', type: 'training' });
    const { id: model } = await server.ok(models.create, { name: 'backbone v7', uri: 'https://example.com/backbone.pt', ready: true });
    const page = await browser.newPage();
    await page.goto(`${server.url}/projects/*/tasks/${task}/models`);
    await settled(page);
    await page.getByRole('button', { name: 'Add input model' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add input model' });
    await dialog.getByLabel('Entry name').fill('backbone');
    await dialog.getByRole('searchbox').fill('backbone v');
    await setChecked(dialog.getByRole('radio', { name: /backbone v7/ }), true);
    await dialog.getByRole('button', { name: 'Use model' }).click();
    await page.locator('[data-models="input"]').getByRole('link', { name: 'backbone v7' }).waitFor();
    assert.deepEqual((await server.ok(tasks.get_by_id, { task })).task.models?.input?.map((m) => [m.name, m.model]), [['backbone', model]]);
    await page.close();
    assertNoErrors(browser);
  });
});
