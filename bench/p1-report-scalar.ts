/**
 * P1: one million `reportScalar` calls on a task's logger, then `flush()`, against a Cairn server on SQLite in
 * its own process. Reference, measured in the same run: the same rows (same table, same indexes, same
 * pragmas) inserted with raw better-sqlite3, one prepared statement in transactions of one request's batch.
 *
 * Figures: events stored per second, end to end (first call to `flush()` resolved, every event counted in
 * the server's database afterwards), as a fraction of the raw insert rate; and the caller's cost per call:
 * the time spent inside `reportScalar` itself, i.e. the synchronous stretches of the loop, not the waits for
 * room in the bounded queue.
 */
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Session, Task } from '@cairn/sdk';
import { openDatabase } from '../packages/server/src/db/database.js';
import { MAX_EVENTS_PER_REQUEST } from '../packages/sdk/src/reporting/pipeline.js';
import { runWorkload, type WorkloadContext } from './lib/runner.js';
import { startCairn } from './lib/processes.js';
import { summarize } from './lib/stats.js';
import { atMost, measured, ratioFigure } from './lib/result.js';

const METRICS = 10;
const VARIANTS = 10;
/** Target: at least half the raw insert rate. */
const MIN_RATIO = 0.5;
/** Target: the caller pays at most this per call (µs). */
const MAX_CALLER_US = 2;

interface Row {
  company: string;
  id: string;
  type: string;
  task: string;
  model_event: number;
  iter: number;
  metric: string;
  variant: string;
  value: number;
  timestamp: number;
  written: number;
  worker: string;
}

/** The n-th reported point: metric m/variant v at iteration i, spread over 10 × 10 series. */
function point(n: number): { metric: string; variant: string; iter: number; value: number } {
  const series = n % (METRICS * VARIANTS);
  return { metric: `metric-${Math.floor(series / VARIANTS)}`, variant: `variant-${series % VARIANTS}`, iter: Math.floor(n / (METRICS * VARIANTS)), value: Math.sin(n) };
}

/** The rows the server stores for those points (its document id is md5 of entity-iter-metric-variant). */
function rowsFor(count: number, company: string, task: string): Row[] {
  const now = Date.now();
  const rows: Row[] = new Array(count);
  for (let n = 0; n < count; n++) {
    const p = point(n);
    const id = createHash('md5').update(`${task}-${p.iter}-${p.metric}-${p.variant}`).digest('hex');
    rows[n] = { company, id, type: 'training_stats_scalar', task, model_event: 0, iter: p.iter, metric: p.metric, variant: p.variant, value: p.value, timestamp: now, written: now, worker: 'bench' };
  }
  return rows;
}

/** Raw insert rate (rows/s) of `rows` into a fresh database with the server's schema. */
async function rawInsertRate(ctx: WorkloadContext, rows: Row[]): Promise<number> {
  const dir = ctx.tempDir('p1-raw');
  // The server's own migrations make the table and its indexes.
  const db = await openDatabase({ dataDir: dir });
  await db.close();
  const sqlite = new Database(path.join(dir, 'cairn.sqlite'));
  try {
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    const insert = sqlite.prepare(
      'insert into events (company, id, type, task, model_event, iter, metric, variant, value, timestamp, written, worker) values (@company, @id, @type, @task, @model_event, @iter, @metric, @variant, @value, @timestamp, @written, @worker)',
    );
    const batch = sqlite.transaction((part: Row[]) => {
      for (const row of part) insert.run(row);
    });
    const t0 = performance.now();
    for (let i = 0; i < rows.length; i += MAX_EVENTS_PER_REQUEST) batch(rows.slice(i, i + MAX_EVENTS_PER_REQUEST));
    const ms = performance.now() - t0;
    const stored = (sqlite.prepare('select count(*) as n from events').get() as { n: number }).n;
    if (stored !== rows.length) throw new Error(`raw insert stored ${stored} of ${rows.length} rows`);
    return rows.length / (ms / 1000);
  } finally {
    sqlite.close();
  }
}

/** One SDK run: `count` reportScalar calls and a flush; the events are counted in the server's database afterwards. */
async function sdkRun(ctx: WorkloadContext, count: number): Promise<{ rate: number; callerUs: number }> {
  const dataDir = ctx.tempDir('p1-server');
  const server = await startCairn({ dataDir });
  try {
    const session = new Session({ apiHost: server.apiUrl, filesHost: server.filesUrl, accessKey: server.accessKey, secretKey: server.secretKey, env: {}, cacheDir: ctx.tempDir('p1-cache') });
    const task = await Task.init({ projectName: 'Bench', taskName: `report-${randomBytes(3).toString('hex')}`, session, outputUri: false });
    const logger = task.getLogger();
    // Warm-up: one small flushed batch, so connections and code paths exist before the clock starts.
    logger.reportScalar('warm-up', 'warm-up', 0, 0);
    await task.flush();

    let syncMs = 0;
    const t0 = performance.now();
    let stretch = t0;
    for (let n = 0; n < count; n++) {
      const p = point(n);
      const wait = logger.reportScalar(p.metric, p.variant, p.value, p.iter);
      if (wait) {
        // The queue is full: the caller waits for room; that wait is not the call's cost.
        syncMs += performance.now() - stretch;
        await wait;
        stretch = performance.now();
      }
    }
    syncMs += performance.now() - stretch;
    await task.flush();
    const ms = performance.now() - t0;
    await task.close();

    // Stored, not just sent: count them where the server keeps them.
    const sqlite = new Database(path.join(dataDir, 'cairn.sqlite'), { readonly: true });
    try {
      const stored = (sqlite.prepare("select count(*) as n from events where task = ? and metric != 'warm-up'").get(task.id) as { n: number }).n;
      if (stored !== count) throw new Error(`the server stored ${stored} of ${count} events`);
    } finally {
      sqlite.close();
    }
    return { rate: count / (ms / 1000), callerUs: (syncMs * 1000) / count };
  } finally {
    await server.stop();
  }
}

await runWorkload('P1', '1,000,000 reportScalar calls, then flush() (SQLite)', async (ctx) => {
  const count = ctx.quick ? 20_000 : 1_000_000;
  const runs = ctx.runs(3);
  const rows = rowsFor(count, randomBytes(16).toString('hex'), randomBytes(16).toString('hex'));
  const raw: number[] = [];
  const sdk: number[] = [];
  const caller: number[] = [];
  // Reference and SDK runs alternate, so both see the same machine load.
  for (let run = 1; run <= runs; run++) {
    raw.push(await rawInsertRate(ctx, rows));
    ctx.log(`run ${run}: raw insert ${Math.round(raw.at(-1)!)} rows/s`);
    const r = await sdkRun(ctx, count);
    sdk.push(r.rate);
    caller.push(r.callerUs);
    ctx.log(`run ${run}: SDK ${Math.round(r.rate)} events/s, caller ${r.callerUs.toFixed(2)} µs/call`);
  }
  const reference = measured('raw batched better-sqlite3 insert', summarize(raw), 'rows/s');
  return {
    params: { events: count, series: METRICS * VARIANTS, runs, batchRows: MAX_EVENTS_PER_REQUEST },
    figures: [
      ratioFigure('P1.rate', measured('reportScalar → stored (end to end)', summarize(sdk), 'events/s'), reference, MIN_RATIO),
      atMost('P1.caller', measured('caller cost per reportScalar call', summarize(caller), 'µs'), MAX_CALLER_US, `≤ ${MAX_CALLER_US} µs`),
    ],
  };
});
