import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { operations } from '@cairn/protocol';
import { startTestServer, testDialects, type TestServer } from '../../../test/harness.js';

/** One series of a million points. */
const POINTS = 1_000_000;
/** A loaded CI machine must still answer well within this. */
const MAX_HISTOGRAM_MS = 10_000;

for (const dialect of testDialects()) {
  describe(`scalar histogram over ${POINTS.toLocaleString('en')} points (${dialect})`, () => {
    let s: TestServer;
    let task: string;
    before(async () => {
      s = await startTestServer({ dialect });
      task = (await s.ok(operations.tasks.create, { name: 'a million points', type: 'training' })).id;
      const { company } = await s.server.services.db.kysely.selectFrom('tasks').select('company').where('id', '=', task).executeTakeFirstOrThrow();
      // Written straight into the events table in one statement: this test is about reading.
      const started = performance.now();
      await sql`
        with recursive n(i) as (select 0 union all select i + 1 from n where i < ${POINTS - 1})
        insert into events (company, id, type, task, model_event, iter, metric, variant, value, timestamp, written, worker)
        select ${company}, 'p' || i, 'training_stats_scalar', ${task}, 0, i, 'loss', 'train', i % 100, cast(${1_700_000_000_000} as bigint) + i, cast(${Date.now()} as bigint), null from n`.execute(s.server.services.db.kysely);
      // PostgreSQL's autovacuum would analyze a table after such an insert; the test does it at once.
      if (dialect === 'postgres') await sql`analyze events`.execute(s.server.services.db.kysely);
      console.log(`# ${dialect}: stored ${POINTS} points in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    });
    after(() => s.stop());

    it('returns `samples` averaged points, computed in the database', async () => {
      for (const samples of [2000, 500]) {
        const started = performance.now();
        const data = await s.ok(operations.events.scalar_metrics_iter_histogram, { task, samples });
        const ms = performance.now() - started;
        console.log(`# ${dialect}: histogram of ${POINTS} points into ${samples} samples took ${ms.toFixed(0)} ms`);
        const series = data.loss!.train!;
        assert.equal(series.x.length, samples);
        assert.equal(series.y.length, samples);
        const interval = POINTS / samples;
        assert.deepEqual(series.x.slice(0, 3), [0, interval, 2 * interval]);
        // values cycle through 0..99 and every bucket holds whole cycles
        assert.ok(series.y.every((y) => y === 49.5));
        assert.ok(ms < MAX_HISTOGRAM_MS, `histogram took ${ms} ms`);
      }
      // Raw pages (the CSV export) start where the last one ended, however deep.
      let raw = await s.ok(operations.events.scalar_metrics_iter_raw, { task, metric: { metric: 'loss', variants: ['train'] }, batch_size: 100_000, count_total: true });
      assert.equal(raw.total, POINTS);
      const started = performance.now();
      for (let page = 1; page < 10; page++) raw = await s.ok(operations.events.scalar_metrics_iter_raw, { task, metric: { metric: 'loss', variants: ['train'] }, scroll_id: raw.scroll_id! });
      console.log(`# ${dialect}: 9 more raw pages of 100,000 points took ${(performance.now() - started).toFixed(0)} ms`);
      assert.deepEqual(raw.variants.train!.iter!.slice(-2), [POINTS - 2, POINTS - 1]);
    });
  });
}
