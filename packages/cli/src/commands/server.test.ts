/**
 * `cairn server` run as users start it: from the sources (`npx cairn`, compiled by tsx at start) and compiled
 * ahead (`npm start` runs scripts/build-cli.mjs, then packages/cli/dist/main.js). Both print the key pair and a
 * ready clearml.conf on the first start, only where the credentials are on later starts, and serve the API and
 * the web app on one port.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SOURCE_CLI } from '../../test/run-cli.js';

const repoRoot = path.resolve(import.meta.dirname, '../../../..');
/** A start that takes longer than this is stuck (tsx may be compiling every source on a cold cache). */
const START_TIMEOUT_MS = 60_000;

interface Started {
  child: ChildProcess;
  url: string;
  output: string;
}

function startServer(cli: string, dataDir: string): Promise<Started> {
  const child = spawn(process.execPath, [cli, 'server', '--port', '0', '--data', dataDir], {
    env: { PATH: process.env.PATH ?? '', HOME: dataDir, CAIRN_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Cairn is running at (http:\/\/\S+)/.exec(output);
      // Wait for the banner's end: the snippet's closing brace, or the line saying where the credentials are.
      if (match && /(\n}\n|Admin credentials from the first start are in .*\n)/.test(output.slice(match.index))) {
        clearTimeout(timer);
        resolve({ child, url: match[1]!, output });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`cairn server exited with ${code}:\n${output}`));
    });
  });
}

async function stopServer(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  return exited;
}

function checkServer(name: string, cli: () => string) {
  describe(`cairn server (${name})`, () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'cairn-server-cli-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('first start prints the key pair in a clearml.conf that logs in; serves the API, the web app and /health; a restart prints only where the credentials are', async () => {
      const dataDir = path.join(dir, 'data');
      const first = await startServer(cli(), dataDir);
      try {
        const access = /access_key: "([^"]+)"/.exec(first.output)?.[1];
        const secret = /secret_key: "([^"]+)"/.exec(first.output)?.[1];
        assert.ok(access && secret, `the first start prints a key pair:\n${first.output}`);
        assert.match(first.output, new RegExp(`api_server: ${first.url}/api\\n`));
        assert.match(first.output, new RegExp(`files_server: ${first.url}/files\\n`));

        const login = await fetch(`${first.url}/api/auth.login`, { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${access}:${secret}`).toString('base64')}` } });
        assert.equal(login.status, 200);
        const { data } = (await login.json()) as { data: { token: string } };
        const info = await fetch(`${first.url}/api/v2.23/server.info`, { method: 'POST', headers: { authorization: `Bearer ${data.token}` } });
        assert.equal(info.status, 200);

        assert.deepEqual(await (await fetch(`${first.url}/health`)).json(), { status: 'ok' });
        for (const page of ['/', '/projects/*/models']) {
          const res = await fetch(`${first.url}${page}`);
          assert.equal(res.status, 200, page);
          assert.match(await res.text(), /<div id="root">/, `${page} answers with the web app`);
        }
      } finally {
        assert.equal(await stopServer(first.child), 0, 'SIGTERM stops the server cleanly');
      }

      const again = await startServer(cli(), dataDir);
      try {
        assert.doesNotMatch(again.output, /secret_key/, 'keys are shown once');
        assert.ok(again.output.includes(path.join(dataDir, 'credentials.json')), `a restart says where the credentials are:\n${again.output}`);
      } finally {
        await stopServer(again.child);
      }
    });
  });
}

checkServer('from the sources, as npx cairn runs it', () => SOURCE_CLI);

let compiled = '';
checkServer('compiled ahead, as npm start runs it', () => compiled);

before(() => {
  assert.ok(existsSync(path.join(repoRoot, 'packages/web/dist/index.html')), 'the test runner builds the web app first');
  // Inside the repository, so the compiled files find the npm packages in its node_modules.
  const outDir = path.join(repoRoot, '.tmp', `cli-build-${process.pid}`);
  mkdirSync(path.dirname(outDir), { recursive: true });
  const build = spawnSync(process.execPath, [path.join(repoRoot, 'scripts/build-cli.mjs'), outDir], { encoding: 'utf8' });
  assert.equal(build.status, 0, `scripts/build-cli.mjs failed:\n${build.stderr}`);
  compiled = path.join(outDir, 'main.js');
});
after(() => rmSync(path.join(repoRoot, '.tmp', `cli-build-${process.pid}`), { recursive: true, force: true }));
