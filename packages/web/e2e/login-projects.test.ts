import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { projects, tasks, models } from '@cairn/protocol';
import type { TestServer } from '../../server/test/harness.js';
import { assertNoErrors, launchBrowser, screenshot, settled, signIn, startWebServer, type Browser, setChecked } from './support.js';

describe('web: login, logout and projects', () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    server = await startWebServer();
    browser = await launchBrowser();
  });
  afterEach(() => browser.keepFailedPages(import.meta.filename));
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('signs in with the admin password, signs out, signs in with the key pair', async () => {
    await browser.context.clearCookies();
    const page = await browser.newPage();
    // A deep link while logged out goes to the login form and comes back after it.
    await page.goto(`${server.url}/projects/*/models`);
    await page.waitForURL('**/login');
    await page.getByLabel('User name').fill('admin');
    await page.getByLabel('Password', { exact: true }).fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong credentials' }).waitFor();

    await page.getByLabel('Password', { exact: true }).fill(server.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/projects/*/models');
    assert.equal(await page.getByTestId('current-user').textContent(), 'admin');
    const cookies = await browser.context.cookies(server.url);
    assert.ok(cookies.some((c) => c.name === 'clearml_token_basic' && c.httpOnly), 'the session is an HttpOnly cookie');

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL('**/login');
    assert.equal((await browser.context.cookies(server.url)).filter((c) => c.name === 'clearml_token_basic').length, 0, 'logout clears the cookie');
    // The old session is gone on the server too: a reload stays on the login form.
    await page.goto(`${server.url}/projects`);
    await page.waitForURL('**/login');

    await setChecked(page.getByLabel('Key pair'), true);
    await page.getByLabel('Access key').fill(server.accessKey);
    await page.getByLabel('Secret key').fill(server.secretKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL('**/projects');
    assert.equal(await page.getByTestId('current-user').textContent(), 'admin');
    await page.close();
    assertNoErrors(browser);
  });

  test('project tree with counts; create, rename and delete projects', async () => {
    await signIn(browser, server);
    const vision = await server.ok(projects.create, { name: 'Vision' });
    const detection = await server.ok(projects.create, { name: 'Vision/Detection' });
    await server.ok(models.create, { name: 'detector-a', uri: '', project: detection.id, ready: false });
    await server.ok(models.create, { name: 'detector-b', uri: '', project: detection.id, ready: false });
    await server.ok(models.create, { name: 'backbone', uri: '', project: vision.id, ready: false });
    await server.ok(tasks.create, { name: 'train detector', type: 'training', project: detection.id });

    const page = await browser.newPage();
    await page.goto(`${server.url}/projects`);
    await settled(page);
    const row = (id: string) => page.locator(`tr[data-project-id="${id}"]`);
    assert.equal(await row(detection.id).locator('td[data-col="models"]').textContent(), '2');
    assert.equal(await row(detection.id).locator('td[data-col="tasks"]').textContent(), '1');
    assert.equal(await row(vision.id).locator('td[data-col="models"]').textContent(), '1 (3 with sub-projects)');
    await screenshot(page, 'projects');

    // Create a project through the dialog.
    await page.getByRole('button', { name: 'New project' }).click();
    const dialog = page.getByRole('dialog', { name: 'New project' });
    await dialog.getByLabel('Name').fill('Speech/ASR');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('link', { name: 'ASR', exact: true }).waitFor();
    const created = await server.ok(projects.get_all, { name: '^Speech/ASR$' });
    assert.equal(created.projects.length, 1);

    // A duplicate name is refused, with the server's reason shown.
    await page.getByRole('button', { name: 'New project' }).click();
    await dialog.getByLabel('Name').fill('Vision');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await dialog.getByRole('alert').waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    // Rename changes the last path segment only.
    await page.getByRole('button', { name: 'Rename Speech/ASR' }).click();
    const rename = page.getByRole('dialog', { name: 'Rename project' });
    await rename.getByLabel('New name').fill('Recognition');
    await rename.getByRole('button', { name: 'Rename' }).click();
    await page.getByRole('link', { name: 'Recognition', exact: true }).waitFor();
    const renamed = await server.ok(projects.get_by_id, { project: created.projects[0]!.id });
    assert.equal(renamed.project.name, 'Speech/Recognition');

    // Deleting an empty project.
    await page.getByRole('button', { name: 'Delete Speech/Recognition' }).click();
    await page.getByRole('dialog', { name: 'Delete project' }).getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('link', { name: 'Recognition', exact: true }).waitFor({ state: 'detached' });
    const gone = await server.call('projects.get_by_id', { project: created.projects[0]!.id });
    assert.equal(gone.status, 400);

    // Deleting a project with contents asks again, then deletes it with its contents.
    await page.getByRole('button', { name: 'Delete Vision/Detection' }).click();
    const del = page.getByRole('dialog', { name: 'Delete project' });
    await del.getByRole('button', { name: 'Delete', exact: true }).click();
    await del.getByRole('button', { name: 'Delete project and contents' }).click();
    await row(detection.id).waitFor({ state: 'detached' });
    const left = await server.ok(models.get_all, { project: [detection.id] });
    assert.equal(left.models.length, 0);

    // The project link opens its models table.
    await page.getByRole('link', { name: 'Vision', exact: true }).click();
    await page.waitForURL(`**/projects/${vision.id}/models`);
    await page.locator('td[data-col="name"]', { hasText: 'backbone' }).waitFor();
    await page.close();
    assertNoErrors(browser);
  });
});
