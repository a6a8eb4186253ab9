import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { Session } from '@cairn/sdk';
import { Agent, POLL_INTERVAL_MS } from '../agent/agent.js';
import { action } from '../output.js';

/** Where working copies go by default. */
const DEFAULT_WORKDIR = path.join(os.homedir(), '.cairn', 'agent');

interface AgentCommandOptions {
  queue: string[];
  workdir?: string;
  id?: string;
  pollInterval?: string;
}

/** Serves the queues until SIGINT or SIGTERM; a task running then is stopped first. */
async function runAgent(opts: AgentCommandOptions): Promise<void> {
  const pollSeconds = opts.pollInterval === undefined ? undefined : Number(opts.pollInterval);
  if (pollSeconds !== undefined && !(pollSeconds > 0)) throw new Error(`--poll-interval must be a positive number of seconds, not ${opts.pollInterval}`);
  const agent = new Agent({
    session: new Session(),
    queues: opts.queue,
    workdir: path.resolve(opts.workdir ?? DEFAULT_WORKDIR),
    workerId: opts.id,
    pollIntervalMs: pollSeconds === undefined ? undefined : pollSeconds * 1000,
  });
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());
  await agent.run(stop.signal);
}

export function agentCommand(): Command {
  return new Command('agent')
    .description('Serve queues: run the tasks enqueued in them, one at a time (server and credentials from clearml.conf or CLEARML_* variables)')
    .option('--queue <name>', 'a queue to serve (repeat for several, served in order; default: the default queue)', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .option('--workdir <dir>', `where each task runs, in a copy of its working directory (default ${DEFAULT_WORKDIR})`)
    .option('--id <worker>', 'the worker id (default <host>:<pid>)')
    .option('--poll-interval <seconds>', `how often an idle agent polls its queues (default ${POLL_INTERVAL_MS / 1000})`)
    .action(action(runAgent));
}
