import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { operations, type Model } from '@cairn/protocol';
import { startTestServer, testDialects, type TestServer } from '../../test/harness.js';
import { parseListTerms } from './filters.js';
import { regexLiteral } from './sql.js';

const { models, projects } = operations;

describe('list filter syntax', () => {
  it('reads legacy values and exclusions, operators, nulls', () => {
    assert.deepEqual(parseListTerms('tags', ['a', 'b', '-c']), { in: ['a', 'b'], all: [], nin: ['c'], notAll: [], allowEmpty: false, op: 'and' });
    assert.deepEqual(parseListTerms('tags', ['__$all', 'a', 'b', '__$not', 'c']), { in: [], all: ['a', 'b'], nin: ['c'], notAll: [], allowEmpty: false, op: 'and' });
    assert.deepEqual(parseListTerms('tags', ['__$any', 'a', '-b', '__$nop', '-c', null]), { in: ['a', '-b'], all: [], nin: ['c'], notAll: [], allowEmpty: true, op: 'or' });
    assert.deepEqual(parseListTerms('id', 'abc'), { in: ['abc'], all: [], nin: [], notAll: [], allowEmpty: false, op: 'and' });
  });

  it('refuses unknown operators, a dangling __$not and a bare -', () => {
    for (const bad of [['__$xor', 'a'], ['__$not'], ['-'], [{ a: 1 }]]) {
      assert.throws(() => parseListTerms('tags', bad), (err: { code?: number; subcode?: number }) => err.code === 400 && err.subcode === 16, JSON.stringify(bad));
    }
  });
});

describe('literal patterns', () => {
  it('recognises the shapes the SDK and the web app send', () => {
    assert.deepEqual(regexLiteral('^OutputModel\\ Acceptance$'), { text: 'OutputModel Acceptance', start: true, end: true });
    assert.deepEqual(regexLiteral('^resnet\\-50'), { text: 'resnet-50', start: true, end: false });
    assert.deepEqual(regexLiteral('net'), { text: 'net', start: false, end: false });
    assert.deepEqual(regexLiteral('cost\\$'), { text: 'cost$', start: false, end: false });
    for (const re of ['^res.*', 'a|b', '\\d+', '[ab]', 'x?', '(a)']) assert.equal(regexLiteral(re), undefined, re);
  });
});

const DAY = 86_400_000;
const BASE = Date.UTC(2025, 0, 10);
const day = (n: number) => new Date(BASE + n * DAY).toISOString();

for (const dialect of testDialects()) {
  describe(`get_all engine (${dialect})`, () => {
    let s: TestServer;
    const id: Record<string, string> = {};
    let p1 = '';
    let p1sub = '';
    let p2 = '';

    const names = (res: { models: Model[] }) => res.models.map((m) => m.name).sort();
    const query = async (body: Record<string, unknown>) => s.ok(models.get_all, body as never);
    const fails = async (body: Record<string, unknown>, endpoint = models.get_all) => {
      const meta = await s.fails(endpoint, body);
      return [meta.result_code, meta.result_subcode];
    };

    before(async () => {
      s = await startTestServer({ dialect });
      p1 = (await s.ok(projects.create, { name: 'Vision' })).id;
      p1sub = (await s.ok(projects.create, { name: 'Vision/Detection' })).id;
      p2 = (await s.ok(projects.create, { name: 'Language' })).id;
      const seed: [string, Record<string, unknown>, number][] = [
        ['resnet-50', { tags: ['prod', 'vision'], framework: 'PyTorch', ready: true, comment: 'baseline model', project: p1, metadata: { acc: { type: 'float', value: '0.9' }, epochs: { type: 'int', value: '10' }, 'my.key': { type: 'str', value: 'dotted' } } }, 1],
        ['resnet-101', { tags: ['vision'], system_tags: ['archived'], framework: 'PyTorch', ready: false, project: p1sub, metadata: { acc: { type: 'float', value: '0.95' }, epochs: { type: 'int', value: '9' } } }, 2],
        ['bert-base', { tags: ['nlp', 'prod'], framework: 'TensorFlow', ready: true, project: p2, metadata: { acc: { type: 'float', value: '0.8' }, epochs: { type: 'int', value: '100' } } }, 3],
        ['bert-large', { comment: 'Large BERT', ready: false }, 4],
        ['gpt-mini', { tags: ['nlp'], system_tags: ['archived'], framework: 'Keras', ready: false, project: p2 }, 5],
      ];
      for (const [name, fields, created] of seed) {
        const res = await s.ok(models.create, { name, uri: `http://store/${name}.bin`, ...fields } as never);
        id[name] = res.id;
        await s.ok(models.update, { model: res.id, created: day(created) });
      }
      // Metric summaries come from model events; seeded directly here.
      const db = s.server.services.db;
      await db.kysely.updateTable('models').set({ last_metrics: JSON.stringify({ m1: { v1: { metric: 'loss', variant: 'total', value: 0.25 } } }), last_iteration: 7 }).where('id', '=', id['resnet-50']!).execute();
      await db.kysely.updateTable('models').set({ last_metrics: JSON.stringify({ m1: { v1: { metric: 'loss', variant: 'total', value: 0.75 } } }), last_iteration: 3 }).where('id', '=', id['bert-base']!).execute();
    });
    after(() => s.stop());

    it('pattern fields: case-sensitive regex on name and comment', async () => {
      assert.deepEqual(names(await query({ name: '^resnet' })), ['resnet-101', 'resnet-50']);
      assert.deepEqual(names(await query({ name: 'bert' })), ['bert-base', 'bert-large']);
      assert.deepEqual(names(await query({ name: 'BERT' })), []);
      assert.deepEqual(names(await query({ name: '^resnet\\-50$' })), ['resnet-50']);
      assert.deepEqual(names(await query({ name: '^res.*1$' })), ['resnet-101']);
      assert.deepEqual(names(await query({ name: '-(50|101)$' })), ['resnet-101', 'resnet-50']);
      assert.deepEqual(names(await query({ comment: 'Large' })), ['bert-large']);
      assert.deepEqual(names(await query({ name: '' })).length, 5, 'an empty pattern is no filter');
      assert.deepEqual(await fails({ name: '(unclosed' }), [400, 21]);
    });

    it('list fields: OR of values, -exclusions, operators, null for empty', async () => {
      assert.deepEqual(names(await query({ tags: ['prod'] })), ['bert-base', 'resnet-50']);
      assert.deepEqual(names(await query({ tags: 'prod' })), ['bert-base', 'resnet-50'], 'a scalar works like a one-element list');
      assert.deepEqual(names(await query({ tags: ['vision', 'nlp'] })), ['bert-base', 'gpt-mini', 'resnet-101', 'resnet-50']);
      assert.deepEqual(names(await query({ tags: ['prod', '-nlp'] })), ['resnet-50']);
      assert.deepEqual(names(await query({ tags: ['__$all', 'prod', 'vision'] })), ['resnet-50']);
      assert.deepEqual(names(await query({ tags: ['__$all', 'nlp', '__$not', 'prod'] })), ['gpt-mini']);
      assert.deepEqual(names(await query({ tags: ['__$any', 'vision', '__$not', 'prod'] })), ['bert-large', 'gpt-mini', 'resnet-101', 'resnet-50']);
      assert.deepEqual(names(await query({ tags: [null] })), ['bert-large']);
      assert.deepEqual(names(await query({ tags: ['vision', null] })), ['bert-large', 'resnet-101', 'resnet-50']);
      assert.deepEqual(names(await query({ system_tags: ['-archived'] })), ['bert-base', 'bert-large', 'resnet-50']);
      assert.deepEqual(names(await query({ system_tags: ['archived'], tags: ['nlp'] })), ['gpt-mini']);
      assert.deepEqual(names(await query({ framework: 'PyTorch' })), ['resnet-101', 'resnet-50']);
      assert.deepEqual(names(await query({ framework: ['-PyTorch'] })), ['bert-base', 'bert-large', 'gpt-mini'], 'a missing value is not excluded');
      assert.deepEqual(names(await query({ framework: [null, 'Keras'] })), ['bert-large', 'gpt-mini']);
      assert.deepEqual(names(await query({ id: [id['bert-base']!, id['gpt-mini']!] })), ['bert-base', 'gpt-mini']);
      assert.deepEqual(names(await query({ uri: ['http://store/gpt-mini.bin'] })), ['gpt-mini']);
      assert.deepEqual(names(await query({ project: [p2] })), ['bert-base', 'gpt-mini']);
      assert.deepEqual(await fails({ tags: ['__$xor', 'a'] }), [400, 16]);
      assert.deepEqual(await fails({ tags: [{ a: 1 }] }), [400, 16]);
    });

    it('empty and null filters mean no filter', async () => {
      assert.equal((await query({ id: [], ready: null, tags: [], name: null, framework: null })).models.length, 5);
    });

    it('include_subprojects expands a project filter to its descendants', async () => {
      assert.deepEqual(names(await query({ project: [p1] })), ['resnet-50']);
      assert.deepEqual(names(await query({ project: [p1], include_subprojects: true })), ['resnet-101', 'resnet-50']);
      assert.deepEqual(names(await query({ project: [null] })), ['bert-large'], 'null is the root');
    });

    it('metadata wildcard keys, escaped server-side', async () => {
      assert.deepEqual(names(await query({ 'metadata.acc.value': ['0.9', '0.8'] })), ['bert-base', 'resnet-50']);
      assert.deepEqual(names(await query({ 'metadata.epochs.value': '9' })), ['resnet-101']);
      assert.deepEqual(names(await query({ 'metadata.my%2Ekey.value': 'dotted' })), ['resnet-50']);
      assert.deepEqual(names(await query({ 'metadata.acc.value': [null] })), ['bert-large', 'gpt-mini']);
      assert.deepEqual(names(await query({ 'metadata.epochs.value': 10 })), ['resnet-50'], 'numbers compare as the stored text');
    });

    it('range fields: inclusive [min, max], a null side is open, null min also takes missing values', async () => {
      assert.deepEqual(names(await query({ created: [day(2), day(4)] })), ['bert-base', 'bert-large', 'resnet-101']);
      assert.deepEqual(names(await query({ created: [null, day(2)] })), ['resnet-101', 'resnet-50']);
      assert.deepEqual(names(await query({ last_iteration: [5, null] })), ['resnet-50']);
      assert.deepEqual(names(await query({ 'last_metrics.m1.v1.value': [0.5, 1] })), ['bert-base']);
      assert.deepEqual(names(await query({ 'last_metrics.m1.v1.value': ['0.1', '0.3'] })), ['resnet-50'], 'metric bounds are converted to numbers');
      assert.deepEqual(names(await query({ 'last_metrics.m1.v1.value': [null, 0.3] })), ['bert-large', 'gpt-mini', 'resnet-101', 'resnet-50']);
      assert.deepEqual(await fails({ created: [day(1)] }), [400, 12]);
      assert.deepEqual(await fails({ created: [null, null] }), [400, 12]);
      assert.deepEqual(await fails({ created: ['yesterday', null] }), [400, 12]);
      assert.deepEqual(await fails({ last_iteration: ['many', null] }), [400, 12]);
    });

    it('datetime fields: prefixed comparisons, or two plain values as a range', async () => {
      const all = await query({ only_fields: ['last_update'], order_by: ['last_update'] });
      const stamps = all.models.map((m) => m.last_update!);
      const after = await query({ last_update: `>=${stamps[2]}` });
      assert.equal(after.models.length, 3);
      const between = await query({ last_update: [`>${stamps[0]}`, `<${stamps[4]}`] });
      assert.equal(between.models.length, 3);
      const range = await query({ last_update: [stamps[1], stamps[3]] });
      assert.equal(range.models.length, 3);
      assert.equal((await query({ last_update: '>2100-01-01T00:00:00' })).models.length, 0);
      assert.equal((await query({ last_update: '>not a date' })).models.length, 5, 'an unparsable date is skipped');
    });

    it('equality: ready', async () => {
      assert.deepEqual(names(await query({ ready: true })), ['bert-base', 'resnet-50']);
      assert.deepEqual(names(await query({ ready: false })), ['bert-large', 'gpt-mini', 'resnet-101']);
      assert.deepEqual(await fails({ ready: 'yes' }), [400, 12]);
    });

    it('filters (v2.27): any/all include/exclude, null for empty, op', async () => {
      const f = (filters: unknown) => query({ filters });
      assert.deepEqual(names(await f({ tags: { any: { include: ['prod', 'nlp'] } } })), ['bert-base', 'gpt-mini', 'resnet-50']);
      assert.deepEqual(names(await f({ tags: { all: { include: ['prod', 'nlp'] } } })), ['bert-base']);
      assert.deepEqual(names(await f({ tags: { all: { exclude: ['prod', 'nlp'] } } })), ['bert-large', 'resnet-101']);
      assert.deepEqual(names(await f({ tags: { any: { exclude: ['prod', 'nlp'] } } })), ['bert-large', 'gpt-mini', 'resnet-101', 'resnet-50']);
      assert.deepEqual(names(await f({ tags: { any: { include: [null] } } })), ['bert-large']);
      assert.deepEqual(names(await f({ tags: { all: { exclude: [null] } } })).length, 4);
      assert.deepEqual(names(await f({ tags: { any: { include: ['vision'] }, all: { include: ['nlp', 'prod'] }, op: 'or' } })), ['bert-base', 'resnet-101', 'resnet-50']);
      assert.deepEqual(await fails({ filters: { name: { any: { include: ['x'] } } } }), [400, 12]);
      assert.deepEqual(await fails({ filters: { tags: { any: { include: ['x'] }, op: 'xor' } } }), [400, 12]);
    });

    it('_any_ / _all_: case-insensitive pattern or datetime over several fields', async () => {
      assert.deepEqual(names(await query({ _any_: { pattern: 'large', fields: ['name', 'comment'] } })), ['bert-large']);
      assert.deepEqual(names(await query({ _any_: { pattern: 'BASE', fields: ['id', 'name', 'comment', 'system_tags'] } })), ['bert-base', 'resnet-50']);
      assert.deepEqual(names(await query({ _any_: { pattern: 'archiv', fields: ['system_tags'] } })), ['gpt-mini', 'resnet-101']);
      assert.deepEqual(names(await query({ _any_: { pattern: id['gpt-mini']!.slice(0, 12), fields: ['id', 'name'] } })), ['gpt-mini']);
      assert.deepEqual(names(await query({ _all_: { pattern: 'bert', fields: ['name', 'comment'] } })), ['bert-large']);
      assert.deepEqual(names(await query({ _or_: { pattern: '^resnet', fields: ['name'] } })), ['resnet-101', 'resnet-50']);
      assert.deepEqual(names(await query({ _any_: { datetime: `<${day(2)}`, fields: ['created'] } })), ['resnet-50']);
      assert.deepEqual(await fails({ _any_: { pattern: 'a', datetime: '>2020-01-01', fields: ['name'] } }), [400, 12]);
      assert.deepEqual(await fails({ _any_: { pattern: '[', fields: ['name'] } }), [400, 21]);
      assert.deepEqual(await fails({ _any_: 'name' }), [400, 12]);
    });

    it('search_text: case-insensitive substring over name, id, comment and references', async () => {
      assert.deepEqual(names(await query({ search_text: 'RESNET' })), ['resnet-101', 'resnet-50']);
      assert.deepEqual(names(await query({ search_text: 'baseline' })), ['resnet-50']);
      assert.deepEqual(names(await query({ search_text: p2 })), ['bert-base', 'gpt-mini']);
    });

    it('unknown keys are ignored', async () => {
      assert.equal((await query({ no_such_field: ['x'], 'design.x': 'y' })).models.length, 5);
    });

    it('projection: includes, dotted paths, exclusions, id always, default-excluded fields only when named', async () => {
      const only = await query({ only_fields: ['name'], id: [id['resnet-50']!] });
      assert.deepEqual(Object.keys(only.models[0]!).sort(), ['id', 'name']);
      const dotted = await query({ only_fields: ['metadata.acc.value', 'metadata.my%2Ekey.value'], id: [id['resnet-50']!] });
      assert.deepEqual(dotted.models[0]!.metadata, { acc: { value: '0.9' }, 'my.key': { value: 'dotted' } });
      const full = await query({ id: [id['resnet-50']!] });
      assert.ok(!('ui_cache' in full.models[0]!) && !('company_origin' in full.models[0]!));
      assert.equal(full.models[0]!.metadata && !Array.isArray(full.models[0]!.metadata) ? full.models[0]!.metadata.epochs?.value : undefined, '10');
      const named = await query({ only_fields: ['ui_cache', 'name'], id: [id['resnet-50']!] });
      assert.ok('ui_cache' in named.models[0]! || named.models[0]!.name === 'resnet-50');
      const excluded = await query({ only_fields: ['-metadata', '-labels'], id: [id['resnet-50']!] });
      assert.ok(!('metadata' in excluded.models[0]!) && !('labels' in excluded.models[0]!) && excluded.models[0]!.name === 'resnet-50');
      const projection = await query({ projection: ['framework'], id: [id['resnet-50']!] });
      assert.deepEqual(projection.models[0], { id: id['resnet-50'], framework: 'PyTorch' });
      assert.deepEqual(await fails({ only_fields: ['nope'] }), [400, 14]);
    });

    it('order_by: directions, id tie-break, nulls last, numeric-aware metadata, unknown field 400/14', async () => {
      assert.deepEqual((await query({ order_by: ['name'] })).models.map((m) => m.name), ['bert-base', 'bert-large', 'gpt-mini', 'resnet-101', 'resnet-50']);
      assert.deepEqual((await query({ order_by: '-created' })).models.map((m) => m.name), ['gpt-mini', 'bert-large', 'bert-base', 'resnet-101', 'resnet-50']);
      assert.deepEqual((await query({ order_by: ['metadata.epochs.value'], tags: ['-nlp'] })).models.map((m) => m.name), ['resnet-101', 'resnet-50', 'bert-large']);
      assert.deepEqual((await query({ order_by: ['-metadata.epochs.value'] })).models.map((m) => m.name).slice(0, 3), ['bert-base', 'resnet-50', 'resnet-101']);
      const fw = (await query({ order_by: ['framework', 'name'] })).models.map((m) => m.name);
      assert.deepEqual(fw, ['gpt-mini', 'resnet-101', 'resnet-50', 'bert-base', 'bert-large'], 'ascending: missing values last');
      const fwDesc = (await query({ order_by: ['-framework', 'name'] })).models.map((m) => m.name);
      assert.deepEqual(fwDesc, ['bert-base', 'resnet-101', 'resnet-50', 'gpt-mini', 'bert-large'], 'descending: missing values last');
      assert.deepEqual((await query({ order_by: ['-last_metrics.m1.v1.value'] })).models.map((m) => m.name).slice(0, 2), ['bert-base', 'resnet-50']);
      assert.deepEqual((await query({ order_by: ['project.name', 'name'] })).models.map((m) => m.name), ['bert-base', 'gpt-mini', 'resnet-50', 'resnet-101', 'bert-large']);
      const tie = await query({ order_by: ['ready'], ready: false });
      assert.deepEqual(tie.models.map((m) => m.id), [...tie.models.map((m) => m.id)].sort(), 'equal keys are ordered by id');
      assert.deepEqual(await fails({ order_by: ['bogus'] }), [400, 14]);
    });

    it('paging: page and page_size; negative page or size < 1 is 400/12', async () => {
      const p0 = await query({ order_by: ['name'], page: 0, page_size: 2 });
      const p1 = await query({ order_by: ['name'], page: 1, page_size: 2 });
      const p2 = await query({ order_by: ['name'], page: 2, page_size: 2 });
      assert.deepEqual([...p0.models, ...p1.models, ...p2.models].map((m) => m.name), ['bert-base', 'bert-large', 'gpt-mini', 'resnet-101', 'resnet-50']);
      assert.equal((await query({ page: 3 })).models.length, 0, 'page without page_size uses 500');
      assert.deepEqual(await fails({ page: -1 }), [400, 12]);
      assert.deepEqual(await fails({ page_size: 0 }), [400, 12]);
      assert.deepEqual(await fails({ page: 'one' }), [400, 12]);
    });

    it('scroll: positions kept by id, refresh, unknown id restarts, size required', async () => {
      const first = await query({ scroll_id: null, size: 2, order_by: ['name'] });
      assert.ok(first.scroll_id);
      assert.deepEqual(first.models.map((m) => m.name), ['bert-base', 'bert-large']);
      const second = await query({ scroll_id: first.scroll_id, size: 2, order_by: ['name'] });
      assert.equal(second.scroll_id, first.scroll_id);
      assert.deepEqual(second.models.map((m) => m.name), ['gpt-mini', 'resnet-101']);
      const refreshed = await query({ scroll_id: first.scroll_id, size: 2, refresh_scroll: true, order_by: ['name'] });
      assert.deepEqual(refreshed.models.map((m) => m.name), ['bert-base', 'bert-large', 'gpt-mini', 'resnet-101']);
      const third = await query({ scroll_id: first.scroll_id, size: 2, order_by: ['name'] });
      assert.deepEqual(third.models.map((m) => m.name), ['resnet-50']);
      const unknown = await query({ scroll_id: 'no-such-scroll', size: 2, order_by: ['name'] });
      assert.notEqual(unknown.scroll_id, 'no-such-scroll');
      assert.deepEqual(unknown.models.map((m) => m.name), ['bert-base', 'bert-large']);
      assert.deepEqual(await fails({ scroll_id: null }), [400, 12]);
      assert.deepEqual(await fails({ scroll_id: null, size: 0 }), [400, 12]);
      assert.equal((await query({ page_size: 2 })).scroll_id, undefined, 'no scroll id outside scroll mode');
    });

    it('scroll state is shared through the database and expires after 600 s', async () => {
      const first = await query({ scroll_id: null, size: 1, order_by: ['name'] });
      const row = await s.server.services.db.kysely.selectFrom('scrolls').selectAll().where('id', '=', first.scroll_id!).executeTakeFirstOrThrow();
      assert.equal(row.position, 1);
      await s.server.services.db.kysely.updateTable('scrolls').set({ expires: Date.now() - 1 }).where('id', '=', first.scroll_id!).execute();
      const again = await query({ scroll_id: first.scroll_id, size: 1, order_by: ['name'] });
      assert.notEqual(again.scroll_id, first.scroll_id);
      assert.deepEqual(again.models.map((m) => m.name), ['bert-base']);
    });

    it('_ex joins: references as objects with the asked sub-fields, missing ones as {id}', async () => {
      const ex = await s.ok(models.get_all_ex, { only_fields: ['name', 'project.name', 'user.name', 'company.id', 'parent.name'], order_by: ['name'] } as never);
      const resnet = ex.models.find((m) => m.name === 'resnet-50')!;
      assert.deepEqual(resnet.project, { id: p1, name: 'Vision' });
      assert.equal((resnet.user as { name?: string }).name, 'admin');
      assert.equal(typeof (resnet.company as { id: string }).id, 'string');
      assert.ok(!('project' in ex.models.find((m) => m.name === 'bert-large')!), 'no project, no key');
      await s.ok(models.edit, { model: id['bert-large']!, parent: 'no-such-model' });
      const dangling = await s.ok(models.get_all_ex, { id: [id['bert-large']!], only_fields: ['parent.name'] } as never);
      assert.deepEqual(dangling.models[0]!.parent, { id: 'no-such-model' });
      await s.ok(models.edit, { model: id['bert-large']!, parent: id['bert-base']! });
      const parent = await s.ok(models.get_all_ex, { id: [id['bert-large']!], only_fields: ['parent.name', 'task.name'] } as never);
      assert.deepEqual(parent.models[0]!.parent, { id: id['bert-base'], name: 'bert-base' });
      const whole = await s.ok(models.get_all_ex, { id: [id['resnet-50']!] } as never);
      assert.deepEqual(whole.models[0]!.project, { id: p1 }, 'without sub-fields a reference is {id}');
      const plain = await query({ id: [id['resnet-50']!], only_fields: ['project.name'] });
      assert.equal(plain.models[0]!.project, p1, 'get_all keeps ids');
    });

    it('task entity paths: hyperparams, runtime, input models, and the task join of models', async () => {
      const { tasks } = operations;
      const model = id['resnet-50']!;
      const a = (await s.ok(tasks.create, {
        name: 'tuned run',
        type: 'training',
        project: p1,
        hyperparams: { Args: { lr: { section: 'Args', name: 'lr', value: '0.01', type: 'float' }, 'batch.size': { section: 'Args', name: 'batch.size', value: '64' } } },
        runtime: { progress: '50', gpus: 2 },
        models: { input: [{ name: 'Input Model', model }] },
      })).id;
      const b = (await s.ok(tasks.create, {
        name: 'other run',
        type: 'testing',
        hyperparams: { Args: { lr: { section: 'Args', name: 'lr', value: '0.1' } } },
        runtime: { progress: '100', gpus: 1 },
      })).id;
      const ids = async (body: Record<string, unknown>) => (await s.ok(tasks.get_all, { ...body, only_fields: ['id'] } as never)).tasks.map((t) => t.id).sort();
      assert.deepEqual(await ids({ 'hyperparams.Args.lr.value': '0.01' }), [a]);
      assert.deepEqual(await ids({ 'hyperparams.Args.batch%2Esize.value': ['64', '32'] }), [a]);
      assert.deepEqual(await ids({ 'runtime.progress': '100' }), [b]);
      assert.deepEqual(await ids({ 'runtime.gpus': 2 }), [a]);
      assert.deepEqual(await ids({ 'models.input.model': [model] }), [a]);
      assert.deepEqual(await ids({ type: ['-training'] }), [b]);
      assert.deepEqual((await s.ok(tasks.get_all, { order_by: ['-hyperparams.Args.lr.value'], id: [a, b], only_fields: ['name'] } as never)).tasks.map((t) => t.name), ['other run', 'tuned run']);

      await s.ok(models.edit, { model, task: a });
      const joined = await s.ok(models.get_all_ex, { id: [model], only_fields: ['task.name', 'task.project'] } as never);
      assert.deepEqual(joined.models[0]!.task, { id: a, name: 'tuned run', project: p1 });
    });

    it("another company's models are invisible; public models are visible everywhere", async () => {
      const other = await s.createUser({ newCompany: true });
      const theirs = await s.ok(models.get_all, {} as never, { token: other.token });
      assert.equal(theirs.models.length, 0);
      const pub = await s.ok(models.create, { name: 'public-model', uri: 'http://store/p.bin', public: true } as never);
      const seen = await s.ok(models.get_all, { name: '^public' } as never, { token: other.token });
      assert.deepEqual(seen.models.map((m) => m.id), [pub.id]);
      const ex = await s.ok(models.get_all_ex, { name: '^public', only_fields: ['company.id'] } as never, { token: other.token });
      assert.deepEqual(ex.models[0]!.company, { id: '' });
      const hidden = await s.ok(models.get_all_ex, { name: '^public', allow_public: false } as never, { token: other.token });
      assert.equal(hidden.models.length, 0);
      assert.equal((await query({})).models.length, 6, 'the public model shows with the company models');
    });
  });
}
