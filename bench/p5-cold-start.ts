/**
 * P5: `cairn server` (the CLI, as a user starts it) from spawn to its first answered request, and its
 * resident memory once idle. Two cases: the first start on an empty data folder (database created, secrets
 * and admin generated) and a restart on that folder. Each start is a new process; the first one (not counted)
 * warms the transpiler cache, as any start after an install does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
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
const CLI = path.join(repoRoot, 'packages/cli/bin/cairn.js');

interface Started {
  child: ChildProcess;
  url: string;
  ms: number;
  output: string;
}

/** Spawns `cli` (the shipped one by default) as `cairn server` and resolves once it answered GET /health; `ms` counts from the spawn. */
async function start(dataDir: string, cli = CLI): Promise<Started> {
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

/**
 * The CLI compiled into one JavaScript file with esbuild (the project's own sources; packages stay in
 * node_modules): what a build step would give instead of compiling TypeScript through tsx at every start.
 * Not how Cairn ships; measured to show what the loader costs.
 */
async function compileCli(outdir: string): Promise<string> {
  const esbuild = await import('esbuild');
  await esbuild.build({
    entryPoints: [path.join(repoRoot, 'packages/cli/src/main.ts')],
    bundle: true,
    // Each command stays its own chunk, loaded when it runs, as in the sources.
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outdir,
    logLevel: 'warning',
    plugins: [
      {
        name: 'packages-external',
        setup(build) {
          build.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@cairn/') ? undefined : { path: args.path, external: true }));
        },
      },
    ],
  });
  return path.join(outdir, 'main.js');
}

await runWorkload('P5', 'server cold start to first answered request; idle RSS', async (ctx) => {
  const runs = ctx.runs(5);
  const firstMs: number[] = [];
  const restartMs: number[] = [];
  const rss: number[] = [];
  // Not counted: tsx transpiles the sources once and keeps them in its cache.
  const warm = ctx.tempDir('p5-warm-up');
  await stop((await start(warm)).child);

  for (let run = 1; run <= runs; run++) {
    const dataDir = path.join(ctx.tempDir('p5'), 'data');
    const first = await start(dataDir);
    firstMs.push(first.ms);
    rss.push(await idleRss(first));
    await stop(first.child);
    const again = await start(dataDir);
    restartMs.push(again.ms);
    await stop(again.child);
    rmSync(path.dirname(dataDir), { recursive: true, force: true });
    ctx.log(`run ${run}: first start ${first.ms.toFixed(0)} ms, restart ${again.ms.toFixed(0)} ms, idle RSS ${(rss.at(-1)! / 1e6).toFixed(1)} MB`);
  }

  // The same, compiled ahead: what the tsx loader costs.
  // Packages resolve from the repository's node_modules, so the compiled files sit inside it.
  const compiledDir = path.join(repoRoot, 'node_modules', `.cairn-bench-${process.pid}`);
  ctx.onCleanup(() => rmSync(compiledDir, { recursive: true, force: true }));
  const bundledCli = await compileCli(compiledDir);
  const bundledMs: number[] = [];
  const bundledRss: number[] = [];
  for (let run = 1; run <= runs; run++) {
    const dataDir = path.join(ctx.tempDir('p5-bundled'), 'data');
    const first = await start(dataDir, bundledCli);
    bundledRss.push(await idleRss(first));
    await stop(first.child);
    const again = await start(dataDir, bundledCli);
    bundledMs.push(again.ms);
    await stop(again.child);
    rmSync(path.dirname(dataDir), { recursive: true, force: true });
    ctx.log(`run ${run}: compiled ahead: restart ${again.ms.toFixed(0)} ms, idle RSS ${(bundledRss.at(-1)! / 1e6).toFixed(1)} MB`);
  }
  return {
    params: { runs, idleMs: IDLE_MS, command: 'node packages/cli/bin/cairn.js server --port 0 --data DIR (SQLite)' },
    figures: [
      atMost('P5.first-start', measured('first start (empty data folder) to first answer', summarize(firstMs), 'ms'), MAX_START_MS, `≤ ${MAX_START_MS} ms`),
      atMost('P5.restart', measured('restart to first answer', summarize(restartMs), 'ms'), MAX_START_MS, `≤ ${MAX_START_MS} ms`),
      atMost('P5.idle-rss', worst('idle RSS after a login and a list call (worst run)', rss.map((b) => b / 1e6), 'MB'), MAX_IDLE_RSS_MB, `≤ ${MAX_IDLE_RSS_MB} MB`),
      reported('P5.compiled-restart', measured('restart, CLI compiled ahead with esbuild (not shipped)', summarize(bundledMs), 'ms')),
      reported('P5.compiled-idle-rss', worst('idle RSS, CLI compiled ahead with esbuild (not shipped)', bundledRss.map((b) => b / 1e6), 'MB')),
    ],
    notes: ['clearml-server needs 8 GB of memory at minimum (its own documentation).'],
  };
});
