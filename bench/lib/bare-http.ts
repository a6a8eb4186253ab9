/** The client side of the reference transfers: a bare `node:http` PUT of a file, and a GET streamed to disk. */
import { createReadStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { request, type IncomingMessage } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { benchDir, startChild, type Child } from './processes.js';

/**
 * File I/O size of the reference transfers: Node's default 64 KiB costs several times the CPU per byte, so the
 * references read and write in 1 MiB blocks, as the SDK does, to be the path's limit rather than a default's.
 */
export const BARE_READ_CHUNK_BYTES = 1024 * 1024;
/** Downloads are written in blocks of this size, for the same reason. */
export const BARE_WRITE_CHUNK_BYTES = 1024 * 1024;

export interface BareServer {
  url: string;
  child: Child<{ port: number }>;
  stop(): Promise<void>;
}

/** The bare reference server, storing into `dir`. */
export async function startBareServer(dir: string): Promise<BareServer> {
  const child = await startChild<{ port: number }>(path.join(benchDir, 'lib/bare-server.ts'), [dir]);
  return { url: `http://127.0.0.1:${child.hello.port}`, child, stop: () => child.stop() };
}

/** Streams `file` to `url` with one PUT; resolves once the server answered. */
export async function barePut(url: string, file: string): Promise<void> {
  const { size } = await stat(file);
  await new Promise<void>((resolve, reject) => {
    const req = request(url, { method: 'PUT', headers: { 'content-length': size, 'content-type': 'application/octet-stream' } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 204 ? resolve() : reject(new Error(`PUT answered ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    pipeline(createReadStream(file, { highWaterMark: BARE_READ_CHUNK_BYTES }), req).catch(reject);
  });
}

/** Streams `url` into `file`, written in BARE_WRITE_CHUNK_BYTES blocks; resolves to the number of bytes written. */
export async function bareGet(url: string, file: string): Promise<number> {
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(url, { method: 'GET' }, resolve);
    req.on('error', reject);
    req.end();
  });
  if (res.statusCode !== 200) {
    res.resume();
    throw new Error(`GET answered ${res.statusCode}`);
  }
  const handle = await open(file, 'w');
  let bytes = 0;
  try {
    let block: Buffer[] = [];
    let blockBytes = 0;
    const flush = async () => {
      const data = Buffer.concat(block, blockBytes);
      block = [];
      blockBytes = 0;
      await handle.write(data, 0, data.length, bytes);
      bytes += data.length;
    };
    for await (const chunk of res as AsyncIterable<Buffer>) {
      block.push(chunk);
      blockBytes += chunk.length;
      if (blockBytes >= BARE_WRITE_CHUNK_BYTES) await flush();
    }
    if (blockBytes) await flush();
  } finally {
    await handle.close();
  }
  return bytes;
}
