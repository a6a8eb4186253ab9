import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { models, projects } from '@cairn/protocol';
import type { TestServer } from '../../server/test/harness.js';
import { assertNoErrors, columnTexts, eventually, launchBrowser, screenshot, settled, signIn, startWebServer, waitForCount, type Browser, setChecked } from './support.js';
import { addEvents, scalar } from './seed.js';

/** More rows than two scroll pages of the table (50 each). */
const MODEL_COUNT = 120;
const FRAMEWORKS = ['PyTorch', 'TensorFlow', 'Keras'];
const name = (i: number) => `model-${String(i).padStart(3, '0')}`;

describe('web: models table', () => {
  let server: TestServer;
  let browser: Browser;
  let projectA: string;
  let projectB: string;
  const ids: string[] = [];

  before(async () => {
    server = await startWebServer();
    browser = await launchBrowser();
    await signIn(browser, server);
    projectA = (await server.ok(projects.create, { name: 'Tables/A' })).id;
    projectB = (await server.ok(projects.create, { name: 'Tables/B' })).id;
    for (let i = 0; i < MODEL_COUNT; i++) {
      const tags = [...(i % 2 === 0 ? ['even'] : []), ...(i % 10 === 0 ? ['ten'] : [])];
      const { id } = await server.ok(models.create, {
        name: name(i),
        uri: '',
        project: projectA,
        framework: FRAMEWORKS[i % 3],
        tags,
        comment: `description of ${name(i)}`,
        ready: false,
        metadata: { score: { key: 'score', type: 'int', value: String(i) } },
      });
      ids.push(id);
    }
    // Metrics first: a published model takes no more events.
    await addEvents(server, ids.slice(0, 5).map((id, i) => scalar(id, true, 'val', 'acc', 1, 0.5 + i / 10)));
    for (let i = 0; i < MODEL_COUNT; i += 3) await server.ok(models.set_ready, { model: ids[i]!, publish_task: false });
    const alice = await server.createUser({ name: 'alice' });
    for (let i = 0; i < 5; i++) await server.ok(models.create, { name: `alice-${i}`, uri: '', project: projectB, ready: false }, { token: alice.token });
  });
  afterEach(() => browser.keepFailedPages(import.meta.filename));
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('pages through the server with scroll and small projections, no per-row requests', async () => {
    const page = await browser.newPage();
    const calls: { endpoint: string; body: Record<string, unknown> }[] = [];
    page.on('request', (req) => {
      const m = /\/api\/v999\.0\/(models\.[a-z_]+)/.exec(req.url());
      if (m) calls.push({ endpoint: m[1]!, body: JSON.parse(req.postData() ?? '{}') });
    });
    await page.goto(`${server.url}/projects/${projectA}/models`);
    await settled(page);
    const rows = page.locator('.models-table tbody tr');
    assert.equal(await rows.count(), 50);
    // Newest first by default.
    const newest = await server.ok(models.get_all, { project: [projectA], order_by: ['-last_update'], page_size: 1, only_fields: ['name'] });
    assert.equal((await columnTexts(page, '.models-table', 'name'))[0], newest.models[0]!.name);
    await screenshot(page, 'models-table');

    await page.locator('.more').scrollIntoViewIfNeeded();
    await waitForCount(page, '.models-table tbody tr', 100);
    await page.locator('.more').scrollIntoViewIfNeeded();
    await waitForCount(page, '.models-table tbody tr', MODEL_COUNT);
    await settled(page);
    assert.equal(await page.locator('.more').count(), 0, 'no more pages once all rows are in');
    assert.deepEqual(new Set(await columnTexts(page, '.models-table', 'name')).size, MODEL_COUNT);

    const lists = calls.filter((c) => c.endpoint === 'models.get_all_ex');
    assert.equal(lists.length, 3, 'three scroll pages');
    assert.equal(lists[0]!.body.scroll_id, null);
    assert.equal(lists[0]!.body.size, 50);
    assert.ok(typeof lists[1]!.body.scroll_id === 'string');
    for (const c of lists) {
      const fields = c.body.only_fields as string[];
      assert.ok(fields.length <= 12 && !fields.includes('design') && !fields.includes('metadata'), `small projection: ${fields}`);
      assert.deepEqual(c.body.project, [projectA]);
      assert.deepEqual(c.body.system_tags, ['-archived']);
    }
    assert.deepEqual([...new Set(calls.map((c) => c.endpoint))].sort(), ['models.get_all_ex', 'models.get_frameworks'], 'no per-row calls');
    await page.close();
    assertNoErrors(browser);
  });

  test('sorts, searches and filters on the server; the view is in the URL', async () => {
    const page = await browser.newPage();
    const names = () => columnTexts(page, '.models-table', 'name');
    await page.goto(`${server.url}/projects/${projectA}/models`);
    await settled(page);

    await page.getByRole('button', { name: 'Name', exact: true }).click();
    await page.waitForURL(/sort=name/);
    await eventually(async () => assert.deepEqual((await names()).slice(0, 3), [name(0), name(1), name(2)]));
    await page.getByRole('button', { name: 'Name', exact: true }).click();
    await page.waitForURL(/sort=-name/);
    await eventually(async () => assert.equal((await names())[0], name(MODEL_COUNT - 1)));

    await page.getByRole('searchbox', { name: 'Search models' }).fill('model-01');
    await page.waitForURL(/q=model-01/);
    const tens = Array.from({ length: 10 }, (_, i) => name(19 - i));
    await eventually(async () => assert.deepEqual(await names(), tens));
    // The URL is the view: opening it in a new tab shows the same rows.
    const other = await browser.newPage();
    await other.goto(page.url());
    await eventually(async () => assert.deepEqual(await columnTexts(other, '.models-table', 'name'), tens));
    assert.equal(await other.getByRole('searchbox', { name: 'Search models' }).inputValue(), 'model-01');
    await other.close();
    await page.getByRole('searchbox', { name: 'Search models' }).fill('');
    await page.waitForURL((url) => !url.searchParams.has('q'));

    const search = page.getByRole('search');
    await search.getByRole('button', { name: 'Framework', exact: true }).click();
    await setChecked(page.getByRole('checkbox', { name: 'Keras', exact: true }), true);
    await page.waitForURL(/framework=Keras/);
    await page.keyboard.press('Escape');
    await eventually(async () => assert.equal((await names()).length, 40));
    assert.deepEqual(new Set(await columnTexts(page, '.models-table', 'framework')), new Set(['Keras']));
    await search.getByRole('button', { name: 'Framework (1)', exact: true }).click();
    await page.getByRole('button', { name: 'Clear' }).click();
    await page.keyboard.press('Escape');
    await page.waitForURL((url) => !url.searchParams.has('framework'));

    await search.getByRole('button', { name: 'Tags', exact: true }).click();
    await setChecked(page.getByRole('checkbox', { name: 'ten', exact: true }), true);
    await page.keyboard.press('Escape');
    await page.waitForURL(/tag=ten/);
    await eventually(async () => assert.deepEqual(await names(), Array.from({ length: 12 }, (_, i) => name(110 - i * 10))));

    await page.getByLabel('Status').selectOption('published');
    await page.waitForURL(/status=published/);
    await eventually(async () => assert.deepEqual(await names(), [name(90), name(60), name(30), name(0)]));
    assert.deepEqual(new Set(await columnTexts(page, '.models-table', 'status')), new Set(['Published']));
    await page.close();
    assertNoErrors(browser);
  });

  test('user filter and the all-projects view', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/projects/*/models`);
    await settled(page);
    await page.getByRole('search').getByRole('button', { name: 'User', exact: true }).click();
    await setChecked(page.getByRole('checkbox', { name: 'alice', exact: true }), true);
    await page.keyboard.press('Escape');
    await page.waitForURL(/user=/);
    await eventually(async () =>
      assert.deepEqual((await columnTexts(page, '.models-table', 'name')).sort(), ['alice-0', 'alice-1', 'alice-2', 'alice-3', 'alice-4']),
    );
    assert.deepEqual(new Set(await columnTexts(page, '.models-table', 'user')), new Set(['alice']));
    assert.deepEqual(new Set(await columnTexts(page, '.models-table', 'project')), new Set(['Tables/B']));
    await page.close();
    assertNoErrors(browser);
  });

  test('metadata and metric columns, sorted on the server', async () => {
    const page = await browser.newPage();
    const scores = () => columnTexts(page, '.models-table', 'meta:score');
    await page.goto(`${server.url}/projects/${projectA}/models`);
    await settled(page);
    await page.getByRole('search').getByRole('button', { name: 'Columns', exact: true }).click();
    await setChecked(page.getByRole('checkbox', { name: 'Metadata: score', exact: true }), true);
    await setChecked(page.getByRole('checkbox', { name: 'Metric: val / acc', exact: true }), true);
    await page.keyboard.press('Escape');
    await page.waitForURL(/col=meta%3Ascore.*col=metric/);
    await page.getByRole('button', { name: 'score', exact: true }).click();
    // Numeric-aware: 9 before 10 before 100.
    await eventually(async () => assert.deepEqual((await scores()).slice(0, 12), ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11']));
    await page.getByRole('button', { name: 'score', exact: true }).click();
    await eventually(async () => assert.deepEqual((await scores()).slice(0, 3), ['119', '118', '117']));
    await page.getByRole('button', { name: 'val / acc', exact: true }).click();
    await eventually(async () =>
      assert.deepEqual((await page.$$eval('.models-table tbody td[data-col^="metric:"]', (cells) => cells.map((c) => c.textContent))).slice(0, 5), ['0.5', '0.6', '0.7', '0.8', '0.9']),
    );
    await screenshot(page, 'models-table-columns');
    await page.close();
    assertNoErrors(browser);
  });

  test('multi-select: publish, archive and restore, move, delete', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/projects/${projectA}/models?sort=name`);
    await settled(page);
    const row = (i: number) => page.locator(`tr[data-model-id="${ids[i]}"]`);
    const pick = async (...names: string[]) => {
      for (const n of names) await setChecked(page.getByRole('checkbox', { name: `Select ${n}`, exact: true }), true);
    };

    await pick(name(1), name(2));
    await page.getByText('2 selected').waitFor();
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await settled(page);
    await row(1).locator('td[data-col="status"]', { hasText: 'Published' }).waitFor();
    for (const i of [1, 2]) assert.equal((await server.ok(models.get_by_id, { model: ids[i]! })).model.ready, true);

    await pick(name(4), name(5));
    await page.getByRole('button', { name: 'Archive', exact: true }).click();
    await row(4).waitFor({ state: 'detached' });
    assert.ok((await server.ok(models.get_by_id, { model: ids[4]! })).model.system_tags?.includes('archived'));
    await setChecked(page.getByLabel('Archive'), true);
    await page.waitForURL(/archived=1/);
    await eventually(async () => assert.deepEqual((await columnTexts(page, '.models-table', 'name')).sort(), [name(4), name(5)]));
    await pick(name(4));
    await page.getByRole('button', { name: 'Restore', exact: true }).click();
    await row(4).waitFor({ state: 'detached' });
    assert.ok(!(await server.ok(models.get_by_id, { model: ids[4]! })).model.system_tags?.includes('archived'));
    await setChecked(page.getByLabel('Archive'), false);
    await page.waitForURL((url) => !url.searchParams.has('archived'));
    await eventually(async () => assert.equal((await columnTexts(page, '.models-table', 'name'))[0], name(0)));

    await pick(name(7), name(8));
    await page.getByRole('button', { name: 'Move to project…' }).click();
    const move = page.getByRole('dialog', { name: 'Move 2 model(s)' });
    await move.getByLabel('Project').selectOption({ label: 'Tables/B' });
    await move.getByRole('button', { name: 'Move' }).click();
    await row(7).waitFor({ state: 'detached' });
    for (const i of [7, 8]) assert.equal((await server.ok(models.get_by_id, { model: ids[i]! })).model.project, projectB);

    await pick(name(10), name(11));
    await page.getByRole('button', { name: 'Delete…' }).click();
    await page.getByRole('dialog', { name: 'Delete models' }).getByRole('button', { name: 'Delete' }).click();
    await row(10).waitFor({ state: 'detached' });
    for (const i of [10, 11]) assert.equal((await server.call('models.get_by_id', { model: ids[i]! })).status, 400);

    // Select-all picks every shown row.
    await setChecked(page.getByRole('checkbox', { name: 'Select all shown models', exact: true }), true);
    await page.getByText('50 selected').waitFor();
    await setChecked(page.getByRole('checkbox', { name: 'Select all shown models', exact: true }), false);
    await page.close();
    assertNoErrors(browser);
  });
});
