import os from 'node:os';
import { LOG_LEVELS } from '@cairn/protocol';
import { UsageError } from '../errors.js';
import { Reporter } from './reporter.js';
import type { EventPipeline } from './pipeline.js';

/** The level of a log line on the task's console (the SDK's own warnings use `LogLevel` from log.ts). */
export type LogLineLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  pipeline: EventPipeline;
  /** The task's id (or the promise of it). */
  entityId: () => Promise<string> | string;
  /** Sent with log lines, as ClearML's `worker` (defaults to the host name). */
  worker?: string;
}

/**
 * Task-level reporting (ClearML's `Logger`): the same report kinds as a model, on the task's
 * Scalars and Plots, plus log lines for its console.
 */
export class Logger extends Reporter {
  private readonly worker: string;

  constructor(options: LoggerOptions) {
    super({ pipeline: options.pipeline, entityId: options.entityId, modelEvent: false });
    this.worker = options.worker ?? os.hostname();
  }

  /** One log line on the task's console; also printed here unless `printConsole` is false. */
  reportText(message: string, options: { level?: LogLineLevel; printConsole?: boolean } = {}): void | Promise<void> {
    if (typeof message !== 'string') throw new UsageError(`message must be a string, got ${JSON.stringify(message)}`);
    const level = options.level ?? 'info';
    if (!LOG_LEVELS.includes(level)) throw new UsageError(`level must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
    if (options.printConsole ?? true) (level === 'error' || level === 'fatal' || level === 'critical' ? console.error : console.log)(message);
    return this.pipeline.enqueue({
      timestamp: Date.now(),
      type: 'log',
      task: this.entity.id ?? this.entity,
      level,
      worker: this.worker,
      msg: message,
      model_event: false,
    });
  }
}
