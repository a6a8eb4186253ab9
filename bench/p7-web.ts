/**
 * P7: the web app in headless Chromium against a server holding 100,000 models.
 *
 * - The model page's Plots tab with 20 plots of 10,000 points each (reported through the SDK's
 *   `reportScatter2d`). Interactive: from navigation start until the charts in the window are drawn and the
 *   browser produced a frame after that; the page draws its charts one per task, so it answers input while
 *   the rest are drawn (the longest task after that moment is reported, as is the time until all 20 are
 *   drawn).
 * - The models table of all projects: time until its first page (50 rows) shows.
 *
 * Times are read inside the page (`performance.now()`, zero at navigation start) from a check that runs on
 * every animation frame. The first load of each page is not counted (the browser's cache for the app's
 * static files is warm afterwards, as for a user who has opened the app before).
 */
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { AUTH_COOKIE } from '@cairn/protocol';
import { OutputModel, Session, Task } from '@cairn/sdk';
import { runWorkload } from './lib/runner.js';
import { repoRoot, startCairn } from './lib/processes.js';
import { apiSession } from './lib/api.js';
import { openServerDatabase, seedModels } from './lib/seed-models.js';
import { summarize } from './lib/stats.js';
import { atMost, measured, reported, worst } from './lib/result.js';

const MAX_INTERACTIVE_MS = 1500;
const PLOTS = 20;
const TABLE_ROWS = 50;
const CHROMIUM = process.env.CAIRN_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];
/** A page that has not drawn within this is broken, not slow. */
const PAGE_TIMEOUT_MS = 60_000;
const WEB_DIST = path.join(repoRoot, 'packages/web/dist');

/** Long tasks (> 50 ms, the browser's own measure) with their start, collected from the page's first moment. */
const LONG_TASKS = `window.__longTasks = []; new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push([e.startTime, e.duration]); }).observe({ type: 'longtask', buffered: true });`;

/**
 * Loads `url` in a new tab of `context` and returns the in-page times at which each condition (a JS expression,
 * checked on every animation frame) first held, and the longest task that started after the first of them.
 */
async function timeUntil(context: BrowserContext, url: string, conditions: string[]): Promise<{ times: number[]; longestTaskAfter: number }> {
  const page: Page = await context.newPage();
  try {
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.addInitScript(LONG_TASKS);
    await page.goto(url, { waitUntil: 'commit' });
    const times: number[] = [];
    for (const condition of conditions) {
      const handle = await page.waitForFunction(`(${condition}) ? performance.now() : false`, undefined, { polling: 'raf', timeout: PAGE_TIMEOUT_MS });
      times.push((await handle.jsonValue()) as number);
    }
    const longTasks = (await page.evaluate('window.__longTasks')) as [number, number][];
    if (errors.length) throw new Error(`the page failed: ${errors.join('; ')}`);
    return { times, longestTaskAfter: Math.max(0, ...longTasks.filter(([start]) => start >= times[0]!).map(([, duration]) => duration)) };
  } finally {
    await page.close();
  }
}

await runWorkload('P7', 'web: model page with 20 plots of 10,000 points; models table over 100,000 models', async (ctx) => {
  const models = ctx.quick ? 2_000 : 100_000;
  const points = ctx.quick ? 1_000 : 10_000;
  const runs = ctx.runs(7);
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CAIRN_CHROMIUM)`);
  if (!existsSync(path.join(WEB_DIST, 'index.html'))) {
    ctx.log('building the web app');
    if (spawnSync('npm', ['run', 'build:web'], { cwd: repoRoot, stdio: 'inherit' }).status !== 0) throw new Error('building the web app failed');
  }

  const dataDir = ctx.tempDir('p7-server');
  const server = await startCairn({ dataDir, webDist: WEB_DIST });
  ctx.onCleanup(() => server.stop());
  const api = await apiSession(server);

  // The model with its plots, as a training script reports them.
  const session = new Session({ apiHost: server.apiUrl, filesHost: server.filesUrl, accessKey: server.accessKey, secretKey: server.secretKey, env: {}, cacheDir: ctx.tempDir('p7-cache') });
  const task = await Task.init({ projectName: 'Bench Plots', taskName: 'evaluation', session, outputUri: false });
  const model = new OutputModel({ task, name: 'plotted model' });
  for (let p = 0; p < PLOTS; p++) {
    const scatter = Array.from({ length: points }, (_, i) => [i, Math.sin(i / (50 + p)) + p * 0.1 + ((i * 7919) % 101) / 1000]);
    await model.reportScatter2d(`curve ${String(p + 1).padStart(2, '0')}`, 'validation', scatter, { iteration: 1, xaxis: 'step', yaxis: 'value', mode: 'lines' });
  }
  await model.flushReports();
  await task.close();
  const modelUrl = `${server.url}/projects/${task.project}/models/${model.id}/plots`;

  const projects: string[] = [];
  for (let i = 0; i < 20; i++) projects.push((await api.call<{ id: string }>('projects.create', { name: `Team ${i}`, description: 'bench' })).id);
  const db = await openServerDatabase({ dataDir });
  try {
    await seedModels(db, models, projects);
  } finally {
    await db.close();
  }
  const tableUrl = `${server.url}/projects/*/models`;

  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
  ctx.onCleanup(() => browser.close());
  // One context for all runs: its HTTP cache keeps the app's scripts, as a returning user's browser does.
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  await context.addCookies([{ name: AUTH_COOKIE, value: api.token, url: server.url, httpOnly: true, sameSite: 'Lax' }]);
  // Every chart of the page exists, and those in the window are drawn.
  const screenDrawn = `(() => {
    const plots = [...document.querySelectorAll('.plot')];
    if (plots.length !== ${PLOTS}) return false;
    const inView = plots.filter((p) => { const r = p.getBoundingClientRect(); return r.top < innerHeight && r.bottom > 0; });
    return inView.length > 0 && inView.every((p) => p.getAttribute('data-rendered') === 'true');
  })()`;
  const allDrawn = `document.querySelectorAll('.plot[data-rendered="true"]').length === ${PLOTS}`;
  const tableShown = `document.querySelectorAll('table.models-table tbody tr[data-model-id]').length >= ${TABLE_ROWS}`;
  // Not counted: the first load fills the browser's cache with the app and plotly.
  await timeUntil(context, modelUrl, [screenDrawn, allDrawn]);
  await timeUntil(context, tableUrl, [tableShown]);

  const interactive: number[] = [];
  const all: number[] = [];
  const longest: number[] = [];
  const table: number[] = [];
  for (let run = 1; run <= runs; run++) {
    const model = await timeUntil(context, modelUrl, [screenDrawn, allDrawn]);
    interactive.push(model.times[0]!);
    all.push(model.times[1]!);
    longest.push(model.longestTaskAfter);
    const list = await timeUntil(context, tableUrl, [tableShown]);
    table.push(list.times[0]!);
    ctx.log(`run ${run}: model page: charts in view ${model.times[0]!.toFixed(0)} ms, all ${PLOTS} ${model.times[1]!.toFixed(0)} ms, longest task after ${model.longestTaskAfter.toFixed(0)} ms; models table ${list.times[0]!.toFixed(0)} ms`);
  }
  return {
    params: { models, plots: PLOTS, pointsPerPlot: points, runs, viewport: '1440x900', browser: 'Debian Chromium, headless, no GPU' },
    figures: [
      atMost('P7.interactive', measured('model page interactive: the charts in the window drawn, next frame', summarize(interactive), 'ms'), MAX_INTERACTIVE_MS, `≤ ${MAX_INTERACTIVE_MS} ms`),
      reported('P7.all-plots', measured(`model page: all ${PLOTS} charts drawn`, summarize(all), 'ms')),
      reported('P7.longest-task', worst('longest task once interactive (input delay bound, worst run)', longest, 'ms')),
      reported('P7.models-table', measured(`models table (all projects, ${models} models): first ${TABLE_ROWS} rows shown`, summarize(table), 'ms')),
    ],
  };
});
