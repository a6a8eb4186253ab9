/**
 * The frame of every benchmark script: reads `--quick` and `--out FILE`, runs the workload, always runs the
 * cleanups it registered (servers, emulators, temporary folders), and writes its result as JSON to `--out`
 * (or stdout). A failing workload still writes a result, with `error` set, and exits non-zero.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Figure, WorkloadResult } from './result.js';

export interface WorkloadContext {
  /** Small sizes: checks that the benchmark works, not the targets. */
  quick: boolean;
  /** Repetitions: `full` normally, 1 with --quick, or what `--runs N` says (for profiling one run). */
  runs(full: number): number;
  /** A fresh temporary folder, removed when the workload ends. */
  tempDir(label: string): string;
  /** Runs at the end, last registered first, whatever happened. */
  onCleanup(fn: () => unknown): void;
  /** Progress for whoever watches the run (stderr; stdout may carry the result). */
  log(message: string): void;
}

export interface WorkloadOutput {
  params: Record<string, unknown>;
  figures: Figure[];
  notes?: string[];
}

const cleanups: (() => unknown)[] = [];

async function runCleanups(): Promise<void> {
  while (cleanups.length) {
    const fn = cleanups.pop()!;
    try {
      await fn();
    } catch (err) {
      process.stderr.write(`cleanup failed: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
}

export async function runWorkload(id: string, title: string, body: (ctx: WorkloadContext) => Promise<WorkloadOutput>): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const outAt = args.indexOf('--out');
  const out = outAt >= 0 ? args[outAt + 1] : undefined;
  const runsAt = args.indexOf('--runs');
  const runsOverride = runsAt >= 0 ? Number(args[runsAt + 1]) : undefined;
  const started = performance.now();
  const loadStart = os.loadavg()[0]!;
  const ctx: WorkloadContext = {
    quick,
    runs: (full) => runsOverride ?? (quick ? 1 : full),
    tempDir(label) {
      const dir = mkdtempSync(path.join(os.tmpdir(), `cairn-bench-${label}-`));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      return dir;
    },
    onCleanup(fn) {
      cleanups.push(fn);
    },
    log(message) {
      process.stderr.write(`[${id}] ${message}\n`);
    },
  };
  // An interrupted run still stops its servers and removes its folders.
  const interrupted = (signal: NodeJS.Signals) => {
    void runCleanups().finally(() => process.kill(process.pid, signal));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  let result: WorkloadResult;
  try {
    const output = await body(ctx);
    result = { id, title, params: output.params, figures: output.figures, notes: output.notes ?? [], quick, durationMs: 0, load: { start: loadStart, end: 0 } };
  } catch (err) {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    ctx.log(`failed: ${message}`);
    result = { id, title, params: {}, figures: [], notes: [], quick, durationMs: 0, load: { start: loadStart, end: 0 }, error: message };
  } finally {
    await runCleanups();
  }
  result.durationMs = Math.round(performance.now() - started);
  result.load.end = os.loadavg()[0]!;
  const text = `${JSON.stringify(result, null, 2)}\n`;
  if (out) writeFileSync(out, text);
  else process.stdout.write(text);
  // Everything was stopped above; idle keep-alive sockets of HTTP clients must not hold the process.
  process.exit(result.error ? 1 : 0);
}
