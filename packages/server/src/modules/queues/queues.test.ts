import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { operations } from '@cairn/protocol';
import { startTestServer, testDialects, type TestServer } from '../../../test/harness.js';
import { newTask, taskRow } from '../tasks/test-support.js';

const Q = operations.queues;
const T = operations.tasks;

for (const dialect of testDialects()) {
  describe(`queues (${dialect})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer({ dialect });
    });
    after(() => s.stop());

    it('starts with a `default` queue (system tag default) that get_default finds; another company has none (400/707)', async () => {
      const def = await s.ok(Q.get_default, {});
      assert.equal(def.name, 'default');
      const { queues } = await s.ok(Q.get_all, { name: '^default$' });
      assert.equal(queues.length, 1);
      assert.equal(queues[0]!.id, def.id);
      assert.deepEqual(queues[0]!.system_tags, ['default']);
      assert.deepEqual(queues[0]!.entries, []);
      const other = await s.createUser({ newCompany: true });
      const meta = await s.fails(Q.get_default, {}, { token: other.token });
      assert.deepEqual([meta.result_code, meta.result_subcode], [400, 707]);
      assert.deepEqual((await s.ok(Q.get_all, {}, { token: other.token })).queues, []);
      // Nor does it see this company's queue.
      const byId = await s.fails(Q.get_by_id, { queue: def.id }, { token: other.token });
      assert.deepEqual([byId.result_code, byId.result_subcode], [400, 701]);
    });

    it('creates queues with unique names (400/801), tags and metadata, and lists them with the get_all filters', async () => {
      const { id } = await s.ok(Q.create, { name: 'gpu', display_name: 'GPU boxes', tags: ['b', 'a'], metadata: { 'vram.gb': { key: 'vram.gb', type: 'int', value: '24' }, site: { key: 'site', type: 'str', value: 'lab' } } });
      const dup = await s.fails(Q.create, { name: 'gpu' });
      assert.deepEqual([dup.result_code, dup.result_subcode], [400, 801]);
      const { queue } = await s.ok(Q.get_by_id, { queue: id });
      assert.equal(queue.name, 'gpu');
      assert.equal(queue.display_name, 'GPU boxes');
      assert.deepEqual(queue.tags, ['a', 'b']);
      assert.deepEqual(queue.metadata, { 'vram.gb': { key: 'vram.gb', type: 'int', value: '24' }, site: { key: 'site', type: 'str', value: 'lab' } });
      await s.ok(Q.create, { name: 'cpu-small' });
      const named = await s.ok(Q.get_all, { name: '^(gpu|cpu)', only_fields: ['name'], order_by: ['name'] });
      assert.deepEqual(named.queues.map((q) => q.name), ['cpu-small', 'gpu']);
      assert.equal(named.queues[0]!.entries, undefined, 'entries only when projected');
      const notDefault = await s.ok(Q.get_all, { system_tags: ['-default'], only_fields: ['name', 'entries'], order_by: ['-name'] });
      assert.deepEqual(notDefault.queues.map((q) => q.name), ['gpu', 'cpu-small']);
      assert.deepEqual(notDefault.queues[0]!.entries, []);
      const byMeta = await s.ok(Q.get_all, { 'metadata.site.value': ['lab'], only_fields: ['name'] });
      assert.deepEqual(byMeta.queues.map((q) => q.name), ['gpu']);
      const unknown = await s.fails(Q.get_by_id, { queue: 'nope' });
      assert.deepEqual([unknown.result_code, unknown.result_subcode], [400, 701]);
    });

    it('a second queue tagged default makes get_default ambiguous (400/708)', async () => {
      const other = await s.createUser({ newCompany: true });
      await s.ok(Q.create, { name: 'one', system_tags: ['default'] }, { token: other.token });
      assert.equal((await s.ok(Q.get_default, {}, { token: other.token })).name, 'one');
      await s.ok(Q.create, { name: 'two', system_tags: ['default'] }, { token: other.token });
      const meta = await s.fails(Q.get_default, {}, { token: other.token });
      assert.deepEqual([meta.result_code, meta.result_subcode], [400, 708]);
    });

    it('add_task appends (400/706 twice), records execution.queue unless told not to; remove_task takes it out (400/703 when absent)', async () => {
      const { id: queue } = await s.ok(Q.create, { name: 'adds' });
      const a = await newTask(s, { name: 'task a' });
      const b = await newTask(s, { name: 'task b' });
      assert.deepEqual(await s.ok(Q.add_task, { queue, task: a }), { added: 1 });
      await s.ok(Q.add_task, { queue, task: b, update_execution_queue: false });
      const twice = await s.fails(Q.add_task, { queue, task: a });
      assert.deepEqual([twice.result_code, twice.result_subcode], [400, 706]);
      assert.equal((await s.ok(T.get_by_id, { task: a })).task.execution?.queue, queue);
      assert.equal((await s.ok(T.get_by_id, { task: b })).task.execution?.queue, undefined);
      assert.equal((await taskRow(s, a)).status, 'created', 'add_task leaves the status alone');
      const { queue: loaded } = await s.ok(Q.get_by_id, { queue });
      assert.deepEqual(loaded.entries?.map((e) => e.task), [a, b]);
      assert.match(String(loaded.entries?.[0]?.added), /^\d{4}-\d\d-\d\dT.*\+00:00$/);
      assert.deepEqual((await s.ok(Q.get_by_id, { queue, max_task_entries: 1 })).queue.entries?.map((e) => e.task), [a]);
      assert.deepEqual(await s.ok(Q.get_num_entries, { queue }), { num: 2 });
      const unknownTask = await s.fails(Q.add_task, { queue, task: 'nope' });
      assert.deepEqual([unknownTask.result_code, unknownTask.result_subcode], [400, 101]);

      assert.deepEqual(await s.ok(Q.remove_task, { queue, task: a }), { removed: 1 });
      const again = await s.fails(Q.remove_task, { queue, task: a });
      assert.deepEqual([again.result_code, again.result_subcode], [400, 703]);
      assert.deepEqual(await s.ok(Q.get_num_entries, { queue }), { num: 1 });
    });

    it('get_next_task pops oldest first, answers no entry when empty, pops only the named task, and requeues a stopped one', async () => {
      const { id: queue } = await s.ok(Q.create, { name: 'fifo' });
      const ids = [await newTask(s, { name: 'first' }), await newTask(s, { name: 'second' }), await newTask(s, { name: 'third' })];
      for (const task of ids) await s.ok(T.enqueue, { task, queue });
      const notFirst = await s.ok(Q.get_next_task, { queue, task: ids[1] });
      assert.equal(notFirst.entry, undefined, 'the named task is not first');
      const first = await s.ok(Q.get_next_task, { queue, get_task_info: true });
      assert.equal(first.entry?.task, ids[0]);
      const who = await s.ok(operations.users.get_current_user, {});
      assert.deepEqual(first.task_info, { company: (await s.ok(Q.get_by_id, { queue })).queue.company as string, user: who.user.id });
      // A stale stop (an agent's late tasks.stopped) leaves the task stopped while it waits; popping it requeues it.
      await s.ok(T.stopped, { task: ids[1] });
      assert.equal((await taskRow(s, ids[1]!)).status, 'stopped');
      const second = await s.ok(Q.get_next_task, { queue });
      assert.equal(second.entry?.task, ids[1]);
      assert.equal(second.task_info, undefined);
      assert.equal((await taskRow(s, ids[1]!)).status, 'queued');
      assert.equal((await s.ok(Q.get_next_task, { queue, task: ids[2] })).entry?.task, ids[2]);
      assert.deepEqual(await s.ok(Q.get_next_task, { queue }), {});
      const unknown = await s.fails(Q.get_next_task, { queue: 'nope' });
      assert.deepEqual([unknown.result_code, unknown.result_subcode], [400, 701]);
    });

    it('pops every entry exactly once when two agents poll one queue at the same time', async () => {
      const { id: queue } = await s.ok(Q.create, { name: 'contended' });
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) ids.push(await newTask(s, { name: `job ${i}` }));
      await s.ok(T.enqueue_many, { ids, queue });
      const polls = Array.from({ length: 30 }, (_, i) => s.ok(Q.get_next_task, { queue }, { headers: { 'x-clearml-worker': `agent-${i % 2}` } }));
      const popped = (await Promise.all(polls)).map((r) => r.entry?.task).filter((t): t is string => !!t);
      assert.equal(popped.length, 10);
      assert.deepEqual([...popped].sort(), [...ids].sort());
      assert.deepEqual(await s.ok(Q.get_num_entries, { queue }), { num: 0 });
    });

    it('delete refuses a queue with waiting tasks (400/702); with force its tasks return to the status they were enqueued from', async () => {
      const { id: queue } = await s.ok(Q.create, { name: 'doomed' });
      const fresh = await newTask(s, { name: 'was created' });
      const stopped = await newTask(s, { name: 'was stopped' });
      await s.ok(T.started, { task: stopped });
      await s.ok(T.stopped, { task: stopped });
      await s.ok(T.enqueue_many, { ids: [fresh, stopped], queue });
      const refused = await s.fails(Q.delete, { queue });
      assert.deepEqual([refused.result_code, refused.result_subcode], [400, 702]);
      assert.deepEqual(await s.ok(Q.delete, { queue, force: true }), { deleted: 1 });
      assert.equal((await taskRow(s, fresh)).status, 'created');
      assert.equal((await taskRow(s, stopped)).status, 'stopped');
      assert.equal((await taskRow(s, stopped)).enqueue_status, null);
      assert.equal((await taskRow(s, stopped)).status_reason, 'Queue was deleted');
      const gone = await s.fails(Q.get_by_id, { queue });
      assert.deepEqual([gone.result_code, gone.result_subcode], [400, 701]);
      const empty = await s.ok(Q.create, { name: 'empty one' });
      assert.deepEqual(await s.ok(Q.delete, { queue: empty.id }), { deleted: 1 });
    });

    it('get_all_ex names the waiting tasks, expands references and lists the live workers serving each queue', async () => {
      const { id: queue } = await s.ok(Q.create, { name: 'watched' });
      const task = await newTask(s, { name: 'waiting job' });
      await s.ok(T.enqueue, { task, queue });
      await s.ok(operations.workers.register, { worker: 'box-1', queues: [queue] });
      const { queues } = await s.ok(Q.get_all_ex, { id: [queue], only_fields: ['name', 'entries', 'workers', 'user.name'] });
      assert.equal(queues.length, 1);
      assert.deepEqual(queues[0]!.entries?.map((e) => e.task), [{ id: task, name: 'waiting job' }]);
      assert.deepEqual(queues[0]!.workers?.map((w) => [w.name, w.task]), [['box-1', null]]);
      assert.deepEqual(queues[0]!.user, { id: (await s.ok(operations.users.get_current_user, {})).user.id, name: 'admin' });
    });
  });
}
