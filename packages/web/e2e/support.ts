/**
 * Browser tests: the real server (with the built web app) on port 0 and Debian's Chromium driven by
 * playwright-core. One browser per test file, a fresh profile each time, nothing downloaded.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { chromium, type BrowserContext, type Page, type Locator } from 'playwright-core';
import { AUTH_COOKIE } from '@cairn/protocol';
import { startTestServer, type TestServer } from '../../server/test/harness.js';

const root = path.resolve(import.meta.dirname, '../../..');
export const webDist = path.resolve(import.meta.dirname, '../dist');
export const screenshotDir = path.join(root, 'test-artifacts/screenshots');

const CHROMIUM = process.env.CAIRN_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];
/** The test session cookie outlives any test run. */
const COOKIE_LIFETIME_S = 24 * 3600;
/** Waits in the browser are bounded so a broken page fails the test instead of hanging it. */
export const UI_TIMEOUT_MS = 15_000;

export async function startWebServer(): Promise<TestServer> {
  if (!existsSync(path.join(webDist, 'index.html'))) throw new Error(`${webDist} has no build: run \`npm run build:web\` first`);
  return startTestServer({ config: { webDist } });
}

export interface Browser {
  context: BrowserContext;
  /** A new tab that fails the test on any page error or failed API call it sees. */
  newPage(): Promise<Page>;
  /** Errors seen so far (uncaught exceptions, console errors); tests assert this stays empty. */
  errors: string[];
  /**
   * Screenshots and closes the pages still open: a passing test closes its page, so these are the
   * pages of a failed test, kept as `failed-<file>-<n>.png` to show what the browser showed.
   */
  keepFailedPages(file: string): Promise<void>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's (apt-get install -y chromium) or set CAIRN_CHROMIUM`);
  const profile = mkdtempSync(path.join(os.tmpdir(), 'cairn-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1440, height: 900 },
    timezoneId: 'UTC',
    locale: 'en-US',
  });
  context.setDefaultTimeout(UI_TIMEOUT_MS);
  const errors: string[] = [];
  // The persistent context opens a blank tab of its own.
  for (const page of context.pages()) await page.close();
  return {
    context,
    errors,
    async newPage() {
      const page = await context.newPage();
      page.on('pageerror', (err) => errors.push(`page error: ${err.message}`));
      // Refusals (4xx) are part of the flows under test and shown by the page; a missing endpoint or a
      // server error is not. The browser's own "Failed to load resource" lines say less than this.
      page.on('console', (msg) => {
        if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) errors.push(`console: ${msg.text()}`);
      });
      page.on('response', (res) => {
        if (res.status() === 404 || res.status() >= 500) errors.push(`HTTP ${res.status()} ${res.request().method()} ${res.url()}`);
      });
      return page;
    },
    async keepFailedPages(file) {
      let n = 0;
      for (const page of context.pages()) {
        await screenshot(page, `failed-${path.basename(file, '.test.ts')}-${++n}`).catch(() => undefined);
        await page.close();
      }
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Logs the browser in with a token from the API (the login form has a test of its own). */
export async function signIn(browser: Browser, server: TestServer): Promise<void> {
  // A persistent cookie, as `auth.login` sets it: a session cookie would go when the last tab closes.
  const expires = Math.floor(Date.now() / 1000) + COOKIE_LIFETIME_S;
  await browser.context.addCookies([{ name: AUTH_COOKIE, value: await server.token(), url: server.url, httpOnly: true, sameSite: 'Lax', expires }]);
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const file = path.join(screenshotDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Waits until the app has drawn its page and nothing on it says "Loading" any more. */
export async function settled(page: Page): Promise<void> {
  await page.waitForFunction(`document.querySelector('#root > *') && !document.querySelector('[role="status"].loading')`, undefined, { timeout: UI_TIMEOUT_MS });
}

/** The traces plotly drew in each graph div under `selector` (plotly keeps them on the element). */
export async function plotTraces(page: Page, selector: string): Promise<{ name?: string; type?: string; x?: unknown[]; y?: unknown[] }[][]> {
  await page.waitForFunction(
    `(() => {
      const plots = [...document.querySelectorAll(${JSON.stringify(`${selector} .plot`)})];
      return plots.length > 0 && plots.every((p) => p.getAttribute('data-rendered') === 'true');
    })()`,
    undefined,
    { timeout: UI_TIMEOUT_MS },
  );
  return page.$$eval(`${selector} .plot[data-rendered="true"]`, (divs) =>
    divs.map((d) =>
      ((d as unknown as { data?: { name?: string; type?: string; x?: unknown[]; y?: unknown[] }[] }).data ?? []).map((t) => ({
        name: t.name,
        type: t.type,
        x: Array.from(t.x ?? []),
        y: Array.from(t.y ?? []),
      })),
    ),
  );
}

export function assertNoErrors(browser: Browser): void {
  assert.deepEqual(browser.errors, [], 'the pages logged errors');
}

/** How often a waiting assertion looks again. */
const POLL_MS = 100;

/**
 * Retries an assertion until it holds (the page updates after the URL does, and after the server
 * answers), failing with its last error once `UI_TIMEOUT_MS` has passed.
 */
export async function eventually<T>(check: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + UI_TIMEOUT_MS;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
}

/**
 * Sets a checkbox or radio and waits until it shows the new state. Boxes that mirror the URL (filters, the
 * archive view) change a moment after the click, because the router applies URL updates as a transition;
 * Playwright's `check()` looks at once and fails on a loaded machine.
 */
export async function setChecked(box: Locator, checked: boolean): Promise<void> {
  if ((await box.isChecked()) !== checked) await box.click();
  await eventually(async () => assert.equal(await box.isChecked(), checked, 'the box did not take the new state'));
}

/** Waits until `selector` matches exactly `count` elements. */
export async function waitForCount(page: Page, selector: string, count: number): Promise<void> {
  await page.waitForFunction(`document.querySelectorAll(${JSON.stringify(selector)}).length === ${count}`, undefined, { timeout: UI_TIMEOUT_MS });
}

/** The text of every cell in one column of a table, by its `data-col`. */
export async function columnTexts(page: Page, table: string, col: string): Promise<string[]> {
  return page.$$eval(`${table} tbody td[data-col="${col}"]`, (cells) => cells.map((c) => (c.textContent ?? '').trim()));
}
