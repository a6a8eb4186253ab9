import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { events, queues, tasks, workers, type RequestOf } from '@cairn/protocol';
import { Session } from '@cairn/sdk';
import { startTestServer, testDialects, type TestServer } from '@cairn/server/test-harness';
import { Agent, failureText } from './agent.js';
import { splitCommand } from './command.js';

/** Waits in the tests are bounded so a broken agent fails the test instead of hanging it. */
const WAIT_TIMEOUT_MS = 60_000;
const POLL_MS = 50;

/**
 * The job the tasks run: appends its task id to a ledger file, prints a line on stdout and one on stderr, then
 * behaves as its first argument says.
 */
const JOB = `
import { appendFileSync, writeFileSync } from 'node:fs';
const [mode, ledger, pidFile] = process.argv.slice(2);
appendFileSync(ledger, process.env.CLEARML_TASK_ID + '\\n');
console.log('hello from ' + process.env.CLEARML_TASK_ID + ' at ' + process.env.CLEARML_API_HOST + ' as ' + process.env.CLEARML_API_ACCESS_KEY);
console.error('a warning on stderr');
if (pidFile) writeFileSync(pidFile, String(process.pid));
if (mode === 'fail') {
  for (let i = 1; i <= 25; i++) console.log('step ' + i);
  console.log('about to fail');
  process.exit(3);
}
if (mode === 'selfcomplete') {
  // What the SDK's task.close() does in the job: the task is completed before the process ends.
  const api = process.env.CLEARML_API_HOST;
  const basic = Buffer.from(process.env.CLEARML_API_ACCESS_KEY + ':' + process.env.CLEARML_API_SECRET_KEY).toString('base64');
  const { data } = await (await fetch(api + '/auth.login', { method: 'POST', headers: { authorization: 'Basic ' + basic } })).json();
  await fetch(api + '/tasks.completed', { method: 'POST', headers: { authorization: 'Bearer ' + data.token, 'content-type': 'application/json' }, body: JSON.stringify({ task: process.env.CLEARML_TASK_ID }) });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  console.log('still printing after completing');
}
if (mode === 'sleep' || mode === 'stubborn') {
  process.on('SIGTERM', () => {
    console.log('got SIGTERM');
    if (mode === 'sleep') process.exit(143);
  });
  setInterval(() => console.log('tick'), 100);
}
`;

async function eventually<T>(what: string, check: () => Promise<T | undefined | false>): Promise<T> {
  const deadline = Date.now() + WAIT_TIMEOUT_MS;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Whether the process runs: it exists and is not a zombie waiting for a parent that is gone to reap it. */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

for (const dialect of testDialects()) {
  describe(`cairn agent (${dialect})`, () => {
    let s: TestServer;
    let scratch: string;
    let code: string;
    let ledger: string;
    const running: { stop: AbortController; done: Promise<void> }[] = [];
    const printed: string[] = [];

    before(async () => {
      s = await startTestServer({ dialect });
      scratch = mkdtempSync(path.join(os.tmpdir(), 'cairn-agent-'));
      code = path.join(scratch, 'code');
      ledger = path.join(scratch, 'ledger.txt');
      writeFileSync(ledger, '');
      rmSync(code, { recursive: true, force: true });
      await import('node:fs/promises').then((fs) => fs.mkdir(code));
      writeFileSync(path.join(code, 'job.mjs'), JOB);
    });
    after(async () => {
      for (const a of running) a.stop.abort();
      await Promise.all(running.map((a) => a.done));
      await s.stop();
      rmSync(scratch, { recursive: true, force: true });
    });

    const session = (fetchImpl?: typeof fetch) =>
      new Session({ apiHost: s.apiUrl, filesHost: s.filesUrl, accessKey: s.accessKey, secretKey: s.secretKey, env: {}, cacheDir: path.join(scratch, 'cache'), fetch: fetchImpl });

    function startAgent(queue: string, id: string, fetchImpl?: typeof fetch): { stop: AbortController; done: Promise<void> } {
      const agent = new Agent({
        session: session(fetchImpl),
        queues: [queue],
        workdir: path.join(scratch, 'work'),
        workerId: id,
        pollIntervalMs: 100,
        pingIntervalMs: 200,
        killGraceMs: 1_000,
        print: (line) => printed.push(`${id}: ${line}`),
      });
      const stop = new AbortController();
      const handle = { stop, done: agent.run(stop.signal) };
      running.push(handle);
      return handle;
    }

    async function job(name: string, args: string, extra: Partial<RequestOf<typeof tasks.create>> = {}): Promise<string> {
      return (await s.ok(tasks.create, { name, type: 'training', script: { binary: 'node', entry_point: `job.mjs ${args}`, working_dir: code }, ...extra })).id;
    }

    const status = async (id: string) => (await s.ok(tasks.get_by_id, { task: id })).task;
    const logOf = async (id: string) => (await s.ok(events.get_task_log, { task: id, batch_size: 1000, navigate_earlier: false })).events.map((e) => String(e.msg));

    it('two agents on one queue run each of ten tasks exactly once, with its log stored', { timeout: WAIT_TIMEOUT_MS * 2 }, async () => {
      const { id: queue } = await s.ok(queues.create, { name: 'shared' });
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) ids.push(await job(`job ${i}`, `ok ${ledger}`));
      await s.ok(tasks.enqueue_many, { ids, queue });
      const a = startAgent('shared', 'agent-a');
      const b = startAgent('shared', 'agent-b');
      await eventually('ten completed tasks', async () => {
        const { tasks: list } = await s.ok(tasks.get_all, { id: ids, only_fields: ['status'] });
        return list.every((t) => t.status === 'completed');
      });
      const ran = readFileSync(ledger, 'utf8').trim().split('\n');
      assert.equal(ran.length, 10, 'ten runs');
      assert.deepEqual([...new Set(ran)].sort(), [...ids].sort(), 'each task once');
      for (const id of ids) {
        const task = await status(id);
        assert.ok(['agent-a', 'agent-b'].includes(String(task.last_worker)), `${id} ran on an agent`);
        assert.ok(task.started && task.completed, 'started and completed are set');
        const log = await logOf(id);
        assert.ok(log.includes(`hello from ${id} at ${s.apiUrl} as ${s.accessKey}`), `the log of ${id} holds its stdout: ${JSON.stringify(log)}`);
        assert.ok(log.includes('a warning on stderr'));
      }
      const stderrLine = (await s.ok(events.get_task_log, { task: ids[0]!, navigate_earlier: false })).events.find((e) => e.msg === 'a warning on stderr');
      assert.equal(stderrLine?.level, 'error');
      assert.deepEqual(readdirSync(path.join(scratch, 'work')), [], 'working copies are removed');
      const listed = (await s.ok(workers.get_all, {})).workers.map((w) => w.id).sort();
      assert.deepEqual(listed, ['agent-a', 'agent-b']);
      a.stop.abort();
      b.stop.abort();
      await Promise.all([a.done, b.done]);
      assert.deepEqual((await s.ok(workers.get_all, {})).workers, [], 'stopped agents unregister');
    });

    it('aborting a running task stops its process (SIGTERM, then SIGKILL when ignored) and marks it stopped', { timeout: WAIT_TIMEOUT_MS * 2 }, async () => {
      await s.ok(queues.create, { name: 'aborts' });
      const agent = startAgent('aborts', 'agent-abort');
      for (const mode of ['sleep', 'stubborn']) {
        const pidFile = path.join(scratch, `${mode}.pid`);
        const id = await job(`${mode} job`, `${mode} ${ledger} ${pidFile}`);
        await s.ok(tasks.enqueue, { task: id, queue_name: 'aborts' });
        await eventually(`${mode} running`, async () => (await status(id)).status === 'in_progress' && existsSync(pidFile) && (await logOf(id)).includes('tick'));
        const pid = Number(readFileSync(pidFile, 'utf8'));
        assert.ok(alive(pid));
        await s.ok(tasks.stop, { task: id });
        assert.equal((await status(id)).status_message, 'stopping', 'the agent is asked to stop it');
        await eventually(`${mode} stopped`, async () => (await status(id)).status === 'stopped');
        assert.equal(alive(pid), false, 'the process is gone');
        assert.ok((await logOf(id)).includes('got SIGTERM'), 'it was asked first');
      }
      agent.stop.abort();
      await agent.done;
    });

    it('a task whose command fails is marked failed with its exit code and last lines; one that cannot start fails too', { timeout: WAIT_TIMEOUT_MS * 2 }, async () => {
      await s.ok(queues.create, { name: 'failures' });
      const agent = startAgent('failures', 'agent-fail');
      const failing = await job('failing job', `fail ${ledger}`);
      const empty = (await s.ok(tasks.create, { name: 'nothing to run', type: 'training' })).id;
      const missing = await job('missing program', 'x', { script: { binary: 'no-such-program-here', entry_point: 'job.mjs', working_dir: code } });
      await s.ok(tasks.enqueue_many, { ids: [failing, empty, missing], queue_name: 'failures' });
      await eventually('all failed', async () => (await Promise.all([failing, empty, missing].map(status))).every((t) => t.status === 'failed'));
      assert.match(String((await status(missing)).status_message), /spawn no-such-program-here ENOENT/);
      const task = await status(failing);
      assert.equal(task.status_reason, 'exit code 3');
      assert.match(String(task.status_message), /^exit code 3; last output:\n/);
      // stdout and stderr arrive through separate pipes, so the stderr line may come last.
      assert.match(String(task.status_message), /about to fail(\na warning on stderr)?$/);
      assert.ok(String(task.status_message).includes('step 25'));
      assert.ok(!String(task.status_message).includes('step 5\n'), 'only the last lines');
      assert.equal(task.output?.error, task.status_message);
      const none = await status(empty);
      assert.match(String(none.status_message), /records no command/);
      agent.stop.abort();
      await agent.done;
      assert.ok(printed.some((line) => line.startsWith('agent-fail: task') && line.includes('failed: exit code 3')));
    });

    it('lets a task that its code marked completed run to its end', { timeout: WAIT_TIMEOUT_MS }, async () => {
      await s.ok(queues.create, { name: 'self' });
      const agent = startAgent('self', 'agent-self');
      const id = await job('completes itself', `selfcomplete ${ledger}`);
      await s.ok(tasks.enqueue, { task: id, queue_name: 'self' });
      await eventually('the run ended', async () => printed.some((line) => line === `agent-self: task ${id} completed`));
      assert.equal((await status(id)).status, 'completed');
      assert.ok((await logOf(id)).includes('still printing after completing'), 'not killed by the pings that saw it completed');
      agent.stop.abort();
      await agent.done;
    });

    it('keeps serving its queues while the server cannot be reached for a while', { timeout: WAIT_TIMEOUT_MS }, async () => {
      await s.ok(queues.create, { name: 'flaky' });
      let refused = 0;
      const flaky: typeof fetch = async (input, init) => {
        if (String(input).endsWith('/queues.get_next_task') && refused < 3) {
          refused++;
          throw new TypeError('fetch failed');
        }
        return fetch(input, init);
      };
      const agent = startAgent('flaky', 'agent-flaky', flaky);
      const id = await job('after an outage', `ok ${ledger}`);
      await s.ok(tasks.enqueue, { task: id, queue_name: 'flaky' });
      await eventually('the task ran', async () => (await status(id)).status === 'completed');
      assert.equal(refused, 3);
      assert.equal(printed.filter((line) => line.startsWith('agent-flaky: ') && line.includes('cannot reach the API server') && line.endsWith('trying again in 0.1 s')).length, 3);
      agent.stop.abort();
      await agent.done;
    });

    it('refuses to start on a queue that does not exist', async () => {
      const agent = new Agent({ session: session(), queues: ['no such queue'], workdir: path.join(scratch, 'work'), print: () => undefined });
      await assert.rejects(agent.run(new AbortController().signal), /there is no queue named "no such queue"/);
    });
  });
}

describe('agent failure text', () => {
  it('keeps the end of a long output within the limit', () => {
    assert.equal(failureText('exit code 1', []), 'exit code 1');
    const text = failureText('exit code 2', Array.from({ length: 20 }, (_, i) => `${i}`.repeat(400)));
    assert.ok(text.length <= 4_000);
    assert.ok(text.startsWith('exit code 2; last output:\n…'));
    assert.ok(text.endsWith('19'.repeat(400)));
  });
});

describe('agent command lines', () => {
  it('splits the recorded command as a shell would, without running a shell', () => {
    assert.deepEqual(splitCommand(`node --import tsx train.ts --name 'my run' "a \\"b\\"" c\\ d ''`), ['node', '--import', 'tsx', 'train.ts', '--name', 'my run', 'a "b"', 'c d', '']);
    assert.deepEqual(splitCommand(`echo 'it'\\''s' $HOME; rm -rf x`), ['echo', "it's", '$HOME;', 'rm', '-rf', 'x']);
    assert.throws(() => splitCommand(`node 'open`), /unclosed ' quote/);
  });
});
