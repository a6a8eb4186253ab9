/**
 * A running task's output: every line the child writes goes to the task's log (`events.add_batch` log events,
 * batched by the SDK's event pipeline, which also holds the child back when the server cannot keep up), and the
 * last lines are kept for the failure message.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Session } from '@cairn/sdk';

/** Lines kept for the message of a failed task. */
export const LAST_LINES_KEPT = 20;
/** A longer line is cut (a progress bar without newlines must not grow one event without bound). */
export const MAX_LINE_CHARS = 16_384;

export class TaskOutput {
  private readonly last: string[] = [];

  constructor(
    private readonly session: Session,
    private readonly taskId: string,
    private readonly worker: string,
  ) {}

  /** One line from the agent itself (what it runs, how it ended). */
  async note(message: string): Promise<void> {
    await this.add(message, 'info', false);
  }

  /** Reads a stream to its end, line by line (stderr lines are logged as errors). */
  async pipe(stream: Readable, level: 'info' | 'error'): Promise<void> {
    for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) await this.add(line, level, true);
  }

  /** The last lines the task printed, oldest first. */
  lastLines(): string[] {
    return [...this.last];
  }

  /** Waits until every line is stored; a refusal is reported, not thrown (the task's outcome does not depend on it). */
  async flush(warn: (message: string) => void): Promise<void> {
    try {
      await this.session.flushEvents();
    } catch (err) {
      warn(`some log lines of task ${this.taskId} were not stored: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  private async add(line: string, level: 'info' | 'error', keep: boolean): Promise<void> {
    const msg = line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line;
    if (keep) {
      this.last.push(msg);
      if (this.last.length > LAST_LINES_KEPT) this.last.shift();
    }
    const wait = this.session.events.enqueue({ type: 'log', task: this.taskId, level, msg, worker: this.worker, timestamp: Date.now(), model_event: false });
    if (wait) await wait;
  }
}
