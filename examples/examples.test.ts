import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestServer, testDialects, type TestServer } from '@cairn/server/test-harness';

/** Runs an example as its own process against the server; resolves to its printed `key: value` lines. */
async function run(script: string, env: Record<string, string>): Promise<Record<string, string>> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, script)], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, `${script} failed:\n${err}\n${out}`);
  return Object.fromEntries(out.trim().split('\n').map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]));
}

for (const dialect of testDialects()) {
  describe(`examples against a real server (${dialect})`, () => {
    let s: TestServer;
    const home = mkdtempSync(path.join(os.tmpdir(), 'cairn-examples-'));
    before(async () => {
      s = await startTestServer({ dialect });
    });
    after(async () => {
      await s.stop();
      rmSync(home, { recursive: true, force: true });
    });

    it('train.ts registers and publishes a model; consume.ts finds it, downloads it and reads it', { timeout: 120_000 }, async () => {
      const env = {
        HOME: home,
        TMPDIR: home,
        CLEARML_CACHE_DIR: path.join(home, 'cache'),
        CLEARML_API_HOST: s.apiUrl,
        CLEARML_FILES_HOST: s.filesUrl,
        CLEARML_API_ACCESS_KEY: s.accessKey,
        CLEARML_API_SECRET_KEY: s.secretKey,
      };
      const trained = await run('train.ts', env);
      const expectedSha = createHash('sha256').update(Buffer.alloc(1024 * 1024, 'cairn')).digest('hex');
      assert.match(trained['model id'], /^[0-9a-f]{32}$/);
      assert.equal(trained.url, `${s.filesUrl}/Examples/train-example.${trained.url.split('train-example.')[1].split('/')[0]}/models/classifier.pt`);
      assert.equal(trained.announced, trained.url);
      assert.equal(trained.sha256, expectedSha);
      assert.equal(trained.size, String(1024 * 1024));
      assert.equal(trained.published, 'true');
      assert.deepEqual(JSON.parse(trained.metadata), { accuracy: 0.93, epochs: 5, arch: 'resnet18', augment: true });

      const consumed = await run('consume.ts', env);
      assert.equal(consumed['model id'], trained['model id']);
      assert.equal(consumed.name, 'example-classifier');
      assert.equal(consumed['recorded sha256'], expectedSha);
      assert.equal(consumed['file sha256'], expectedSha);
      assert.ok(consumed.file.startsWith(path.join(home, 'cache')), 'downloaded into the cache');
      assert.deepEqual(JSON.parse(consumed.labels), { background: 0, cat: 1, dog: 2 });
      assert.deepEqual(JSON.parse(consumed.config), { optimizer: { name: 'adam', lr: 0.001 }, layers: [64, 32, 10], dropout: 0.25 });
      assert.deepEqual(JSON.parse(consumed.metadata), { accuracy: 0.93, epochs: 5, arch: 'resnet18', augment: true });
    });
  });
}
