/**
 * P5: `cairn server` from spawn to its first answered request, and its resident memory once idle, as `npm start`
 * runs it (the CLI compiled ahead by scripts/build-cli.mjs); `npx cairn`, which compiles the sources through tsx
 * at every start, is reported beside it. Two cases: the first start on an empty data folder (database created,
 * secrets and admin generated) and a restart on that folder. Each start is a new process; the first one (not
 * counted) warms the disk and transpiler caches, as any start after an install does.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { runWorkload } from './lib/runner.js';
import { repoRoot, rssOf } from './lib/processes.js';
import { summarize } from './lib/stats.js';
import { atMost, measured, reported, worst } from './lib/result.js';

const MAX_START_MS = 1000;
const MAX_IDLE_RSS_MB = 150;
/** How long the server sits idle (after a login and a list call) before its memory is read. */
const IDLE_MS = 3000;
/** A start that takes longer than this is a failure, not a slow figure. */
const START_TIMEOUT_MS = 30_000;
/** The CLI from its sources, as `npx cairn` starts it. */
const SOURCE_CLI = path.join(repoRoot, 'packages/cli/bin/cairn.js');

interface Started {
  child: ChildProcess;
  url: string;
  ms: number;
  output: string;
}

/** Spawns `cli` as `cairn server` and resolves once it answered GET /health; `ms` counts from the spawn. */
async function start(dataDir: string, cli: string): Promise<Started> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [cli, 'server', '--port', '0', '--data', dataDir], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CAIRN_LOG_LEVEL: 'warn' } });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Cairn is running at (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`cairn server exited (${code}):\n${output}`));
    });
  });
  const res = await fetch(`${url}/health`);
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`/health answered ${res.status}`);
  return { child, url, ms: performance.now() - t0, output };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Logs in with the printed key pair and lists models, as a first client would, then waits and reads the RSS. */
async function idleRss(started: Started): Promise<number> {
  const access = /access_key: "([^"]+)"/.exec(started.output)?.[1];
  const secret = /secret_key: "([^"]+)"/.exec(started.output)?.[1];
  if (!access || !secret) throw new Error('the first start printed no key pair');
  const login = await fetch(`${started.url}/api/auth.login`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${access}:${secret}`).toString('base64')}` } });
  const { data } = (await login.json()) as { data: { token: string } };
  const list = await fetch(`${started.url}/api/v2.23/models.get_all_ex`, { method: 'POST', headers: { authorization: `Bearer ${data.token}`, 'content-type': 'application/json' }, body: '{"page":0,"page_size":50}' });
  if (!list.ok) throw new Error(`models.get_all_ex answered ${list.status}`);
  await list.arrayBuffer();
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
  return rssOf(started.child.pid!);
}

/** Builds the CLI as `npm start` does (scripts/build-cli.mjs) into `outDir`, and returns its entry point. */
function buildCli(outDir: string): string {
  const build = spawnSync(process.execPath, [path.join(repoRoot, 'scripts/build-cli.mjs'), outDir], { encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`scripts/build-cli.mjs failed:\n${build.stderr}`);
  return path.join(outDir, 'main.js');
}

/** First start, idle RSS and restart of `cli`, `runs` times. */
async function measureCli(ctx: { tempDir(name: string): string; log(line: string): void }, cli: string, runs: number, label: string) {
  const firstMs: number[] = [];
  const restartMs: number[] = [];
  const rss: number[] = [];
  // Not counted: a first start warms the disk cache (and tsx's transpile cache), as any start after an install does.
  const warm = ctx.tempDir('p5-warm-up');
  await stop((await start(warm, cli)).child);
  for (let run = 1; run <= runs; run++) {
    const dataDir = path.join(ctx.tempDir('p5'), 'data');
    const first = await start(dataDir, cli);
    firstMs.push(first.ms);
    rss.push(await idleRss(first));
    await stop(first.child);
    const again = await start(dataDir, cli);
    restartMs.push(again.ms);
    await stop(again.child);
    rmSync(path.dirname(dataDir), { recursive: true, force: true });
    ctx.log(`run ${run} (${label}): first start ${first.ms.toFixed(0)} ms, restart ${again.ms.toFixed(0)} ms, idle RSS ${(rss.at(-1)! / 1e6).toFixed(1)} MB`);
  }
  return { firstMs, restartMs, rss };
}

await runWorkload('P5', 'server cold start to first answered request; idle RSS', async (ctx) => {
  const runs = ctx.runs(5);
  // Inside the repository, so the compiled files find the npm packages in its node_modules.
  const compiledDir = path.join(repoRoot, '.tmp', `bench-cli-${process.pid}`);
  ctx.onCleanup(() => rmSync(compiledDir, { recursive: true, force: true }));
  const shipped = await measureCli(ctx, buildCli(compiledDir), runs, 'npm start');
  const sources = await measureCli(ctx, SOURCE_CLI, runs, 'npx cairn');
  const mb = (bytes: number[]) => bytes.map((b) => b / 1e6);
  return {
    params: { runs, idleMs: IDLE_MS, command: 'cairn server --port 0 --data DIR (SQLite), compiled ahead as npm start runs it; npx cairn compiles the sources through tsx at start' },
    figures: [
      atMost('P5.first-start', measured('first start (empty data folder) to first answer', summarize(shipped.firstMs), 'ms'), MAX_START_MS, `≤ ${MAX_START_MS} ms`),
      atMost('P5.restart', measured('restart to first answer', summarize(shipped.restartMs), 'ms'), MAX_START_MS, `≤ ${MAX_START_MS} ms`),
      atMost('P5.idle-rss', worst('idle RSS after a login and a list call (worst run)', mb(shipped.rss), 'MB'), MAX_IDLE_RSS_MB, `≤ ${MAX_IDLE_RSS_MB} MB`),
      reported('P5.npx-first-start', measured('npx cairn (sources through tsx): first start', summarize(sources.firstMs), 'ms')),
      reported('P5.npx-restart', measured('npx cairn (sources through tsx): restart', summarize(sources.restartMs), 'ms')),
      reported('P5.npx-idle-rss', worst('npx cairn (sources through tsx): idle RSS (worst run)', mb(sources.rss), 'MB')),
    ],
    notes: ['clearml-server needs 8 GB of memory at minimum (its own documentation).'],
  };
});
