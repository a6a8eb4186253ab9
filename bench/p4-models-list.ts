/**
 * P4: `models.get_all_ex` as the web app's models table sends it (its fields, `-archived`, a page of 50) with a
 * name regex, a tag filter and an order, over 100,000 models, on SQLite and on PostgreSQL. The server runs in
 * its own process; latency is measured at the client (request sent to answer parsed) over loopback.
 *
 * Three query shapes of different selectivity rotate (no single query is answered from a warm cache alone).
 * The targets apply to the first page, the one the table shows; page 4 (rows 151-200) is measured beside it
 * and reported, since a sparse filter makes the server walk further for deeper pages. Every answer is
 * checked against the page computed from the seeded rows.
 */
import { randomBytes } from 'node:crypto';
import { runWorkload, type WorkloadContext } from './lib/runner.js';
import { startCairn, type CairnServerOptions } from './lib/processes.js';
import { openServerDatabase, seedModels, type SeededModel } from './lib/seed-models.js';
import { dropSchema, postgresUrl } from './lib/system.js';
import { summarize } from './lib/stats.js';
import { atMost, measured, p99Of, reported, type Figure } from './lib/result.js';
import { apiSession, type ApiSession } from './lib/api.js';

const P50_MS = 10;
const P99_MS = 50;
const PAGE_SIZE = 50;
/** The deeper page measured beside the first (0-based). */
const DEEP_PAGE = 3;
/** The fields the web app's models table asks for. */
const TABLE_FIELDS = ['id', 'name', 'framework', 'tags', 'system_tags', 'ready', 'project.name', 'user.name', 'task.name', 'last_update', 'comment'];

interface Shape {
  name: string;
  tags: string[];
  order: string;
  compare: (a: SeededModel, b: SeededModel) => number;
}

const SHAPES: Shape[] = [
  { name: 'resnet50-v1\\d', tags: ['production', 'gold'], order: '-last_update', compare: (a, b) => (a.lastUpdate < b.lastUpdate ? 1 : -1) },
  { name: '^bert', tags: ['candidate'], order: 'name', compare: (a, b) => (a.name < b.name ? -1 : 1) },
  { name: 'exp-\\d*7$', tags: ['int8'], order: '-created', compare: (a, b) => (a.created < b.created ? 1 : -1) },
];

function expectedPages(seeded: SeededModel[], shape: Shape): Record<number, string[]> {
  const re = new RegExp(shape.name);
  const matching = seeded.filter((m) => !m.archived && re.test(m.name) && m.tags.some((t) => shape.tags.includes(t))).sort(shape.compare);
  const page = (p: number) => matching.slice(p * PAGE_SIZE, (p + 1) * PAGE_SIZE).map((m) => m.id);
  return { 0: page(0), [DEEP_PAGE]: page(DEEP_PAGE), matches: matching.length } as unknown as Record<number, string[]>;
}

async function measureDialect(ctx: WorkloadContext, dialect: 'sqlite' | 'postgres', models: number, requests: number) {
  const options: CairnServerOptions = { dataDir: ctx.tempDir(`p4-${dialect}`) };
  if (dialect === 'postgres') {
    options.databaseUrl = postgresUrl();
    options.pgSchema = `bench_${randomBytes(6).toString('hex')}`;
    ctx.onCleanup(() => dropSchema(options.databaseUrl!, options.pgSchema!));
  }
  const server = await startCairn(options);
  ctx.onCleanup(() => server.stop());
  const api: ApiSession = await apiSession(server);
  const projects: string[] = [];
  for (let i = 0; i < 20; i++) projects.push((await api.call<{ id: string }>('projects.create', { name: `Team ${i}`, description: 'bench' })).id);

  const t0 = performance.now();
  const db = await openServerDatabase(options);
  let seeded: SeededModel[];
  try {
    seeded = await seedModels(db, models, projects);
  } finally {
    await db.close();
  }
  ctx.log(`${dialect}: ${models} models seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const expected = SHAPES.map((s) => expectedPages(seeded, s));

  const query = (k: number, page: number) => {
    const shape = SHAPES[k % SHAPES.length]!;
    const body = { only_fields: TABLE_FIELDS, system_tags: ['-archived'], name: shape.name, tags: shape.tags, order_by: [shape.order], page, page_size: PAGE_SIZE };
    return { body, want: expected[k % SHAPES.length]![page]! };
  };
  // Warm-up: connections, statement caches, the database's own cache.
  for (let k = 0; k < SHAPES.length * 2; k++) await api.call('models.get_all_ex', query(k, k < SHAPES.length ? 0 : DEEP_PAGE).body);
  await server.latency();

  const times: Record<number, number[]> = { 0: [], [DEEP_PAGE]: [] };
  for (let k = 0; k < requests; k++) {
    // First pages and deep pages alternate, each shape in turn.
    const page = Math.floor(k / SHAPES.length) % 2 ? DEEP_PAGE : 0;
    const { body, want } = query(k, page);
    const start = performance.now();
    const data = await api.call<{ models: { id: string }[] }>('models.get_all_ex', body);
    times[page]!.push(performance.now() - start);
    const got = data.models.map((m) => m.id);
    if (got.join() !== want.join()) throw new Error(`${dialect}: request ${k} (${JSON.stringify(body)}) answered ${got.length} models that are not the expected page`);
  }
  const serverSide = (await server.latency()).api ?? [];
  return { first: times[0]!, deep: times[DEEP_PAGE]!, serverSide, matches: expected.map((e) => (e as unknown as { matches: number }).matches) };
}

await runWorkload('P4', 'models.get_all_ex: page of 50, name regex + tag filter + order_by, over 100,000 models', async (ctx) => {
  const models = ctx.quick ? 2_000 : 100_000;
  const requests = ctx.quick ? 30 : 600;
  const figures: Figure[] = [];
  const params: Record<string, unknown> = { models, requests, pageSize: PAGE_SIZE, shapes: SHAPES.map((s) => ({ name: s.name, tags: s.tags, order_by: s.order })) };
  for (const dialect of ['sqlite', 'postgres'] as const) {
    const r = await measureDialect(ctx, dialect, models, requests);
    const first = summarize(r.first);
    const deep = summarize(r.deep);
    ctx.log(`${dialect}: first page p50 ${first.median.toFixed(2)} ms, p99 ${first.p99.toFixed(2)} ms; page ${DEEP_PAGE + 1} p50 ${deep.median.toFixed(2)} ms, p99 ${deep.p99.toFixed(2)} ms`);
    figures.push(
      atMost(`P4.${dialect}.p50`, measured(`get_all_ex, first page, p50 (${dialect})`, first, 'ms'), P50_MS, `p50 ≤ ${P50_MS} ms`),
      atMost(`P4.${dialect}.p99`, p99Of(`get_all_ex, first page, p99 (${dialect})`, first, 'ms'), P99_MS, `p99 ≤ ${P99_MS} ms`),
      reported(`P4.${dialect}.deep-p50`, measured(`get_all_ex, page ${DEEP_PAGE + 1}, p50 (${dialect})`, deep, 'ms')),
      reported(`P4.${dialect}.deep-p99`, p99Of(`get_all_ex, page ${DEEP_PAGE + 1}, p99 (${dialect})`, deep, 'ms')),
      reported(`P4.${dialect}.server-p50`, measured(`get_all_ex p50 inside the server, both pages (${dialect})`, summarize(r.serverSide), 'ms')),
    );
    params[`matching_${dialect}`] = r.matches;
  }
  return { params, figures, notes: ['The ClearML web app reported 36.8 s for this call (clearml-web#45).'] };
});
