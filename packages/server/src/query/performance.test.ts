import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { operations } from '@cairn/protocol';
import { startTestServer, testDialects, type TestServer } from '../../test/harness.js';
import { insertModels, type ModelSeed } from '../../test/seed-models.js';
import { newId } from '../util/ids.js';
import { isoDate } from '../util/time.js';

/** Models in the table; the benchmark later runs the same shape of query at 100,000. */
const MODEL_COUNT = 10_000;
/** Timed repetitions of the query; the median is printed. */
const RUNS = 9;


for (const dialect of testDialects()) {
  describe(`get_all over ${MODEL_COUNT} models (${dialect})`, () => {
    let s: TestServer;
    const seeded: ModelSeed[] = [];

    before(async () => {
      s = await startTestServer({ dialect });
      const db = s.server.services.db;
      const company = (await db.kysely.selectFrom('companies').select('id').executeTakeFirstOrThrow()).id;
      const start = Date.UTC(2025, 0, 1);
      for (let i = 0; i < MODEL_COUNT; i++) {
        // Updates are spread out of creation order, so the walk in last_update order is not the insert order.
        const lastUpdate = isoDate(start + ((i * 7919) % MODEL_COUNT) * 60_000);
        const name = `model-${String(i).padStart(5, '0')}`;
        const tags = [`t${i % 4}`, i % 5 === 0 ? 'gold' : 'plain'].sort();
        seeded.push({ id: newId(), name, created: isoDate(start + i * 1000), lastUpdate, tags, archived: i % 11 === 0, framework: 'PyTorch', uri: `http://store/${name}.bin` });
      }
      await insertModels(db, company, seeded);
      if (dialect === 'postgres') await sql`analyze models`.execute(db.kysely);
    });
    after(() => s.stop());

    it('answers a name regex + tag filter + order_by with the right page of 50', async () => {
      const query = { name: '-\\d*7$', tags: ['t1', 'gold'], system_tags: ['-archived'], order_by: ['-last_update'], only_fields: ['id', 'name', 'last_update'] };
      const re = /-\d*7$/;
      const expected = seeded
        .filter((m) => re.test(m.name) && (m.tags.includes('t1') || m.tags.includes('gold')) && !m.archived)
        .sort((a, b) => (a.lastUpdate === b.lastUpdate ? (a.id < b.id ? -1 : 1) : a.lastUpdate < b.lastUpdate ? 1 : -1));
      assert.ok(expected.length > 150, 'the query matches several pages');
      for (const page of [0, 2]) {
        const times: number[] = [];
        let ids: string[] = [];
        for (let run = 0; run < RUNS; run++) {
          const t0 = performance.now();
          const res = await s.ok(operations.models.get_all, { ...query, page, page_size: 50 } as never);
          times.push(performance.now() - t0);
          ids = res.models.map((m) => m.id);
        }
        assert.deepEqual(ids, expected.slice(page * 50, page * 50 + 50).map((m) => m.id));
        times.sort((a, b) => a - b);
        console.log(`[${dialect}] models.get_all page ${page} of 50 over ${MODEL_COUNT} models: median ${times[RUNS >> 1]!.toFixed(1)} ms over HTTP`);
      }
    });

    it('answers an exact-name lookup and a literal prefix from the name index', async () => {
      const target = seeded[4321]!;
      const exact = await s.ok(operations.models.get_all, { name: `^${target.name}$`, only_fields: ['id'] } as never);
      assert.deepEqual(exact.models.map((m) => m.id), [target.id]);
      const prefix = await s.ok(operations.models.get_all, { name: '^model-0432', order_by: ['name'], only_fields: ['name'] } as never);
      assert.deepEqual(prefix.models.map((m) => m.name), seeded.slice(4320, 4330).map((m) => m.name));
    });

    it('caps a get_all without paging at 500 items and scrolls through everything', async () => {
      assert.equal((await s.ok(operations.models.get_all, { only_fields: ['id'] } as never)).models.length, 500);
      assert.equal((await s.ok(operations.models.get_all, { only_fields: ['id'], page_size: 5000 } as never)).models.length, 500);
      const seen = new Set<string>();
      let scrollId: string | null = null;
      for (;;) {
        const res: { models: { id: string }[]; scroll_id?: string } = await s.ok(operations.models.get_all_ex, { scroll_id: scrollId, size: 1000, only_fields: ['id'], order_by: ['-last_update'] } as never);
        for (const m of res.models) seen.add(m.id);
        scrollId = res.scroll_id!;
        if (res.models.length < 1000) break;
      }
      assert.equal(seen.size, MODEL_COUNT);
    });
  });
}
