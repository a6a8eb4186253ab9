/**
 * Test helpers for the storage tests: files with known digests, a fetch that records what it sent, and a
 * TCP proxy that can cut a connection part-way through, to interrupt real transfers to the real server.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import net from 'node:net';
import { once } from 'node:events';

export function sha256Of(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function sha256OfFile(file: string): string {
  return sha256Of(readFileSync(file));
}

/** Writes `size` random bytes to `file` (in 1 MiB pieces) and returns their SHA-256. */
export async function writeRandomFile(file: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(file);
  for (let left = size; left > 0; ) {
    const piece = randomBytes(Math.min(left, 1024 * 1024));
    hash.update(piece);
    if (!out.write(piece)) await once(out, 'drain');
    left -= piece.length;
  }
  out.end();
  await once(out, 'finish');
  return hash.digest('hex');
}

export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
}

/** A fetch that records every request before sending it on with the real fetch (or answering it itself). */
export function recordingFetch(options: { intercept?: (req: RecordedRequest) => Response | undefined } = {}) {
  const requests: RecordedRequest[] = [];
  const fetcher: typeof fetch = async (input, init = {}) => {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries((init.headers as Record<string, string>) ?? {})) headers[k.toLowerCase()] = v;
    const req: RecordedRequest = { method: init.method ?? 'GET', url: String(input), headers };
    requests.push(req);
    return options.intercept?.(req) ?? fetch(input, init);
  };
  return { fetch: fetcher, requests };
}

export interface WireRequest {
  method: string;
  target: string;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  /** The body as sent (cut short when the connection was). */
  body: Buffer;
}

/** Splits the bytes a client sent on one connection into HTTP/1.1 requests (bodies by Content-Length). */
export function parseRequests(wire: Buffer): WireRequest[] {
  const out: WireRequest[] = [];
  let at = 0;
  while (at < wire.length) {
    const end = wire.indexOf('\r\n\r\n', at, 'latin1');
    if (end < 0) break;
    const [requestLine, ...lines] = wire.subarray(at, end).toString('latin1').split('\r\n');
    const [method, target] = requestLine.split(' ');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    out.push({ method, target, headers, body: wire.subarray(end + 4, end + 4 + length) });
    at = end + 4 + length;
  }
  return out;
}

/**
 * A TCP proxy to a local port that keeps what clients sent (`requests()`, parsed per connection).
 * `cutUpload(n)` arms a cut: the next connection that sends more than n bytes towards the server is
 * destroyed at that point; `cutDownload(n)` does the same for bytes coming back. `retarget(port)` points
 * new connections elsewhere; given a promise, they wait for it (as for a server that is restarting).
 */
export async function startCuttingProxy(targetPort: number) {
  let target: Promise<number> = Promise.resolve(targetPort);
  const wires: Buffer[][] = [];
  let upCut: number | undefined;
  let onUpCut: (() => void) | undefined;
  let downCut: number | undefined;
  let cuts = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer(async (client) => {
    client.pause();
    const upstream = net.connect(await target, '127.0.0.1');
    client.resume();
    const wire: Buffer[] = [];
    wires.push(wire);
    sockets.add(client);
    sockets.add(upstream);
    let up = 0;
    let down = 0;
    const cut = () => {
      cuts++;
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      up += chunk.length;
      if (upCut !== undefined && up > upCut) {
        const keep = chunk.length - (up - upCut);
        upCut = undefined;
        const hook = onUpCut;
        onUpCut = undefined;
        if (hook) client.once('close', hook);
        wire.push(chunk.subarray(0, Math.max(0, keep)));
        if (keep > 0) upstream.write(chunk.subarray(0, keep), cut);
        else cut();
        return;
      }
      wire.push(chunk);
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    upstream.on('data', (chunk: Buffer) => {
      down += chunk.length;
      if (downCut !== undefined && down > downCut) {
        const keep = chunk.length - (down - downCut);
        downCut = undefined;
        if (keep > 0) client.write(chunk.subarray(0, keep), cut);
        else cut();
        return;
      }
      if (!client.write(chunk)) upstream.pause();
    });
    client.on('drain', () => upstream.resume());
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', close);
    upstream.on('error', close);
    client.on('close', close);
    upstream.on('close', close);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    retarget(port: number | Promise<number>) {
      target = Promise.resolve(port);
    },
    /** `then` runs once the cut connection is closed. */
    cutUpload(afterBytes: number, then?: () => void) {
      upCut = afterBytes;
      onUpCut = then;
    },
    cutDownload(afterBytes: number) {
      downCut = afterBytes;
    },
    get cuts() {
      return cuts;
    },
    /** Every request sent through the proxy so far, in connection order. */
    requests(): WireRequest[] {
      return wires.flatMap((w) => parseRequests(Buffer.concat(w)));
    },
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
