/**
 * Background weights uploads of this process (decision 4). Uploads run one at a time in submission order, so a
 * later `updateWeights` of a model always lands after an earlier one; a caller is held back while
 * MAX_PENDING_UPLOADS are still waiting. A failed upload is kept, as an `UploadError` naming file, destination
 * and cause, until a later upload of the same model succeeds or its task is closed: `waitForUploads()` and
 * `task.close()` reject with it, so no failure is ever lost.
 */
import { UploadError } from '../errors.js';

/** ClearML's SDK holds `update_weights` back while two earlier model uploads are still pending. */
export const MAX_PENDING_UPLOADS = 2;

export interface UploadJob {
  taskId: string;
  /** Identifies the model, so a later success supersedes an earlier failure of the same model. */
  model: object;
  file: string;
  destination: string;
  run: () => Promise<unknown>;
}

interface Entry {
  job: UploadJob;
  state: 'pending' | 'done' | 'failed';
  error?: UploadError;
  settled: Promise<void>;
}

export class UploadQueue {
  private tail: Promise<void> = Promise.resolve();
  private entries: Entry[] = [];

  /** Queues an upload; it starts when every earlier one has finished. */
  enqueue(job: UploadJob): Promise<void> {
    const entry: Entry = { job, state: 'pending', settled: Promise.resolve() };
    entry.settled = this.tail.then(async () => {
      try {
        await job.run();
        entry.state = 'done';
        // The model now points at a complete object: an earlier failure of it is no longer the story.
        this.entries = this.entries.filter((e) => e !== entry && !(e.job.model === job.model && e.state === 'failed'));
      } catch (err) {
        entry.state = 'failed';
        entry.error = err instanceof UploadError ? err : new UploadError(job.file, job.destination, { cause: err });
      }
    });
    this.tail = entry.settled;
    this.entries.push(entry);
    return entry.settled;
  }

  /** Called right after `enqueue`: resolves once fewer than MAX_PENDING_UPLOADS uploads before the newest are pending. */
  async waitForSlot(): Promise<void> {
    for (;;) {
      const pending = this.entries.filter((e) => e.state === 'pending');
      if (pending.length <= MAX_PENDING_UPLOADS) return;
      await pending[0].settled;
    }
  }

  /**
   * Waits for the uploads pending now (of one task, or all), oldest first, at most `maxNumUploads` of them and
   * for at most `timeoutMs`; then rejects with the first failed upload still on record.
   */
  async wait(options: { taskId?: string; timeoutMs?: number; maxNumUploads?: number } = {}): Promise<void> {
    const pending = this.entries.filter((e) => e.state === 'pending' && (!options.taskId || e.job.taskId === options.taskId));
    const waited = options.maxNumUploads === undefined ? pending : pending.slice(0, Math.max(0, options.maxNumUploads));
    const all = Promise.all(waited.map((e) => e.settled)).then(() => undefined);
    if (options.timeoutMs === undefined) {
      await all;
    } else if (options.timeoutMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, options.timeoutMs);
      });
      await Promise.race([all, timeout]);
      clearTimeout(timer);
    }
    const failed = this.failures(options.taskId);
    if (failed.length) throw failed[0];
  }

  /** Failed uploads still on record (of one task, or all). */
  failures(taskId?: string): UploadError[] {
    return this.entries.filter((e) => e.state === 'failed' && (!taskId || e.job.taskId === taskId)).map((e) => e.error as UploadError);
  }

  /** Waits until this model's queued uploads have finished, whatever their outcome. */
  async settle(model: object): Promise<void> {
    await Promise.all(this.entries.filter((e) => e.job.model === model).map((e) => e.settled));
  }

  /** Waits for this model's queued uploads; rejects with its failure when one failed. */
  async waitForModel(model: object): Promise<void> {
    await Promise.all(this.entries.filter((e) => e.job.model === model).map((e) => e.settled));
    const failed = this.entries.find((e) => e.job.model === model && e.state === 'failed');
    if (failed?.error) throw failed.error;
  }

  /** Drops a task's failure records once its close has reported them. */
  forgetTask(taskId: string): void {
    this.entries = this.entries.filter((e) => e.state === 'pending' || e.job.taskId !== taskId);
  }
}

/** The one queue of this process: `OutputModel.waitForUploads()` is process-wide, as in ClearML. */
export const uploadQueue = new UploadQueue();
