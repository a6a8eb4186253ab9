/**
 * Child processes of the benchmarks: a Cairn server, a bare reference server, worker clients. Each is started
 * with tsx and an IPC channel, announces itself with one message, and is stopped by its pid (SIGKILL if it
 * does not exit in time; also when the benchmark process itself exits).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** A child that has not announced itself within this is considered broken. */
const START_TIMEOUT_MS = 60_000;
/** A child asked to stop gets this long before SIGKILL. */
const STOP_TIMEOUT_MS = 10_000;

export const benchDir = path.resolve(import.meta.dirname, '..');
export const repoRoot = path.resolve(benchDir, '..');

export interface Child<T> {
  readonly process: ChildProcess;
  readonly pid: number;
  /** The child's first message. */
  readonly hello: T;
  /** Sends a request and resolves with the child's answer carrying the same id. */
  ask<R>(message: Record<string, unknown>): Promise<R>;
  /** Resident set size in bytes, read from /proc. */
  rss(): number;
  stop(): Promise<void>;
}

let nextId = 1;

/** Forks `script` (a .ts file, run through tsx) and waits for its first message. */
export function startChild<T>(script: string, args: string[] = [], options: { execArgv?: string[]; env?: NodeJS.ProcessEnv } = {}): Promise<Child<T>> {
  // `CAIRN_BENCH_PROFILE=<dir>` profiles every child too (the benchmark itself is started with --cpu-prof).
  const profile = process.env.CAIRN_BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.CAIRN_BENCH_PROFILE}`] : [];
  const child = fork(script, args, {
    execArgv: [...profile, ...(options.execArgv ?? []), '--import', 'tsx'],
    env: options.env ?? process.env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const waiting = new Map<number, { answer: (value: unknown) => void; fail: (err: Error) => void }>();
  child.once('exit', () => {
    for (const { fail } of waiting.values()) fail(new Error(`${path.basename(script)} exited before answering`));
    waiting.clear();
  });

  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (child.connected) child.send({ type: 'stop', id: 0 });
    else child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${path.basename(script)} did not start within ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
    const onExit = (code: number | null, signal: string | null) => {
      clearTimeout(timer);
      reject(new Error(`${path.basename(script)} exited (${code ?? signal}) before it was ready`));
    };
    child.once('exit', onExit);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('message', (message: { id?: number }) => {
      if (typeof message.id === 'number' && waiting.has(message.id)) {
        const { answer } = waiting.get(message.id)!;
        waiting.delete(message.id);
        answer(message);
        return;
      }
      if (message.id !== undefined) return;
      clearTimeout(timer);
      child.removeListener('exit', onExit);
      resolve({
        process: child,
        pid: child.pid!,
        hello: message as T,
        ask<R>(request: Record<string, unknown>) {
          const id = nextId++;
          return new Promise<R>((answer, fail) => {
            waiting.set(id, { answer: answer as (value: unknown) => void, fail });
            child.send({ ...request, id });
          });
        },
        rss: () => rssOf(child.pid!),
        stop,
      });
    });
  });
}

/** Resident set size of a process in bytes (Linux). */
export function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  if (!kb) throw new Error(`no VmRSS for process ${pid}`);
  return Number(kb) * 1024;
}

export interface CairnServer {
  dataDir: string;
  url: string;
  apiUrl: string;
  filesUrl: string;
  accessKey: string;
  secretKey: string;
  child: Child<CairnHello>;
  /** Server-side request times (ms) by kind (`login`, `api`, `files`, `other`) since the last call. */
  latency(): Promise<Record<string, number[]>>;
  /** The same, with the answers of status 400 or more counted by `<kind> <status>`, and the slowest requests. */
  requests(): Promise<{ samples: Record<string, number[]>; refused: Record<string, number>; slowest: Record<string, { ms: number; request: string }[]> }>;
  stop(): Promise<void>;
}

interface CairnHello {
  url: string;
  apiUrl: string;
  filesUrl: string;
  accessKey: string;
  secretKey: string;
}

export interface CairnServerOptions {
  dataDir: string;
  databaseUrl?: string;
  pgSchema?: string;
  webDist?: string;
}

/** A Cairn server (fresh data folder or database schema) in its own process. */
export async function startCairn(options: CairnServerOptions): Promise<CairnServer> {
  const child = await startChild<CairnHello>(path.join(benchDir, 'lib/server-main.ts'), [JSON.stringify(options)]);
  const hello = child.hello;
  if (!hello.accessKey || !hello.secretKey) {
    await child.stop();
    throw new Error('the server did not create an admin key pair: is the data folder fresh?');
  }
  return {
    ...hello,
    dataDir: options.dataDir,
    child,
    async latency() {
      return (await child.ask<{ samples: Record<string, number[]> }>({ type: 'latency' })).samples;
    },
    requests: () => child.ask<{ samples: Record<string, number[]>; refused: Record<string, number>; slowest: Record<string, { ms: number; request: string }[]> }>({ type: 'latency' }),
    stop: () => child.stop(),
  };
}
