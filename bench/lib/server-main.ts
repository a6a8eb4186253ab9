/**
 * A Cairn server in its own process for the benchmarks, so the client under test and the server each have
 * their own event loop and their own memory figures. Started by `server.ts` with its configuration as JSON
 * in argv; answers IPC requests: `latency` (server-side request times since the last ask, by route
 * kind, the count of answers with a status of 400 or more, the slowest requests), `stop`.
 */
import { subscribe } from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { startServer } from '@cairn/server';

interface Message {
  type: 'latency' | 'stop';
  id: number;
}

const config = JSON.parse(process.argv[2] ?? '{}');
const server = await startServer({ host: '127.0.0.1', port: 0, logLevel: 'warn', ...config });

// Server-side time of every request, from its headers to the end of its answer.
const startedAt = new WeakMap<IncomingMessage, number>();
let samples: Record<string, number[]> = {};
/** Answers with a status of 400 or more, by `<kind> <status>`. */
let refused: Record<string, number> = {};
/** The slowest requests since the last ask, to tell what a high percentile is made of. */
const SLOWEST_KEPT = 10;
let slowest: Record<string, { ms: number; request: string }[]> = {};
// Logins are their own kind: each one is a deliberately slow key-pair hash.
const kindOf = (url: string) => (url.includes('auth.login') ? 'login' : url.startsWith('/api/') ? 'api' : url.startsWith('/uploads') || url.startsWith('/files') ? 'files' : 'other');
subscribe('http.server.request.start', (message) => {
  startedAt.set((message as { request: IncomingMessage }).request, performance.now());
});
subscribe('http.server.response.finish', (message) => {
  const { request } = message as { request: IncomingMessage };
  const t0 = startedAt.get(request);
  if (t0 === undefined) return;
  const { response } = message as { response: { statusCode: number } };
  const kind = kindOf(request.url ?? '');
  const ms = performance.now() - t0;
  (samples[kind] ??= []).push(ms);
  const kept = (slowest[kind] ??= []);
  if (kept.length < SLOWEST_KEPT || ms > kept[kept.length - 1]!.ms) {
    kept.push({ ms: Math.round(ms), request: `${request.method} ${(request.url ?? '').replace(/\/uploads\/[0-9a-f]+/, '/uploads/<id>')}` });
    slowest[kind] = kept.sort((a, b) => b.ms - a.ms).slice(0, SLOWEST_KEPT);
  }
  if (response.statusCode >= 400) {
    refused[`${kind} ${response.statusCode}`] = (refused[`${kind} ${response.statusCode}`] ?? 0) + 1;
    if (process.env.CAIRN_BENCH_TRACE_REFUSED) process.stderr.write(`refused: ${response.statusCode} ${request.method} ${request.url}\n`);
  }
});

process.on('message', (message: Message) => {
  if (message.type === 'latency') {
    process.send!({ id: message.id, samples, refused, slowest });
    samples = {};
    refused = {};
    slowest = {};
  } else if (message.type === 'stop') {
    void server.close().then(() => process.exit(0));
  }
});
process.on('disconnect', () => void server.close().then(() => process.exit(0)));

process.send!({
  ready: true,
  url: server.url,
  apiUrl: server.apiUrl,
  filesUrl: server.filesUrl,
  accessKey: server.admin?.accessKey,
  secretKey: server.admin?.secretKey,
  password: server.admin?.password,
});
