import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { operations, SINGLE_VALUE_ITERATION } from '@cairn/protocol';
import { startTestServer, testDialects, type TestServer, type CallResult } from '../../../test/harness.js';
import { deleteEntityEvents } from './index.js';
import { eventsDb } from './store.js';

const ev = operations.events;
const md5 = (s: string) => createHash('md5').update(s).digest('hex');

type Added = { added: number; errors: number; errors_info: Record<string, number> };

function sendBatch(s: TestServer, events: object[], token?: string): Promise<CallResult<Added>> {
  return s.call<Added>('events.add_batch', undefined, {
    rawBody: events.map((e) => JSON.stringify(e)).join('\n'),
    headers: { 'content-type': 'application/json-lines' },
    token,
  });
}

async function okBatch(s: TestServer, events: object[]): Promise<Added> {
  const res = await sendBatch(s, events);
  assert.equal(res.status, 200, res.meta.result_msg);
  ev.add_batch.response.parse(res.data);
  return res.data;
}

async function newTask(s: TestServer, name = 'events test task'): Promise<string> {
  return (await s.ok(operations.tasks.create, { name, type: 'training' })).id;
}

async function newModel(s: TestServer, name = 'events test model', ready = false): Promise<string> {
  return (await s.ok(operations.models.create, { name, uri: 'file:///tmp/w.bin', ready })).id;
}

function scalar(task: string, iter: number, value: number, metric = 'Metric1', variant = 'Variant1', extra: object = {}) {
  return { type: 'training_stats_scalar', task, iter, metric, variant, value, timestamp: 1_700_000_000_000 + iter, worker: 'test', ...extra };
}

for (const dialect of testDialects()) {
  describe(`events (${dialect})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer({ dialect });
    });
    after(() => s.stop());

    it("stores the Python client's recorded add_batch requests as it needs", async () => {
      const recorded = readFileSync(path.join(import.meta.dirname, '../../../test/fixtures/python-clearml-1.17-outputmodel.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { endpoint: string; body: Record<string, unknown>[]; response: { data: unknown } })
        .filter((r) => r.endpoint === 'events.add_batch');
      assert.ok(recorded.length >= 2);
      const task = await newTask(s, 'python task');
      const model = await newModel(s, 'python model');
      for (const r of recorded) {
        const lines = r.body.map((e) => ({ ...e, task: e.model_event ? model : task }));
        const res = await sendBatch(s, lines);
        assert.equal(res.status, 200, res.meta.result_msg);
        assert.deepEqual(res.data, r.response.data);
      }
      const modelEvents = recorded.flatMap((r) => r.body).filter((e) => e.model_event);
      const plots = await s.ok(ev.get_task_plots, { task: model, model_events: true });
      const sent = modelEvents.filter((e) => e.type === 'plot');
      assert.equal(plots.plots.length, sent.length);
      for (const p of plots.plots) {
        assert.equal(p.plot_str, sent.find((e) => e.metric === p.metric && e.variant === p.variant)!.plot_str);
      }
      const single = await s.ok(ev.get_task_single_value_metrics, { tasks: [model], model_events: true });
      assert.deepEqual(single.tasks[0]!.values.map((v) => [v.variant, v.value]), [['test_accuracy', 0.91]]);
      const log = await s.ok(ev.get_task_log, { task });
      assert.equal(log.total, recorded.flatMap((r) => r.body).filter((e) => e.type === 'log').length);
    });

    it('keeps last_metrics of a task across batches: value, min, max, first, count, mean', async () => {
      const task = await newTask(s);
      const events = Array.from({ length: 100 }, (_, i) => scalar(task, i, i));
      assert.deepEqual(await okBatch(s, events.slice(0, 50)), { added: 50, errors: 0, errors_info: {} });
      await okBatch(s, events.slice(50));
      const { task: t } = await s.ok(operations.tasks.get_by_id, { task });
      const m = t.last_metrics![md5('Metric1')]![md5('Variant1')]!;
      assert.equal(m.metric, 'Metric1');
      assert.equal(m.variant, 'Variant1');
      assert.equal(m.value, 99);
      assert.equal(m.max_value, 99);
      assert.equal(m.max_value_iteration, 99);
      assert.equal(m.min_value, 0);
      assert.equal(m.min_value_iteration, 0);
      assert.equal(m.first_value, 0);
      assert.equal(m.first_value_iteration, 0);
      assert.equal(m.count, 100);
      assert.equal(m.mean_value, 49.5);
      assert.equal(t.last_iteration, 99);
      const latest = await s.ok(ev.get_task_latest_scalar_values, { task });
      assert.equal(latest.last_iter, 99);
      assert.equal(latest.name, 'events test task');
      assert.deepEqual(latest.metrics, [{ name: 'Metric1', variants: [{ name: 'Variant1', last_value: 99, last_100_value: 99 }] }]);
      assert.ok(latest.last_timestamp > 0);
    });

    it('counts bad items in errors_info, and refuses with 400/131 when nothing was added', async () => {
      const task = await newTask(s);
      const bad = [
        { type: 'unknown type', task, iter: 1 },
        { type: 'training_debug_image', iter: 1 },
        { type: 'training_debug_image', task: 'no-such-task', iter: 1 },
        { task, iter: 1 },
      ];
      const refused = await sendBatch(s, bad);
      assert.equal(refused.status, 400);
      assert.equal(refused.meta.result_subcode, 131);
      assert.deepEqual(refused.meta.error_data, {
        'Invalid event type unknown_type': 1,
        "Event must have a 'task' field": 1,
        'Invalid task id no-such-task': 1,
        "Event must have a 'type' field": 1,
      });
      assert.match(refused.meta.result_msg, /^Events not added: /);
      const partial = await okBatch(s, [...bad, { type: 'training_debug_image', task, iter: 1, metric: 'img', variant: 'v', url: 'http://x/a.png' }]);
      assert.equal(partial.added, 1);
      assert.equal(partial.errors, 4);
      assert.equal(Object.keys(partial.errors_info).length, 4);
      const stored = await s.ok(ev.get_task_events, { task });
      assert.equal(stored.events.length, 1);
      assert.equal(stored.events[0]!.url, 'http://x/a.png');
    });

    it('counts malformed fields per item, never a 500', async () => {
      const task = await newTask(s);
      const res = await sendBatch(s, [
        { type: 5, task, iter: 1 },
        { type: 'training_stats_scalar', task, iter: 'abc', metric: 'm', variant: 'v', value: 1 },
        { type: 'training_stats_scalar', task, iter: 1, metric: 'm', variant: 'v', value: 'high' },
        { type: 'training_stats_scalar', task, iter: 1, metric: 'm', variant: 'v', value: [1, 2] },
        { type: 'training_stats_scalar', task, iter: 1e300, metric: 'm', variant: 'v', value: 1 },
        { type: 'training_stats_scalar', task, iter: 1, metric: 'm'.repeat(2000), variant: 'v', value: 1 },
        { type: 'training_stats_scalar', task, iter: 1, metric: { a: 1 }, variant: 'v', value: 1 },
        { type: 'plot', task, iter: 1, metric: 'p', variant: 'v', plot_str: 17 },
        { type: 'training_stats_scalar', task, iter: 1, metric: 'm', variant: 'v', value: 1, timestamp: 'yesterday' },
      ]);
      assert.equal(res.status, 400);
      assert.equal(res.meta.result_subcode, 131);
      const info = res.meta.error_data as Record<string, number>;
      assert.equal(Object.values(info).reduce((a, b) => a + b, 0), 9);
      assert.equal(info['Invalid event type 5'], 1);
      assert.equal(info[`Iteration number should not exceed ${Number.MAX_SAFE_INTEGER}`], 1);
      assert.ok(Object.keys(info).some((k) => k.startsWith('Invalid event field iter')));
      assert.ok(Object.keys(info).some((k) => k.startsWith('Invalid event field value')));
      assert.ok(Object.keys(info).some((k) => k.startsWith('Invalid event field metric')));
      assert.ok(Object.keys(info).some((k) => k.startsWith('Invalid event field timestamp')));

      const notObject = await s.call('events.add_batch', undefined, { rawBody: '{"type":"log"}\n[1,2]', headers: { 'content-type': 'application/json-lines' } });
      assert.deepEqual([notObject.status, notObject.meta.result_subcode], [400, 12]);
      const notJson = await s.call('events.add_batch', undefined, { rawBody: '{"type":', headers: { 'content-type': 'application/json-lines' } });
      assert.deepEqual([notJson.status, notJson.meta.result_subcode], [400, 12]);
      const empty = await s.call('events.add_batch', undefined, { rawBody: '\n', headers: { 'content-type': 'application/json-lines' } });
      assert.deepEqual([empty.status, empty.meta.result_subcode], [400, 17]);
      const single = await s.call('events.add', { type: 'nope', task });
      assert.deepEqual([single.status, single.meta.result_subcode], [400, 131]);
    });

    it('overwrites metric events with the same entity/iter/metric/variant, but never log lines', async () => {
      const task = await newTask(s);
      await okBatch(s, [scalar(task, 3, 1.5), scalar(task, 3, 2.5)]);
      await s.ok(ev.add, scalar(task, 3, 7.25) as never);
      const log = { type: 'log', task, level: 'info', msg: 'same line', timestamp: 1_700_000_000_000 };
      await okBatch(s, [log, log]);
      const scalars = await s.ok(ev.get_task_events, { task, event_type: 'training_stats_scalar' });
      assert.equal(scalars.total, 1);
      assert.equal(scalars.events[0]!.value, 7.25);
      const logs = await s.ok(ev.get_task_events, { task, event_type: 'log' });
      assert.equal(logs.total, 2);
      const { task: t } = await s.ok(operations.tasks.get_by_id, { task });
      // count and mean count every received event, as ClearML does
      assert.equal(t.last_metrics![md5('Metric1')]![md5('Variant1')]!.count, 3);
    });

    it('refuses events for published tasks unless allow_locked, and rejects inconsistent flags with 400/12', async () => {
      const task = await newTask(s);
      await s.ok(operations.tasks.publish, { task, force: true });
      const refused = await sendBatch(s, [scalar(task, 1, 1)]);
      assert.deepEqual([refused.status, refused.meta.result_subcode], [400, 131]);
      assert.deepEqual(refused.meta.error_data, { [`Invalid task id ${task}`]: 1 });
      assert.equal((await okBatch(s, [scalar(task, 1, 1, 'M', 'V', { allow_locked: true })])).added, 1);
      const mixedLock = await sendBatch(s, [scalar(task, 1, 1, 'M', 'V', { allow_locked: true }), scalar(task, 2, 1)]);
      assert.deepEqual([mixedLock.status, mixedLock.meta.result_subcode], [400, 12]);
      const mixedKind = await sendBatch(s, [scalar(task, 1, 1), scalar(task, 2, 1, 'M', 'V', { model_event: true })]);
      assert.deepEqual([mixedKind.status, mixedKind.meta.result_subcode], [400, 12]);
      assert.match(mixedKind.meta.result_msg, /Inconsistent model_event/);
    });

    it('stores model events: summaries on the model, logs refused, ready models locked, `model` alias', async () => {
      const model = await newModel(s);
      const log = await sendBatch(s, [{ type: 'log', task: model, model_event: true, msg: 'no', level: 'info' }]);
      assert.deepEqual([log.status, log.meta.result_subcode], [400, 131]);
      assert.deepEqual(log.meta.error_data, { 'Task log events are not supported for models': 1 });

      const task = await newTask(s);
      const batch: object[] = [];
      for (let iteration = 0; iteration < 2; iteration++) {
        for (let m = 0; m < 5; m++) {
          for (let v = 0; v < 5; v++) {
            batch.push({ ...scalar(model, iteration, iteration, `Metric${m}`, `Variant${v}`), model_event: true, x_axis_label: `Label_${m}_${v}` });
          }
        }
      }
      batch.push({ type: 'log', task, iter: 0, msg: 'task line', metric: 'Metric0', variant: 'Variant0' });
      batch.push({ type: 'training_stats_scalar', model, model_event: true, iter: 7, metric: 'alias', variant: 'v', value: 3 });
      assert.equal((await okBatch(s, batch)).added, 52);

      const hist = await s.ok(ev.scalar_metrics_iter_histogram, { task: model, model_events: true });
      assert.deepEqual(Object.keys(hist), ['Metric0', 'Metric1', 'Metric2', 'Metric3', 'Metric4', 'alias']);
      assert.deepEqual(Object.keys(hist.Metric0!), ['Variant0', 'Variant1', 'Variant2', 'Variant3', 'Variant4']);
      assert.deepEqual(hist.Metric0!.Variant0, { name: 'Variant0', x: [0, 1], y: [0, 1], x_axis_label: 'Label_0_0' });
      const { model: m } = await s.ok(operations.models.get_by_id, { model });
      assert.equal(m.last_iteration, 7);
      const entry = m.last_metrics![md5('Metric4')]![md5('Variant4')]!;
      assert.deepEqual([entry.value, entry.max_value, entry.max_value_iteration, entry.min_value, entry.min_value_iteration, entry.x_axis_label], [1, 1, 1, 0, 0, 'Label_4_4']);
      const taskLog = await s.ok(ev.get_task_log, { task });
      assert.equal(taskLog.total, 1);

      const metrics = await s.ok(ev.get_multi_task_metrics, { tasks: [model], event_type: 'training_stats_scalar', model_events: true }, { version: '2.28' });
      assert.deepEqual(metrics.metrics.map((x) => x.metric), ['Metric0', 'Metric1', 'Metric2', 'Metric3', 'Metric4', 'alias']);
      assert.deepEqual(metrics.metrics[0]!.variants, ['Variant0', 'Variant1', 'Variant2', 'Variant3', 'Variant4']);

      // A model id read as a task is unknown (400/101); an unknown model is 400/201.
      const asTask = await s.fails(ev.scalar_metrics_iter_histogram, { task: model });
      assert.deepEqual([asTask.result_code, asTask.result_subcode], [400, 101]);
      const unknown = await s.fails(ev.get_task_plots, { task: 'nope', model_events: true });
      assert.deepEqual([unknown.result_code, unknown.result_subcode], [400, 201]);

      const ready = await newModel(s, 'published model', true);
      const locked = await sendBatch(s, [{ ...scalar(ready, 1, 1), model_event: true }]);
      assert.deepEqual([locked.status, locked.meta.result_subcode], [400, 131]);
      assert.deepEqual(locked.meta.error_data, { [`Invalid model id ${ready}`]: 1 });
      assert.equal((await okBatch(s, [{ ...scalar(ready, 1, 1), model_event: true, allow_locked: true }])).added, 1);
    });

    it('down-samples histograms to `samples` buckets of averages; keys iter, timestamp and iso_time', async () => {
      const task = await newTask(s);
      await okBatch(s, Array.from({ length: 100 }, (_, i) => scalar(task, i, i)));
      for (const [samples, expected] of [[undefined, 100], [100, 100], [10, 10]] as const) {
        const data = await s.ok(ev.scalar_metrics_iter_histogram, { task, ...(samples ? { samples } : {}) });
        const series = data.Metric1!.Variant1!;
        const interval = 100 / expected;
        assert.equal(series.x.length, expected);
        for (let b = 0; b < expected; b++) {
          assert.equal(series.x[b], b * interval);
          const members = Array.from({ length: interval }, (_, k) => b * interval + k);
          assert.equal(series.y[b], members.reduce((a, c) => a + c, 0) / interval);
        }
      }
      const byTime = await s.ok(ev.scalar_metrics_iter_histogram, { task, key: 'timestamp', samples: 10 });
      assert.equal(byTime.Metric1!.Variant1!.x[0], 1_700_000_000_000);
      assert.equal(byTime.Metric1!.Variant1!.x.length, 10);
      const byIso = await s.ok(ev.scalar_metrics_iter_histogram, { task, key: 'iso_time' });
      assert.equal(byIso.Metric1!.Variant1!.x[0], new Date(1_700_000_000_000).toISOString());
      const tooMany = await s.fails(ev.scalar_metrics_iter_histogram, { task, samples: 6001 });
      assert.deepEqual([tooMany.result_code, tooMany.result_subcode], [400, 12]);
    });

    it('keeps single values out of histograms; lists them, reads them raw, and updates them', async () => {
      const task = await newTask(s, 'single values');
      await okBatch(s, Array.from({ length: 10 }, (_, i) => scalar(task, i || SINGLE_VALUE_ITERATION, i)));
      const raw = await s.ok(ev.scalar_metrics_iter_raw, { task, batch_size: 100, metric: { metric: 'Metric1', variants: ['Variant1'] }, count_total: true });
      assert.equal(raw.returned, 10);
      assert.equal(raw.total, 10);
      assert.deepEqual(raw.variants.Variant1!.iter, [SINGLE_VALUE_ITERATION, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      assert.deepEqual(raw.variants.Variant1!.y, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      const hist = await s.ok(ev.scalar_metrics_iter_histogram, { task });
      assert.deepEqual(hist.Metric1!.Variant1!.x, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
      const single = await s.ok(ev.get_task_single_value_metrics, { tasks: [task] });
      assert.equal(single.tasks.length, 1);
      assert.equal(single.tasks[0]!.task_name, 'single values');
      assert.deepEqual(single.tasks[0]!.values.map((v) => [v.metric, v.variant, v.value]), [['Metric1', 'Variant1', 0]]);
      const filtered = await s.ok(ev.get_task_single_value_metrics, { tasks: [task], metrics: [{ metric: 'other' }] });
      assert.equal(filtered.tasks.length, 0);
      await s.ok(ev.add, scalar(task, SINGLE_VALUE_ITERATION, 1000) as never);
      const updated = await s.ok(ev.get_task_single_value_metrics, { tasks: [task] });
      assert.equal(updated.tasks[0]!.values[0]!.value, 1000);
    });

    it('pages raw scalars and task events through scroll ids', async () => {
      const task = await newTask(s);
      await okBatch(s, Array.from({ length: 100 }, (_, i) => scalar(task, i, i * 2)));
      let res = await s.ok(ev.scalar_metrics_iter_raw, { task, batch_size: 15, metric: { metric: 'Metric1', variants: ['Variant1'] }, count_total: true });
      assert.equal(res.total, 100);
      const iters: unknown[] = [];
      let calls = 0;
      while (res.returned) {
        calls++;
        iters.push(...res.variants.Variant1!.iter!);
        res = await s.ok(ev.scalar_metrics_iter_raw, { task, metric: { metric: 'Metric1', variants: ['Variant1'] }, scroll_id: res.scroll_id! });
      }
      assert.equal(calls, 7);
      assert.deepEqual(iters, Array.from({ length: 100 }, (_, i) => i));

      await okBatch(s, [{ type: 'log', task, msg: 'a log line', level: 'info' }]);
      const seen: number[] = [];
      let page = await s.ok(ev.get_task_events, { task, batch_size: 30, event_type: 'training_stats_scalar', order: 'desc' });
      assert.equal(page.total, 100);
      while (page.returned) {
        seen.push(...page.events.map((e) => e.iter!));
        page = await s.ok(ev.get_task_events, { task, scroll_id: page.scroll_id! });
      }
      assert.deepEqual(seen, Array.from({ length: 100 }, (_, i) => 99 - i));
      const all = await s.ok(ev.get_task_events, { task, batch_size: 1000 });
      assert.equal(all.total, 101);
      assert.equal(all.events[0]!.type, 'log');
      const bad = await s.fails(ev.get_task_events, { task, scroll_id: 'not-a-scroll' });
      assert.deepEqual([bad.result_code, bad.result_subcode], [400, 1104]);
      assert.deepEqual(await s.ok(ev.clear_scroll, { scroll_id: page.scroll_id! }), {});
    });

    it('returns the last plots per metric/variant, compressing long plot strings', async () => {
      const task = await newTask(s);
      const big = JSON.stringify({ data: [{ x: Array.from({ length: 30_000 }, (_, i) => i), type: 'scatter' }], layout: {} });
      assert.ok(big.length >= 100_000);
      await okBatch(s, [
        { type: 'plot', task, iter: 0, metric: 'roc', variant: 'a', plot_str: '{"iter":0}' },
        { type: 'plot', task, iter: 5, metric: 'roc', variant: 'a', plot_str: '{"iter":5}' },
        { type: 'plot', task, iter: 9, metric: 'roc', variant: 'a', plot_str: '{"iter":9}' },
        { type: 'plot', task, iter: 100, metric: 'confusion', variant: '', plot_str: big },
        { type: 'plot', task, iter: 1, metric: 'img', variant: 'x', plot_str: '{"layout":{"images":[{"source":"http://files/a.png"}]}}' },
      ]);
      const rows = await eventsDb(s.server.services.db).selectFrom('events').select(['plot_str', 'plot_data', 'metric']).where('task', '=', task).where('metric', '=', 'confusion').execute();
      assert.equal(rows[0]!.plot_str, null);
      assert.ok(rows[0]!.plot_data && rows[0]!.plot_data.length < big.length / 2);

      const last = await s.ok(ev.get_task_plots, { task });
      assert.deepEqual(last.plots.map((p) => [p.metric, p.variant, p.iter]), [['confusion', '', 100], ['img', 'x', 1], ['roc', 'a', 9]]);
      assert.equal(last.plots[0]!.plot_str, big);
      assert.equal(last.plots[0]!.plot_len, big.length);
      assert.deepEqual(last.plots[1]!.source_urls, ['http://files/a.png']);
      assert.equal(last.returned, last.total);
      const two = await s.ok(ev.get_task_plots, { task, iters: 2, metrics: [{ metric: 'roc' }] });
      assert.deepEqual(two.plots.map((p) => p.plot_str), ['{"iter":9}', '{"iter":5}']);

      // events.plots: the newest iteration first, then earlier ones through the scroll id.
      let nav = await s.ok(ev.plots, { metrics: [{ task, metric: 'roc' }] });
      assert.deepEqual(nav.metrics[0]!.iterations.map((i) => i.iter), [9]);
      nav = await s.ok(ev.plots, { metrics: [{ task, metric: 'roc' }], iters: 2, scroll_id: nav.scroll_id });
      assert.deepEqual(nav.metrics[0]!.iterations.map((i) => i.iter), [5, 0]);
      const later = await s.ok(ev.plots, { metrics: [{ task, metric: 'roc' }], navigate_earlier: false, scroll_id: nav.scroll_id });
      assert.deepEqual(later.metrics[0]!.iterations, []);
      const everything = await s.ok(ev.plots, { metrics: [{ task }], iters: 10 });
      assert.deepEqual(everything.metrics[0]!.iterations.map((i) => i.iter), [100, 9, 5, 1, 0]);
    });

    it('groups the last plots of several entities by metric, variant, entity and iteration', async () => {
      const task1 = await newTask(s, 'plots one');
      const task2 = await newTask(s, 'plots two');
      const plot = (task: string, iter: number, metric: string, variant: string) => ({ type: 'plot', task, iter, metric, variant, plot_str: `${task === task1 ? 'Task1' : 'Task2'}_${iter}_${metric}_${variant}` });
      await okBatch(s, [plot(task1, 1, 'A', 'AX'), plot(task1, 2, 'B', 'BX'), plot(task1, 3, 'B', 'BX'), plot(task1, 3, 'C', 'CX')]);
      await okBatch(s, [plot(task2, 1, 'C', 'CX'), plot(task2, 2, 'A', 'AY')]);
      const res = await s.ok(ev.get_multi_task_plots, { tasks: [task1, task2] });
      const p = res.plots;
      assert.equal(res.returned, 3);
      assert.deepEqual(Object.keys(p).sort(), ['A', 'B', 'C']);
      assert.equal(p.A!.AX![task1]!['1']!.plots[0]!.plot_str, 'Task1_1_A_AX');
      assert.equal(p.A!.AX![task1]!['1']!.name, 'plots one');
      assert.equal(p.A!.AY![task2]!['2']!.plots[0]!.plot_str, 'Task2_2_A_AY');
      assert.deepEqual(Object.keys(p.B!.BX![task1]!), ['3']);
      assert.equal(p.C!.CX![task1]!['3']!.plots[0]!.plot_str, 'Task1_3_C_CX');
      assert.equal(p.C!.CX![task2]!['1']!.plots[0]!.plot_str, 'Task2_1_C_CX');
      const onlyA = await s.ok(ev.get_multi_task_plots, { tasks: [task1, task2], metrics: [{ metric: 'A' }] });
      assert.deepEqual(Object.keys(onlyA.plots), ['A']);
      assert.equal(Object.keys(onlyA.plots.A!).length, 2);
      const missing = await s.fails(ev.get_multi_task_plots, { tasks: [task1, 'nope'] });
      assert.deepEqual([missing.result_code, missing.result_subcode], [400, 101]);
    });

    it('pages the task log by timestamp in both directions', async () => {
      const task = await newTask(s);
      const t0 = 1_700_000_000_000;
      await okBatch(s, Array.from({ length: 10 }, (_, i) => ({ type: 'log', task, iter: i, timestamp: t0 + i * 1000, msg: `line ${i}`, level: 'info' })));
      const first = await s.ok(ev.get_task_log, { task, batch_size: 5 });
      assert.equal(first.total, 10);
      assert.deepEqual(first.events.map((e) => e.iter), [9, 8, 7, 6, 5]);
      const second = await s.ok(ev.get_task_log, { task, batch_size: 5, from_timestamp: first.events[4]!.timestamp });
      assert.deepEqual(second.events.map((e) => e.iter), [4, 3, 2, 1, 0]);
      const third = await s.ok(ev.get_task_log, { task, batch_size: 5, from_timestamp: second.events[4]!.timestamp });
      assert.equal(third.returned, 0);
      const forward = await s.ok(ev.get_task_log, { task, batch_size: 5, from_timestamp: second.events[0]!.timestamp, navigate_earlier: false });
      assert.deepEqual(forward.events.map((e) => e.iter), [5, 6, 7, 8, 9]);
      const asc = await s.ok(ev.get_task_log, { task, batch_size: 3, order: 'asc' });
      assert.deepEqual(asc.events.map((e) => e.iter), [7, 8, 9]);
      // A page never splits the lines of one timestamp.
      const same = await newTask(s);
      await okBatch(s, Array.from({ length: 4 }, (_, i) => ({ type: 'log', task: same, timestamp: t0, msg: `same ${i}`, level: 'info' })));
      const whole = await s.ok(ev.get_task_log, { task: same, batch_size: 2 });
      assert.equal(whole.returned, 4);
      const filtered = await okBatch(s, [{ type: 'log', task: same, timestamp: t0, msg: 'm', metric: 'special' }]);
      assert.equal(filtered.added, 1);
      assert.equal((await s.ok(ev.get_task_log, { task: same, metrics: [{ metric: 'special' }] })).total, 1);
    });

    it('lists metrics and variants per entity and type', async () => {
      const task1 = await newTask(s);
      const task2 = await newTask(s);
      await okBatch(s, [
        { type: 'training_debug_image', task: task1, iter: 1, metric: 'Metric1', variant: 'Test variant', url: 'http://x/1' },
        { type: 'training_debug_image', task: task1, iter: 1, metric: 'Metric2', variant: 'Test variant', url: 'http://x/2' },
        { type: 'log', task: task1, iter: 1, metric: 'Metric2', variant: 'Test variant', msg: 'x' },
        { type: 'training_debug_image', task: task2, iter: 1, metric: 'Metric3', variant: 'Test variant', url: 'http://x/3' },
        scalar(task2, 1, 1, 'loss', 'train'),
        scalar(task2, 1, 1, 'loss', 'val'),
      ]);
      const images = await s.ok(ev.get_task_metrics, { tasks: [task1, task2], event_type: 'training_debug_image' });
      assert.deepEqual(images.metrics, [{ task: task1, metrics: ['Metric1', 'Metric2'] }, { task: task2, metrics: ['Metric3'] }]);
      const logs = await s.ok(ev.get_task_metrics, { tasks: [task1, task2], event_type: 'log' });
      assert.deepEqual(logs.metrics, [{ task: task1, metrics: ['Metric2'] }, { task: task2, metrics: [] }]);
      const all = await s.ok(ev.get_multi_task_metrics, { tasks: [task1, task2] }, { version: '2.28' });
      assert.deepEqual(all.metrics.map((m) => m.metric), ['Metric1', 'Metric2', 'Metric3', 'loss']);
      assert.deepEqual(all.metrics[3]!.variants, ['train', 'val']);
      const plotsOnly = await s.ok(ev.get_multi_task_metrics, { tasks: [task1, task2], event_type: 'plot' }, { version: '2.28' });
      assert.deepEqual(plotsOnly.metrics, []);
      assert.deepEqual(await s.ok(ev.get_scalar_metrics_and_variants, { task: task2 }), { metrics: { loss: ['train', 'val'] } });
      const compared = await s.ok(ev.multi_task_scalar_metrics_iter_histogram, { tasks: [task1, task2] });
      assert.deepEqual(Object.keys(compared.metrics.loss!.train!), [task2]);
      assert.deepEqual(compared.metrics.loss!.train![task2]!.x, [1]);
      const noTasks = await s.fails(ev.get_task_metrics, { tasks: [task1] });
      assert.deepEqual([noTasks.result_code, noTasks.result_subcode], [400, 12]);
    });

    it('deletes the events of a task or a model, refusing locked ones without allow_locked', async () => {
      const task = await newTask(s);
      await okBatch(s, [scalar(task, 1, 1), scalar(task, 2, 2)]);
      assert.deepEqual(await s.ok(ev.delete_for_task, { task }), { deleted: 2 });
      assert.equal((await s.ok(ev.get_task_events, { task })).total, 0);

      const model = await newModel(s);
      await okBatch(s, [{ ...scalar(model, 1, 1), model_event: true }]);
      await s.ok(operations.models.set_ready, { model, publish_task: false });
      const locked = await s.fails(ev.delete_for_model, { model });
      assert.deepEqual([locked.result_code, locked.result_subcode], [400, 201]);
      assert.match(locked.result_msg, /^Cannot update events for a published model/);
      assert.deepEqual(await s.ok(ev.delete_for_model, { model, allow_locked: true }), { deleted: 1 });
      const unknown = await s.fails(ev.delete_for_task, { task: 'nope' });
      assert.deepEqual([unknown.result_code, unknown.result_subcode], [400, 101]);

      const other = await newModel(s);
      await okBatch(s, [{ ...scalar(other, 1, 1), model_event: true }, { ...scalar(other, 2, 1), model_event: true }]);
      const company = (await s.server.services.db.kysely.selectFrom('models').select('company').where('id', '=', other).executeTakeFirstOrThrow()).company;
      assert.equal(await deleteEntityEvents(s.server.services.db, company, other, false), 0);
      assert.equal(await deleteEntityEvents(s.server.services.db, company, other, true), 2);
    });

    it("scopes events to the caller's company", async () => {
      const task = await newTask(s);
      await okBatch(s, [scalar(task, 1, 1)]);
      const stranger = await s.createUser({ newCompany: true });
      const write = await sendBatch(s, [scalar(task, 2, 2)], stranger.token);
      assert.deepEqual([write.status, write.meta.result_subcode], [400, 131]);
      const read = await s.call('events.scalar_metrics_iter_histogram', { task }, { token: stranger.token });
      assert.deepEqual([read.status, read.meta.result_subcode], [400, 101]);
      const del = await s.call('events.delete_for_task', { task }, { token: stranger.token });
      assert.deepEqual([del.status, del.meta.result_subcode], [400, 101]);
      assert.equal((await s.ok(ev.get_task_events, { task })).total, 1);
    });

    it('tracks at most 2000 metric/variant pairs; keeps metric_stats and last_update on tasks', async () => {
      const task = await newTask(s);
      const { task: before } = await s.ok(operations.tasks.get_by_id, { task });
      const events = Array.from({ length: 2001 }, (_, i) => scalar(task, 1, i, `m${Math.floor(i / 100)}`, `v${i % 100}`));
      await okBatch(s, events);
      const { task: t } = await s.ok(operations.tasks.get_by_id, { task });
      const pairs = Object.values(t.last_metrics!).reduce((n, variants) => n + Object.keys(variants).length, 0);
      assert.equal(pairs, 2000);
      assert.ok(t.last_update! > before.last_update!);
      await okBatch(s, [scalar(task, 2, 5, 'm0', 'v0'), scalar(task, 2, 5, 'another', 'pair')]);
      const { task: again } = await s.ok(operations.tasks.get_by_id, { task });
      assert.equal(again.last_metrics![md5('m0')]![md5('v0')]!.value, 5);
      assert.equal(again.last_metrics![md5('another')], undefined);
      await okBatch(s, [{ type: 'plot', task, iter: 3, metric: 'm0', variant: 'p', plot_str: '{}', timestamp: 1_800_000_000_000 }]);
      const row = await s.server.services.db.kysely.selectFrom('tasks').select('metric_stats').where('id', '=', task).executeTakeFirstOrThrow();
      const stats = typeof row.metric_stats === 'string' ? JSON.parse(row.metric_stats) : row.metric_stats;
      assert.deepEqual(stats[md5('m0')], {
        metric: 'm0',
        event_stats_by_type: { training_stats_scalar: { last_update: 1_700_000_000_002 }, plot: { last_update: 1_800_000_000_000 } },
      });
    });

    it('lets every company read the events of a public model, and none write them', async () => {
      const model = await newModel(s, 'shared model');
      await okBatch(s, [{ ...scalar(model, 1, 1), model_event: true }]);
      await s.ok(operations.models.make_public, { ids: [model] });
      const stranger = await s.createUser({ newCompany: true });
      const read = await s.call<Record<string, unknown>>('events.scalar_metrics_iter_histogram', { task: model, model_events: true }, { token: stranger.token });
      assert.equal(read.status, 200);
      assert.deepEqual(Object.keys(read.data), ['Metric1']);
      const write = await sendBatch(s, [{ ...scalar(model, 2, 2), model_event: true }], stranger.token);
      assert.deepEqual([write.status, write.meta.result_subcode], [400, 131]);
    });

    it('lists the unique metric/variant pairs of a project with their hashes', async () => {
      const parent = (await s.ok(operations.projects.create, { name: 'metrics parent' })).id;
      const child = (await s.ok(operations.projects.create, { name: 'metrics parent/child' })).id;
      const task1 = (await s.ok(operations.tasks.create, { name: 'umv one', type: 'training', project: parent })).id;
      const task2 = (await s.ok(operations.tasks.create, { name: 'umv two', type: 'training', project: child })).id;
      const model = (await s.ok(operations.models.create, { name: 'umv model', uri: 'file:///m', project: parent, ready: false })).id;
      await okBatch(s, [scalar(task1, 0, 10, 'Metric1', 'Variant'), scalar(task2, 0, 10, 'Metric2', 'Variant'), { ...scalar(model, 0, 1, 'acc', 'val'), model_event: true }]);
      const op = operations.projectMetrics.get_unique_metric_variants;
      const all = await s.ok(op, { project: parent });
      assert.deepEqual(all.metrics, [
        { metric: 'Metric1', metric_hash: md5('Metric1'), variant: 'Variant', variant_hash: md5('Variant') },
        { metric: 'Metric2', metric_hash: md5('Metric2'), variant: 'Variant', variant_hash: md5('Variant') },
      ]);
      assert.deepEqual((await s.ok(op, { project: parent, include_subprojects: false })).metrics.map((m) => m.metric), ['Metric1']);
      assert.deepEqual((await s.ok(op, { ids: [task2] })).metrics.map((m) => m.metric), ['Metric2']);
      assert.deepEqual((await s.ok(op, { project: parent, model_metrics: true })).metrics.map((m) => m.metric), ['acc']);
    });
  });
}
