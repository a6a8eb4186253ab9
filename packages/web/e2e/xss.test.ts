import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { models, projects, tasks } from '@cairn/protocol';
import type { TestServer } from '../../server/test/harness.js';
import { assertNoErrors, launchBrowser, plotTraces, screenshot, settled, signIn, startWebServer, type Browser } from './support.js';
import { addEvents, plot, scalar } from './seed.js';

/** Each payload would set `window.__xss` or open a dialog if it ran. */
const SCRIPT = '<script>window.__xss = "script"</script>';
const IMG = '"><img src=x onerror="window.__xss = \'img\'; alert(1)">';
const SVG = "<svg onload=\"window.__xss='svg'\">"; // no '/': project names are paths

describe('web: user text is shown as text, never run', () => {
  let server: TestServer;
  let browser: Browser;
  let projectId: string;
  let modelId: string;
  let taskId: string;

  before(async () => {
    server = await startWebServer();
    browser = await launchBrowser();
    await signIn(browser, server);
    projectId = (await server.ok(projects.create, { name: `xss ${SVG}` })).id;
    taskId = (await server.ok(tasks.create, { name: `task ${SCRIPT}`, type: 'training', project: projectId, comment: IMG })).id;
    await server.ok(tasks.edit_configuration, { task: taskId, configuration: [{ name: `cfg ${IMG}`, value: SCRIPT }] });
    await server.ok(tasks.edit_hyper_params, { task: taskId, hyperparams: [{ section: `sec ${SVG}`, name: `p ${IMG}`, value: SCRIPT }] });
    modelId = (
      await server.ok(models.create, {
        name: `model ${SCRIPT}`,
        uri: `javascript:window.__xss='uri'`,
        project: projectId,
        task: taskId,
        framework: IMG,
        tags: [IMG, SCRIPT],
        comment: `${IMG} and ${SVG}`,
        design: { design: SCRIPT },
        labels: { [IMG]: 1, [SCRIPT]: 2 },
        ready: false,
        metadata: { [`key ${SCRIPT}`]: { key: `key ${SCRIPT}`, type: IMG, value: IMG } },
      })
    ).id;
    await addEvents(server, [
      scalar(modelId, true, `metric ${IMG}`, `variant ${SCRIPT}`, 1, 0.5),
      scalar(modelId, true, 'Summary', `single ${IMG}`, -2147483648, 7),
      plot(modelId, true, `plot ${SCRIPT}`, `v ${IMG}`, 0, {
        data: [{ type: 'bar', name: IMG, x: [SCRIPT, 'b'], y: [1, 2] }],
        layout: { title: `${IMG} <a href="javascript:window.__xss='plotly'">click</a>`, xaxis: { title: SCRIPT } },
      }),
    ]);
  });
  afterEach(() => browser.keepFailedPages(import.meta.filename));
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('names, tags, descriptions, metadata, labels, config and plots stay text', async () => {
    const page = await browser.newPage();
    const dialogs: string[] = [];
    page.on('dialog', async (d) => {
      dialogs.push(d.message());
      await d.dismiss();
    });
    const noScriptRan = async (where: string) => {
      assert.equal(await page.evaluate('window.__xss'), undefined, `a payload ran on ${where}`);
      assert.deepEqual(dialogs, [], `a dialog opened on ${where}`);
      assert.equal(await page.locator('main img[src="x"], main svg[onload]').count(), 0, `payload markup became elements on ${where}`);
    };

    await page.goto(`${server.url}/projects`);
    await settled(page);
    await page.getByText(`xss ${SVG}`).waitFor();
    await noScriptRan('projects');

    await page.goto(`${server.url}/projects/${projectId}/models`);
    await settled(page);
    assert.equal(await page.locator('td[data-col="name"]').textContent(), `model ${SCRIPT}`);
    assert.equal(await page.locator('td[data-col="framework"]').textContent(), IMG);
    assert.deepEqual(await page.locator('td[data-col="tags"] li').allTextContents(), [IMG, SCRIPT].sort());
    assert.equal(await page.locator('td[data-col="description"]').textContent(), `${IMG} and ${SVG}`);
    await noScriptRan('models table');

    const base = `${server.url}/projects/${projectId}/models/${modelId}`;
    await page.goto(`${base}/general`);
    await settled(page);
    assert.equal(await page.locator('h1').textContent(), `model ${SCRIPT}`);
    assert.equal(await page.locator('[data-field="framework"] dd').textContent(), IMG);
    assert.ok((await page.locator('[data-field="url"] dd').textContent())?.includes("javascript:window.__xss='uri'"));
    assert.equal(await page.locator('[data-field="url"] a').count(), 0, 'a javascript: URL is never a link');
    await screenshot(page, 'xss-general');
    await noScriptRan('general');

    await page.goto(`${base}/network`);
    assert.equal(await page.getByLabel('Configuration (HOCON or JSON)').inputValue(), SCRIPT);
    await page.goto(`${base}/labels`);
    await page.locator('.labels tbody tr').first().waitFor();
    assert.deepEqual(await page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-label'))), [IMG, SCRIPT]);
    await page.goto(`${base}/metadata`);
    assert.equal(await page.locator('td[data-col="key"]').textContent(), `key ${SCRIPT}`);
    assert.equal(await page.locator('td[data-col="value"]').textContent(), IMG);
    await noScriptRan('network, labels, metadata');

    await page.goto(`${base}/lineage`);
    await settled(page);
    assert.equal(await page.locator('[data-lineage="creator"] a').textContent(), `task ${SCRIPT}`);
    await page.goto(`${base}/scalars`);
    await settled(page);
    assert.equal(await page.locator('figure.chart figcaption').first().textContent(), `metric ${IMG}`);
    assert.equal(await page.locator('.single-values td').first().textContent(), `single ${IMG}`);
    const traces = await plotTraces(page, '.scalars');
    assert.equal(traces[0]![0]!.name, `variant ${SCRIPT}`);
    await page.goto(`${base}/plots`);
    await settled(page);
    await plotTraces(page, '.plots');
    // Plotly draws text as SVG text; a link it draws keeps no javascript: target.
    assert.equal(await page.locator('.plots a[href^="javascript"], .plots [*|href^="javascript"]').count(), 0);
    await page.locator('.plots .plot').first().hover();
    await noScriptRan('scalars and plots');

    await page.goto(`${server.url}/projects/${projectId}/tasks/${taskId}/general`);
    await settled(page);
    assert.equal(await page.locator('h1').textContent(), `task ${SCRIPT}`);
    assert.equal(await page.locator('[data-field="description"] dd').textContent(), IMG);
    await page.goto(`${server.url}/projects/${projectId}/tasks/${taskId}/configuration`);
    await settled(page);
    assert.ok((await page.locator('.config-item h2').textContent())?.includes(`cfg ${IMG}`));
    await page.goto(`${server.url}/projects/${projectId}/tasks/${taskId}/hyperparams`);
    await settled(page);
    assert.equal(await page.locator('section[data-section] h2').textContent(), `sec ${SVG}`);
    await noScriptRan('task pages');
    await page.close();
    assertNoErrors(browser);
  });
});
