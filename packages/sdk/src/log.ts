/**
 * The SDK's log lines (warnings such as a model that could not be registered on a closed task). Level from
 * `CLEARML_LOG_LEVEL` (debug, info, warning, error; default warning); the sink is replaceable so an application
 * can route them, and tests can read them.
 */
export type LogLevel = 'debug' | 'info' | 'warning' | 'error';
export type LogSink = (level: LogLevel, message: string) => void;

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warning: 30, error: 40 };

function levelFromEnv(): LogLevel {
  const raw = (process.env.CLEARML_LOG_LEVEL ?? '').toLowerCase();
  if (raw === 'warn') return 'warning';
  return raw in ORDER ? (raw as LogLevel) : 'warning';
}

let threshold: LogLevel = levelFromEnv();
const defaultSink: LogSink = (level, message) => process.stderr.write(`cairn ${level}: ${message}\n`);
let sink: LogSink = defaultSink;

/** Routes SDK log lines elsewhere (undefined restores stderr) and optionally changes the level. */
export function setLogSink(next: LogSink | undefined, level?: LogLevel): void {
  sink = next ?? defaultSink;
  if (level) threshold = level;
}

function emit(level: LogLevel, message: string): void {
  if (ORDER[level] >= ORDER[threshold]) sink(level, message);
}

export const log = {
  info: (message: string) => emit('info', message),
  warn: (message: string) => emit('warning', message),
};
