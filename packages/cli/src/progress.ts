/**
 * Progress of one transfer on stderr (stdout carries the command's result): a redrawn bar on a terminal,
 * plain lines otherwise, so logs of scripted runs stay readable.
 */
import cliProgress from 'cli-progress';
import type { TransferProgress } from '@cairn/sdk';
import { formatBytes } from './output.js';

/** Plain progress lines are written at most this often (the final line always is): about one a second reads well in CI logs. */
export const PLAIN_PROGRESS_INTERVAL_MS = 1000;

export interface Progress {
  /** The listener to hand to the SDK's `onProgress`. */
  readonly listener: (progress: TransferProgress) => void;
  /** Ends the display (the bar's last state stays on screen). */
  stop(): void;
}

/** A display for the transfer named `label` on `stream` (default stderr): a bar when it is a terminal. */
export function transferProgress(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  return stream.isTTY ? barProgress(label, stream) : plainProgress(label, stream);
}

function describe(p: TransferProgress): { done: string; size: string; speed: string } {
  return { done: formatBytes(p.bytes), size: p.total === undefined ? '?' : formatBytes(p.total), speed: `${formatBytes(p.rate)}/s` };
}

function barProgress(label: string, stream: NodeJS.WriteStream): Progress {
  const bar = new cliProgress.SingleBar(
    { stream, format: `${label} [{bar}] {percentage}% | {done} / {size} | {speed}`, hideCursor: true, barsize: 30 },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    listener(p) {
      // An unknown total (a server that sent no length) shows as a full bar that keeps counting.
      const total = Math.max(p.total ?? p.bytes, 1);
      if (!started) {
        bar.start(total, p.bytes, describe(p));
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(p.bytes, describe(p));
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

function plainProgress(label: string, stream: NodeJS.WriteStream): Progress {
  let last = 0;
  let lastBytes = -1;
  let latest: TransferProgress | undefined;
  const write = (p: TransferProgress) => {
    const { done, size, speed } = describe(p);
    const percent = p.total ? ` (${Math.floor((100 * p.bytes) / p.total)}%)` : '';
    stream.write(`${label}: ${done} / ${size}${percent}, ${speed}\n`);
    last = Date.now();
    lastBytes = p.bytes;
  };
  return {
    listener(p) {
      latest = p;
      const finished = p.total !== undefined && p.bytes >= p.total;
      if ((finished && p.bytes !== lastBytes) || Date.now() - last >= PLAIN_PROGRESS_INTERVAL_MS) write(p);
    },
    stop() {
      // The last state is always shown, also for a transfer of unknown size.
      if (latest && latest.bytes !== lastBytes) write(latest);
    },
  };
}
