/**
 * The Cairn agent: a worker that serves queues. It registers, then polls its queues in order; for each task it pops
 * it marks it started, runs the task's recorded command (`<script.binary> <script.entry_point>`, without a shell)
 * in a fresh copy of its working directory with the task id, the server and the credentials in the environment,
 * streams the output into the task's log, pings and reports while it runs, stops it when the task is aborted
 * (`tasks.stop` sets `status_message: "stopping"`: SIGTERM, then SIGKILL after a grace period, then
 * `tasks.stopped`), and marks it completed or failed by its exit code. Several agents may serve one queue: the
 * server pops each entry once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { queues, tasks, workers, type Task as TaskRecord } from '@cairn/protocol';
import type { Session } from '@cairn/sdk';
import { prepareWorkingCopy, removeWorkingCopy } from './workdir.js';
import { TaskOutput } from './output.js';
import { splitCommand } from './command.js';

/** How long an idle agent waits before polling its queues again (ClearML's agent polls every 5 s). */
export const POLL_INTERVAL_MS = 5_000;
/** How often a running task is pinged and checked for an abort. */
export const PING_INTERVAL_MS = 5_000;
/** How long an aborted task may take to exit after SIGTERM before it is killed. */
export const KILL_GRACE_MS = 10_000;
/** The worker registration lapses this long after the last report: an agent that died drops off the list. */
export const WORKER_TIMEOUT_S = 120;
/** A failure message carries at most this many characters of the task's last output. */
export const MAX_FAILURE_MESSAGE_CHARS = 4_000;
/** The status message `tasks.stop` leaves for the agent running the task. */
const STOPPING = 'stopping';
/** Statuses that mean the run was taken away from this agent while it ran. */
const TAKEN_AWAY = new Set(['stopped', 'created', 'queued']);

export interface AgentOptions {
  session: Session;
  /** Queue names, served in this order; none means the company's default queue. */
  queues: string[];
  /** Where working copies are made (one folder per task, removed when it ends). */
  workdir: string;
  /** The worker id (default `<host>:<pid>`). */
  workerId?: string;
  pollIntervalMs?: number;
  pingIntervalMs?: number;
  killGraceMs?: number;
  /** Where the agent says what it does (default stdout). */
  print?: (line: string) => void;
}

interface ResolvedQueue {
  id: string;
  name: string;
}

export class Agent {
  readonly workerId: string;
  private readonly pollMs: number;
  private readonly pingMs: number;
  private readonly graceMs: number;
  private readonly print: (line: string) => void;
  private queueList: ResolvedQueue[] = [];

  constructor(private readonly options: AgentOptions) {
    this.workerId = options.workerId ?? `${os.hostname()}:${process.pid}`;
    this.pollMs = options.pollIntervalMs ?? POLL_INTERVAL_MS;
    this.pingMs = options.pingIntervalMs ?? PING_INTERVAL_MS;
    this.graceMs = options.killGraceMs ?? KILL_GRACE_MS;
    this.print = options.print ?? ((line) => process.stdout.write(`${line}\n`));
  }

  private get client() {
    return this.options.session.client;
  }

  /** Serves the queues until `signal` aborts; a task running then is stopped first. Unregisters on the way out. */
  async run(signal: AbortSignal): Promise<void> {
    this.queueList = await this.resolveQueues();
    const ids = this.queueList.map((q) => q.id);
    await this.client.call(workers.register, { worker: this.workerId, queues: ids, timeout: WORKER_TIMEOUT_S });
    this.print(`worker ${this.workerId} serves ${this.queueList.map((q) => q.name).join(', ')}`);
    try {
      while (!signal.aborted) {
        try {
          await this.report();
          const next = await this.pop();
          if (next) {
            await this.runTask(next.task, next.queue, signal);
            continue;
          }
        } catch (err) {
          // The server may be restarting or unreachable for a while: the agent keeps trying, it does not exit.
          this.print(`${message(err)}; trying again in ${this.pollMs / 1000} s`);
        }
        await sleep(this.pollMs, signal);
      }
    } finally {
      await this.client.call(workers.unregister, { worker: this.workerId }).catch((err) => this.print(`could not unregister ${this.workerId}: ${message(err)}`));
    }
  }

  private async resolveQueues(): Promise<ResolvedQueue[]> {
    if (!this.options.queues.length) {
      const def = await this.client.call(queues.get_default, {});
      return [{ id: def.id, name: def.name }];
    }
    const out: ResolvedQueue[] = [];
    for (const name of this.options.queues) {
      const { queues: found } = await this.client.call(queues.get_all, { name: `^${escapeRegex(name)}$`, only_fields: ['id', 'name'] });
      const queue = found.find((q) => q.name === name);
      if (!queue) throw new Error(`there is no queue named "${name}" (create it, or enqueue a task with queue_name "${name}")`);
      out.push({ id: queue.id, name });
    }
    return out;
  }

  private async report(task?: string, queue?: string): Promise<void> {
    await this.client.call(workers.status_report, {
      worker: this.workerId,
      timestamp: Math.floor(Date.now() / 1000),
      queues: this.queueList.map((q) => q.id),
      ...(task ? { task } : {}),
      ...(queue ? { queue } : {}),
    });
  }

  /** The first waiting task of the first queue that has one. */
  private async pop(): Promise<{ task: string; queue: string } | undefined> {
    for (const queue of this.queueList) {
      const { entry } = await this.client.call(queues.get_next_task, { queue: queue.id });
      const task = entry && (typeof entry.task === 'string' ? entry.task : entry.task.id);
      if (task) return { task, queue: queue.id };
    }
    return undefined;
  }

  private async runTask(taskId: string, queueId: string, signal: AbortSignal): Promise<void> {
    const { task } = await this.client.call(tasks.get_by_id, { task: taskId });
    if (task.status !== 'queued') {
      this.print(`task ${taskId} is ${task.status}, not queued: skipped`);
      return;
    }
    try {
      await this.client.call(tasks.started, { task: taskId, status_reason: 'worker started execution', status_message: `running on ${this.workerId}` });
    } catch (err) {
      // Changed meanwhile (aborted, reset): whoever changed it decides what happens to it.
      this.print(`task ${taskId} could not be started: ${message(err)}; skipped`);
      return;
    }
    await this.report(taskId, queueId);
    const output = new TaskOutput(this.options.session, taskId, this.workerId);
    const command = commandOf(task);
    this.print(`task ${taskId} (${task.name}): ${command || '(no command)'}`);
    let copy: string | undefined;
    let outcome: Outcome;
    try {
      if (!command) throw new Error('the task records no command to run (script.binary and script.entry_point are empty)');
      copy = await prepareWorkingCopy(task.script?.working_dir ?? '', this.options.workdir, taskId);
      await output.note(`${this.workerId} runs: ${command}\nin ${copy}`);
      outcome = await this.execute(taskId, queueId, command, copy, output, signal);
    } catch (err) {
      outcome = { kind: 'error', error: message(err) };
      await output.note(`could not run the task: ${outcome.error}`);
    }
    await output.flush(this.print);
    await this.finish(taskId, outcome, output.lastLines());
    if (copy) await removeWorkingCopy(copy).catch((err) => this.print(`could not remove ${copy}: ${message(err)}`));
    await this.report();
  }

  /** Runs the command in its own process group and watches it until it exits. */
  private async execute(taskId: string, queueId: string, command: string, cwd: string, output: TaskOutput, signal: AbortSignal): Promise<Outcome> {
    const config = this.options.session.config;
    const [program, ...args] = splitCommand(command);
    if (!program) throw new Error('the task records an empty command');
    const child = spawn(program, args, {
      cwd,
      // Its own process group, so an abort reaches whatever the command started.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        CLEARML_TASK_ID: taskId,
        CLEARML_API_HOST: config.apiHost,
        CLEARML_WEB_HOST: config.webHost,
        CLEARML_FILES_HOST: config.filesHost,
        CLEARML_API_ACCESS_KEY: config.accessKey,
        CLEARML_API_SECRET_KEY: config.secretKey,
      },
    });
    const streamed = Promise.all([output.pipe(child.stdout!, 'info'), output.pipe(child.stderr!, 'error')]);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, sig) => resolve({ code, signal: sig }));
    });
    let aborted: string | undefined;
    const watching = new AbortController();
    const watch = (async () => {
      while (!watching.signal.aborted && !aborted) {
        await sleep(this.pingMs, watching.signal);
        if (watching.signal.aborted) return;
        if (signal.aborted) aborted = `the agent ${this.workerId} is shutting down`;
        else aborted = await this.checkAbort(taskId, queueId);
        if (aborted) await this.kill(child, exited);
      }
    })();
    const stopOnShutdown = () => {
      aborted ??= `the agent ${this.workerId} is shutting down`;
      void this.kill(child, exited);
    };
    signal.addEventListener('abort', stopOnShutdown, { once: true });
    try {
      const { code, signal: sig } = await exited;
      await streamed;
      if (aborted) return { kind: 'aborted', reason: aborted };
      if (code === 0) return { kind: 'completed' };
      return { kind: 'failed', code, signal: sig };
    } finally {
      signal.removeEventListener('abort', stopOnShutdown);
      watching.abort();
      await watch;
    }
  }

  /** Pings the task and reports; answers why it must stop when it was aborted (or taken away) meanwhile. */
  private async checkAbort(taskId: string, queueId: string): Promise<string | undefined> {
    try {
      await this.client.call(tasks.ping, { task: taskId });
      await this.report(taskId, queueId);
      const { tasks: [state] } = await this.client.call(tasks.get_all, { id: [taskId], only_fields: ['status', 'status_message'] });
      if (!state) return 'the task was deleted';
      if (state.status === 'in_progress' && state.status_message === STOPPING) return 'aborted';
      // Stopped, reset or enqueued again elsewhere. A task its code marked completed or failed runs to its end.
      if (TAKEN_AWAY.has(state.status ?? '')) return `the task is ${state.status}`;
    } catch (err) {
      this.print(`could not check task ${taskId}: ${message(err)}`);
    }
    return undefined;
  }

  /** SIGTERM to the process group, SIGKILL when it has not exited after the grace period. */
  private async kill(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
    const signalGroup = (sig: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, sig);
      } catch {
        // Gone already.
      }
    };
    signalGroup('SIGTERM');
    const timer = setTimeout(() => signalGroup('SIGKILL'), this.graceMs);
    try {
      await exited;
    } catch {
      // The spawn error is reported by execute().
    } finally {
      clearTimeout(timer);
    }
  }

  /** The task's final status from how its process ended (the code may have set it already: completed stays). */
  private async finish(taskId: string, outcome: Outcome, lastLines: string[]): Promise<void> {
    const { tasks: [state] } = await this.client.call(tasks.get_all, { id: [taskId], only_fields: ['status'] });
    if (!state) return;
    switch (outcome.kind) {
      case 'completed':
        if (state.status === 'in_progress') await this.client.call(tasks.completed, { task: taskId, status_reason: 'completed', status_message: `completed on ${this.workerId}` });
        this.print(`task ${taskId} completed`);
        return;
      case 'aborted':
        if (state.status === 'in_progress') await this.client.call(tasks.stopped, { task: taskId, force: true, status_reason: outcome.reason, status_message: `stopped on ${this.workerId}` });
        this.print(`task ${taskId} stopped: ${outcome.reason}`);
        return;
      default: {
        const how = outcome.kind === 'error' ? outcome.error : outcome.code !== null ? `exit code ${outcome.code}` : `killed by ${outcome.signal}`;
        const text = failureText(how, lastLines);
        await this.client.call(tasks.failed, { task: taskId, force: true, status_reason: how, status_message: text });
        await this.client.call(tasks.update, { task: taskId, output__error: text });
        this.print(`task ${taskId} failed: ${how}`);
      }
    }
  }
}

type Outcome =
  | { kind: 'completed' }
  | { kind: 'aborted'; reason: string }
  | { kind: 'failed'; code: number | null; signal: NodeJS.Signals | null }
  | { kind: 'error'; error: string };

/** `<binary> <entry_point>`: the command line the task's script recorded. */
export function commandOf(task: Pick<TaskRecord, 'script'>): string {
  const entry = task.script?.entry_point?.trim() ?? '';
  if (!entry) return '';
  return [task.script?.binary?.trim() || 'node', entry].join(' ');
}

/** How the task ended and its last output lines; a long output is cut at its start (its end says most). */
export function failureText(how: string, lastLines: string[]): string {
  let tail = lastLines.join('\n');
  if (!tail) return how;
  const room = Math.max(0, MAX_FAILURE_MESSAGE_CHARS - how.length - 20);
  if (tail.length > room) tail = `…${tail.slice(tail.length - room)}`;
  return `${how}; last output:\n${tail}`;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Waits `ms`, or less when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
