/** Runs the `cairn` command as a child process, as users run it, for the CLI's tests. */
import { spawn } from 'node:child_process';
import path from 'node:path';

/** The CLI from its sources, what `npx cairn` starts. */
export const SOURCE_CLI = path.resolve(import.meta.dirname, '../bin/cairn.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `cairn <args>` (or `command <args>`) with exactly `env` plus PATH, and collects what it printed. */
export function runCli(args: string[], env: Record<string, string>, command: string[] = [process.execPath, SOURCE_CLI]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, [...command.slice(1), ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
