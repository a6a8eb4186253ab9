/** `cairn task clone|enqueue|status|abort`: remote execution from scripts, over the API client (`--json` for machines). */
import { Command } from 'commander';
import { queues, tasks, type Task as TaskRecord } from '@cairn/protocol';
import { Session } from '@cairn/sdk';
import { action, formatFields, printJson, printText } from '../output.js';

const STATUS_FIELDS = ['id', 'name', 'status', 'status_reason', 'status_message', 'project', 'execution.queue', 'last_worker', 'started', 'completed', 'last_update', 'output.error'];

interface JsonOption {
  json?: boolean;
}

/** The task's state as the commands print it. */
function summary(task: TaskRecord): Record<string, unknown> {
  const project = typeof task.project === 'object' && task.project !== null ? task.project.id : task.project;
  return {
    id: task.id,
    name: task.name,
    status: task.status,
    status_reason: task.status_reason ?? '',
    status_message: task.status_message ?? '',
    project: project ?? null,
    queue: task.execution?.queue ?? null,
    worker: task.last_worker ?? null,
    started: task.started ?? null,
    completed: task.completed ?? null,
    last_update: task.last_update ?? null,
    error: task.output?.error ?? null,
  };
}

/** Prints `value` as JSON, or its set fields as aligned `key: value` lines. */
function print(value: Record<string, unknown>, json: boolean | undefined): void {
  if (json) return printJson(value);
  const shown = Object.entries(value).filter(([, v]) => v !== undefined && v !== null && v !== '');
  printText(formatFields(shown.map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])));
}

async function loadTask(session: Session, id: string): Promise<TaskRecord> {
  const { tasks: found } = await session.client.call(tasks.get_all, { id: [id], only_fields: STATUS_FIELDS, search_hidden: true });
  if (!found[0]) throw new Error(`there is no task with id ${id}`);
  return found[0];
}

/** The id of the queue with exactly this name, or of the default queue. */
async function queueId(session: Session, name: string | undefined): Promise<string> {
  if (!name) return (await session.client.call(queues.get_default, {})).id;
  const pattern = `^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`;
  const queue = (await session.client.call(queues.get_all, { name: pattern, only_fields: ['id', 'name'] })).queues.find((q) => q.name === name);
  if (!queue) throw new Error(`there is no queue named "${name}"`);
  return queue.id;
}

async function cloneTask(source: string, opts: JsonOption & { name?: string; project?: string }): Promise<void> {
  const session = new Session();
  const { id } = await session.client.call(tasks.clone, {
    task: source,
    ...(opts.name ? { new_task_name: opts.name } : {}),
    ...(opts.project ? { new_project_name: opts.project } : {}),
  });
  print({ ...summary(await loadTask(session, id)), source }, opts.json);
}

async function enqueueTask(id: string, opts: JsonOption & { queue?: string }): Promise<void> {
  const session = new Session();
  await session.client.call(tasks.enqueue, { task: id, queue: await queueId(session, opts.queue), status_reason: 'enqueued from the command line' });
  print(summary(await loadTask(session, id)), opts.json);
}

async function taskStatus(id: string, opts: JsonOption): Promise<void> {
  print(summary(await loadTask(new Session(), id)), opts.json);
}

async function abortTask(id: string, opts: JsonOption): Promise<void> {
  const session = new Session();
  await session.client.call(tasks.stop, { task: id, status_reason: 'aborted from the command line' });
  print(summary(await loadTask(session, id)), opts.json);
}

export function taskCommand(): Command {
  const task = new Command('task').description('Clone, enqueue, watch and abort tasks (server and credentials from clearml.conf or CLEARML_* variables)');
  task
    .command('clone')
    .argument('<id>', 'the task to copy')
    .description('Copy a task into a new draft (status created) that can be edited and enqueued')
    .option('--name <name>', 'the new task name (default: the source name)')
    .option('--project <name>', 'put the clone in this project (created when missing)')
    .option('--json', 'print JSON')
    .action(action(cloneTask));
  task
    .command('enqueue')
    .argument('<id>', 'task id')
    .description('Put a task in a queue for an agent to run')
    .option('--queue <name>', 'the queue (default: the default queue)')
    .option('--json', 'print JSON')
    .action(action(enqueueTask));
  task.command('status').argument('<id>', 'task id').description("Print a task's status, queue, worker and times").option('--json', 'print JSON').action(action(taskStatus));
  task
    .command('abort')
    .argument('<id>', 'task id')
    .description('Stop a task: a queued one leaves its queue, a running one is stopped by its agent')
    .option('--json', 'print JSON')
    .action(action(abortTask));
  return task;
}
