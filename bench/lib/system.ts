/** Files, memory sampling and the PostgreSQL cluster, as the benchmarks need them. */
import { spawnSync } from 'node:child_process';
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { repoRoot } from './processes.js';

/** Block size for writing test files: big enough for throughput, small enough to keep memory flat. */
const WRITE_BLOCK = 4 * 1024 * 1024;

/** Writes `size` random bytes to `file` (incompressible, like weights) and returns their SHA-256. */
export function writeRandomFile(file: string, size: number): string {
  const hash = createHash('sha256');
  const block = Buffer.alloc(WRITE_BLOCK);
  const fd = openSync(file, 'w');
  try {
    for (let left = size; left > 0; left -= WRITE_BLOCK) {
      const chunk = randomFillSync(block).subarray(0, Math.min(WRITE_BLOCK, left));
      hash.update(chunk);
      writeSync(fd, chunk);
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** How often memory is sampled: short enough to see a buffer that lives for one chunk. */
const RSS_SAMPLE_MS = 20;

/** Samples a resident set size (this process by default) until stopped; reports the peak. */
export class RssSampler {
  peak: number;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly read: () => number = () => process.memoryUsage().rss) {
    this.peak = read();
    this.timer = setInterval(() => this.sample(), RSS_SAMPLE_MS);
  }

  sample(): void {
    this.peak = Math.max(this.peak, this.read());
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}

/** Collects garbage when the process runs with --expose-gc, so baselines are the steady state. */
export function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** The URL of the throw-away PostgreSQL cluster of the tests (started when it is not running). */
export function postgresUrl(): string {
  const run = spawnSync('bash', [path.join(repoRoot, 'scripts/pg-test-cluster.sh')], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`PostgreSQL could not be started: ${run.stderr}`);
  return run.stdout.trim().split('\n').pop()!;
}

export async function dropSchema(databaseUrl: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema.replaceAll('"', '')}" cascade`);
  } finally {
    await client.end();
  }
}
