import path from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FileStore, StoredFile } from './store.js';
import { FileServerError } from './http.js';

/** How long a browser may reuse a downloaded file before asking again (ClearML's file server: 300 s). */
const BROWSER_CACHE_SEC = 300;

/**
 * Content types by extension. Anything else, HTML included, is sent as bytes: a file someone uploaded must
 * never run as a page of this origin (the web app's session lives here).
 */
const CONTENT_TYPES: Record<string, string> = {
  '.bin': 'application/octet-stream',
  '.csv': 'text/csv; charset=utf-8',
  '.gif': 'image/gif',
  '.jpeg': 'image/jpeg',
  '.jpg': 'image/jpeg',
  '.json': 'application/json',
  '.log': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.mp4': 'video/mp4',
  '.pdf': 'application/pdf',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.tar': 'application/x-tar',
  '.txt': 'text/plain; charset=utf-8',
  '.wav': 'audio/wav',
  '.webm': 'video/webm',
  '.webp': 'image/webp',
  '.yaml': 'text/plain; charset=utf-8',
  '.yml': 'text/plain; charset=utf-8',
  '.zip': 'application/zip',
};

export function contentTypeOf(key: string): string {
  // `.gz` (and `.tgz`) are served as bytes, as ClearML does, so that clients do not unpack them on the way.
  return CONTENT_TYPES[path.extname(key).toLowerCase()] ?? 'application/octet-stream';
}

type RangeResult = { kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

/**
 * One `bytes=` range (RFC 9110 §14.1.2): `a-b`, `a-` or `-n`. A header that is malformed or asks for
 * several ranges is ignored (the whole file is sent), as the RFC allows.
 */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (!header) return { kind: 'full' };
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return { kind: 'full' };
  let start: number;
  let end: number;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
    if (match[2] !== '' && Number(match[2]) < start) return { kind: 'full' };
    if (start >= size) return { kind: 'unsatisfiable' };
  }
  return { kind: 'partial', start, end };
}

function etagOf(file: StoredFile): string {
  return `"${file.size.toString(16)}-${Math.floor(file.mtimeMs).toString(16)}"`;
}

/** `GET`/`HEAD /files/<key>`: the file, whole or one range, streamed from the store. */
export async function sendFile(req: FastifyRequest, reply: FastifyReply, store: FileStore, key: string): Promise<FastifyReply> {
  const file = await store.stat(key);
  if (!file) throw new FileServerError(404, `File ${key} not found`);
  const query = new URL(req.url, 'http://localhost').searchParams;
  const etag = etagOf(file);
  reply.headers({
    'accept-ranges': 'bytes',
    'cache-control': `max-age=${BROWSER_CACHE_SEC}`,
    'content-type': contentTypeOf(key),
    etag,
    'last-modified': new Date(file.mtimeMs).toUTCString(),
    'x-content-type-options': 'nosniff',
    // Uploaded content is data: an SVG or PDF opened from here runs no script and reaches nothing else.
    'content-security-policy': "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'",
  });
  if (query.has('download')) {
    const name = path.basename(key);
    const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
    reply.header('content-disposition', `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`);
  }
  if (req.headers['if-none-match'] === etag && !req.headers.range) return reply.code(304).send();

  const range = parseRange(req.headers.range, file.size);
  if (range.kind === 'unsatisfiable') {
    return reply.code(416).header('content-range', `bytes */${file.size}`).header('content-type', 'text/plain; charset=utf-8').send('Requested range not satisfiable');
  }
  const [status, start, end] = range.kind === 'partial' ? [206, range.start, range.end] : [200, 0, file.size - 1];
  reply.code(status).header('content-length', String(end - start + 1));
  if (status === 206) reply.header('content-range', `bytes ${start}-${end}/${file.size}`);
  if (req.method === 'HEAD' || file.size === 0) return reply.send();
  return reply.send(store.read(key, { start, end }));
}
