/**
 * Test helpers for the SDK: a session against a real test server, and a fetch that records what the SDK sent
 * (endpoint and body) on its way to the real server, so tests can check call sequences as well as results.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestServer } from '@cairn/server/test-harness';
import { Session, type SessionOptions } from '../src/session.js';

export interface RecordedCall {
  endpoint: string;
  url: string;
  body: Record<string, unknown>;
}

export interface Recorder {
  fetch: typeof fetch;
  calls: RecordedCall[];
  /** Endpoints called since the last `clear()`, in order (`auth.login` left out). */
  endpoints(): string[];
  /** Bodies sent to one endpoint since the last `clear()`. */
  bodies(endpoint: string): Record<string, unknown>[];
  clear(): void;
}

export function recordingFetch(): Recorder {
  const calls: RecordedCall[] = [];
  const rec: Recorder = {
    calls,
    fetch: async (input, init) => {
      const url = String(input instanceof Request ? input.url : input);
      const m = /\/(?:v[\d.]+\/)?([a-z_]+\.[a-z_]+)$/i.exec(new URL(url).pathname);
      if (m) {
        let body: Record<string, unknown> = {};
        if (typeof init?.body === 'string') {
          try {
            body = JSON.parse(init.body);
          } catch {
            body = { lines: init.body.split('\n').map((l) => JSON.parse(l)) };
          }
        }
        calls.push({ endpoint: m[1], url, body });
      }
      return fetch(input, init);
    },
    endpoints: () => calls.map((c) => c.endpoint).filter((e) => e !== 'auth.login'),
    bodies: (endpoint) => calls.filter((c) => c.endpoint === endpoint).map((c) => c.body),
    clear: () => {
      calls.length = 0;
    },
  };
  return rec;
}

const scratchDirs: string[] = [];
// Each test file runs in its own process: its scratch folders go when it ends, whether its tests passed or not.
process.on('exit', () => {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh folder `<tmp>/cairn-<prefix>-XXXXXX`, removed when the test process exits. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `cairn-${prefix}-`));
  scratchDirs.push(dir);
  return dir;
}

/** A session on the test server with a private cache folder (unless `extra` brings its own), recording its API calls. */
export function testSession(
  s: TestServer,
  extra: SessionOptions = {},
  wrapFetch?: (inner: typeof fetch) => typeof fetch,
): { session: Session; recorder: Recorder } {
  const recorder = recordingFetch();
  const cacheDir = extra.cacheDir ?? (extra.storage ? undefined : scratchDir('sdk-cache'));
  const session = new Session({
    apiHost: s.apiUrl,
    filesHost: s.filesUrl,
    accessKey: s.accessKey,
    secretKey: s.secretKey,
    env: {},
    fetch: wrapFetch ? wrapFetch(recorder.fetch) : recorder.fetch,
    cacheDir,
    retry: { baseDelayMs: 10 },
    ...extra,
  });
  return { session, recorder };
}

/**
 * While closed, holds back the POSTs an upload starts with at the file server (the resumable upload's creation, or
 * the one-part multipart POST), so a test can look at the state before an upload completes or keep uploads
 * pending. Everything else passes straight through.
 */
export class UploadGate {
  private closed = false;
  private waiters: (() => void)[] = [];

  private inner: typeof fetch = fetch;

  constructor(private readonly filesHost: string) {}

  /** For `testSession(s, {}, gate.wrap)`: gates the requests that `inner` would send. */
  readonly wrap = (inner: typeof fetch): typeof fetch => {
    this.inner = inner;
    return this.fetch;
  };

  readonly fetch: typeof fetch = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    const method = (init?.method ?? 'GET').toUpperCase();
    const origin = new URL(this.filesHost).origin;
    const isUpload = (method === 'POST' || method === 'PATCH') && url.startsWith(origin) && !url.includes('/api/');
    if (isUpload) {
      while (this.closed) await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    return this.inner(input, init);
  };

  close(): void {
    this.closed = true;
  }

  open(): void {
    this.closed = false;
    for (const w of this.waiters.splice(0)) w();
  }
}
