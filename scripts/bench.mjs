#!/usr/bin/env node
// Runs the benchmarks in bench/ one after the other, each in its own process, and writes the results:
// a full run of every workload to bench/results.json and bench/RESULTS.md; a --quick run (small sizes, a
// smoke test that the benchmarks work) or a run of some workloads (`npm run bench -- P2 P3`) to
// test-artifacts/bench/. `--render` rewrites bench/RESULTS.md from bench/results.json (after editing
// bench/analysis.md) without running anything. Fails when a benchmark fails; a missed target is a result, not a
// failure.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const benchDir = path.join(root, 'bench');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
if (args.includes('--render')) {
  const saved = JSON.parse(readFileSync(path.join(benchDir, 'results.json'), 'utf8'));
  writeFileSync(path.join(benchDir, 'RESULTS.md'), markdown(saved.machine, saved.results, saved.quick));
  console.log('bench/RESULTS.md rewritten from bench/results.json');
  process.exit(0);
}
const only = args.filter((a) => !a.startsWith('--')).map((a) => a.toUpperCase());
/** The machine's load is sampled through the run, since other work on it changes every figure. */
const LOAD_SAMPLE_MS = 10_000;
/** A workload that runs longer than this is stuck. */
const TIMEOUT_MS = (quick ? 10 : 40) * 60_000;

const scripts = readdirSync(benchDir)
  .filter((f) => /^p\d+-.+\.ts$/.test(f))
  .sort((a, b) => Number(a.slice(1, a.indexOf('-'))) - Number(b.slice(1, b.indexOf('-'))))
  .filter((f) => !only.length || only.includes(f.slice(0, f.indexOf('-')).toUpperCase()));
if (!scripts.length) {
  console.error(`no benchmark matches ${only.join(' ')}`);
  process.exit(1);
}
const complete = !quick && !only.length;
const outDir = complete ? benchDir : path.join(root, 'test-artifacts', 'bench');
mkdirSync(outDir, { recursive: true });
const workDir = path.join(os.tmpdir(), `cairn-bench-results-${process.pid}`);
mkdirSync(workDir, { recursive: true });

function run(script) {
  const out = path.join(workDir, `${script}.json`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(benchDir, script), ...(quick ? ['--quick'] : []), '--out', out], { cwd: root, stdio: 'inherit' });
    const timer = setTimeout(() => child.kill('SIGTERM'), TIMEOUT_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (existsSync(out)) resolve(JSON.parse(readFileSync(out, 'utf8')));
      else resolve({ id: script.slice(0, script.indexOf('-')).toUpperCase(), title: script, figures: [], notes: [], params: {}, error: `exited with ${code ?? signal} before writing a result` });
    });
  });
}

function git(...command) {
  const r = spawnSync('git', command, { cwd: root, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : '';
}

const cpus = os.cpus();
const machine = {
  date: new Date().toISOString(),
  cores: os.availableParallelism(),
  cpu: cpus[0]?.model ?? 'unknown',
  memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
  node: process.version,
  os: `${os.type()} ${os.release()}`,
  // The previous run's own output files do not count as changes to what is measured.
  commit: `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--', '.', ':!bench/RESULTS.md', ':!bench/results.json') ? ' (with uncommitted changes)' : ''}`,
  load: { start: os.loadavg()[0] },
};

const loadSamples = [os.loadavg()[0]];
const loadTimer = setInterval(() => loadSamples.push(os.loadavg()[0]), LOAD_SAMPLE_MS);
const started = Date.now();
const results = [];
for (const script of scripts) {
  console.log(`\n=== ${script}${quick ? ' (quick)' : ''} ===`);
  results.push(await run(script));
}
clearInterval(loadTimer);
machine.load.end = os.loadavg()[0];
machine.load.mean = loadSamples.reduce((a, b) => a + b, 0) / loadSamples.length;
machine.load.max = Math.max(...loadSamples);
machine.load.sampleSeconds = LOAD_SAMPLE_MS / 1000;
machine.minutes = Math.round((Date.now() - started) / 6000) / 10;
rmSync(workDir, { recursive: true, force: true });

writeFileSync(path.join(outDir, 'results.json'), `${JSON.stringify({ quick, machine, results }, null, 2)}\n`);
writeFileSync(path.join(outDir, 'RESULTS.md'), markdown(machine, results, quick));
const failed = results.filter((r) => r.error);
const missed = results.flatMap((r) => r.figures.filter((f) => f.met === false).map((f) => f.id));
console.log(`\n${results.length} benchmarks, ${failed.length} failed${missed.length ? `; targets missed: ${missed.join(', ')}` : '; every target met'}${quick ? ' (quick sizes: targets do not apply)' : ''}`);
console.log(`results: ${path.relative(root, path.join(outDir, 'RESULTS.md'))}`);
process.exit(failed.length ? 1 : 0);

function num(value) {
  if (value === undefined || value === null || Number.isNaN(value)) return '';
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function withUnit(m) {
  return `${num(m.value)} ${m.unit}`;
}

function spread(m) {
  if (!m.spread) return '';
  const kind = { 'min-max': 'min–max', 'p10-p90': 'p10–p90', 'p50-max': 'p50–max' }[m.spread.kind];
  return `${num(m.spread.low)}–${num(m.spread.high)} (${kind}${m.samples ? `, n=${m.samples}` : ''})`;
}

function markdown(machine, results, quick) {
  const lines = [
    '# Benchmark results',
    '',
    `Generated by \`npm run bench${quick ? ' -- --quick' : ''}\` (scripts in \`bench/\`). Every figure is measured with its reference in the same run on the same`,
    'machine, so a regression shows as a falling ratio even where absolute times drift.',
    '',
    '| machine | |',
    '|---|---|',
    `| date | ${machine.date} |`,
    `| CPU | ${machine.cores} cores, ${machine.cpu} |`,
    `| memory | ${machine.memoryGiB} GiB |`,
    `| Node | ${machine.node} |`,
    `| OS | ${machine.os} |`,
    `| commit | ${machine.commit} |`,
    `| load average (1 min) | mean ${num(machine.load.mean)}, max ${num(machine.load.max)} (sampled every ${machine.load.sampleSeconds} s); ${num(machine.load.start)} at the start, ${num(machine.load.end)} at the end; per workload below |`,
    `| duration | ${machine.minutes} min |`,
    '',
    '| id | figure | value | spread | reference | ratio | target | met |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    if (r.error) {
      lines.push(`| ${r.id} | **failed**: ${r.error.split('\n')[0]} | | | | | | ✗ |`);
      continue;
    }
    for (const f of r.figures) {
      const met = f.met === undefined ? '' : f.met ? '✓' : '**✗**';
      const reference = f.reference ? `${f.reference.label}: ${withUnit(f.reference)}${f.reference.spread ? ` (${spread(f.reference)})` : ''}` : '';
      const ratio = f.ratio === undefined ? '' : `${num(f.ratio * 100)} %`;
      lines.push(`| ${f.id} | ${f.label} | ${withUnit(f)} | ${spread(f)} | ${reference} | ${ratio} | ${f.target ?? ''} | ${met} |`);
    }
  }
  lines.push('', '## Workloads', '');
  for (const r of results) {
    lines.push(`### ${r.id}: ${r.title}`, '');
    if (r.load) lines.push(`Load average ${num(r.load.start)} → ${num(r.load.end)}; ${num((r.durationMs ?? 0) / 1000)} s.`, '');
    const params = Object.entries(r.params ?? {}).map(([k, v]) => `${k} \`${JSON.stringify(v)}\``);
    if (params.length) lines.push(`Parameters: ${params.join(', ')}.`, '');
    for (const note of r.notes ?? []) lines.push(`- ${note}`);
    if (r.notes?.length) lines.push('');
  }
  const analysis = path.join(benchDir, 'analysis.md');
  if (!quick && existsSync(analysis)) lines.push(readFileSync(analysis, 'utf8').trim(), '');
  return `${lines.join('\n')}\n`;
}
