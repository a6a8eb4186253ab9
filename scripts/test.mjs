#!/usr/bin/env node
// Runs every test file with Node's test runner (through tsx), on SQLite and, when a PostgreSQL
// cluster can be started, on PostgreSQL too. Fails when no test ran: Node 20 silently runs zero
// .ts tests when handed a folder, so the files are listed explicitly.
import { spawnSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, mkdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';

const root = path.resolve(import.meta.dirname, '..');
const args = process.argv.slice(2);
const filters = args.filter((a) => !a.startsWith('--'));

function findTests(dir, out = []) {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) findTests(full, out);
    else if (entry.name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

let files = [...findTests(path.join(root, 'packages')), ...findTests(path.join(root, 'examples'))].sort();
if (filters.length) files = files.filter((f) => filters.some((p) => f.includes(p)));
if (!files.length) {
  console.error('no test files found');
  process.exit(1);
}

const env = { ...process.env };
if (!env.CAIRN_TEST_DATABASE_URL && env.CAIRN_TEST_POSTGRES !== '0') {
  const pg = spawnSync('bash', [path.join(root, 'scripts/pg-test-cluster.sh')], { encoding: 'utf8' });
  if (pg.status === 0 && pg.stdout.trim()) {
    env.CAIRN_TEST_DATABASE_URL = pg.stdout.trim().split('\n').pop();
    console.log(`PostgreSQL for tests: ${env.CAIRN_TEST_DATABASE_URL}`);
  } else {
    console.warn(`\n*** PostgreSQL could not be started; database tests run on SQLite only.\n${pg.stderr}\n`);
  }
}

// The browser tests and the CLI's server test load the built web app; building it takes a few seconds.
if (existsSync(path.join(root, 'packages/web/vite.config.ts')) && files.some((f) => f.includes(`${path.sep}web${path.sep}`) || f.endsWith(path.join('cli', 'src', 'commands', 'server.test.ts')))) {
  const build = spawnSync('npm', ['run', 'build:web'], { cwd: root, stdio: 'inherit', env });
  if (build.status !== 0) {
    console.error('building the web app failed');
    process.exit(1);
  }
}

const outDir = path.join(root, 'test-artifacts');
mkdirSync(outDir, { recursive: true });
const tapFile = path.join(outDir, 'results.tap');
const concurrency = Math.max(2, os.availableParallelism());
const nodeArgs = [
  '--import', 'tsx',
  '--test',
  `--test-concurrency=${concurrency}`,
  '--test-reporter=spec', '--test-reporter-destination=stdout',
  '--test-reporter=tap', `--test-reporter-destination=${tapFile}`,
  ...files,
];
const child = spawn(process.execPath, nodeArgs, { cwd: root, env, stdio: 'inherit' });
child.on('exit', (code) => {
  const tap = existsSync(tapFile) ? readFileSync(tapFile, 'utf8') : '';
  const count = (name) => Number(new RegExp(`^# ${name} (\\d+)`, 'm').exec(tap)?.[1] ?? 0);
  const tests = count('tests');
  const pass = count('pass');
  const fail = count('fail');
  console.log(`\n${pass} passed, ${fail} failed, ${tests} tests in ${files.length} files`);
  if (tests === 0) {
    console.error('no test ran');
    process.exit(1);
  }
  process.exit(code ?? 1);
});
