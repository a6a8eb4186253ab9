import type { IncomingMessage } from 'node:http';
import type { FastifyReply } from 'fastify';

/** An answer the file server gives as plain text with a status, as ClearML's file server does. */
export class FileServerError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

/**
 * After an early refusal (413, a bad part) the rest of the body is read and dropped for a while, so that the
 * client, still sending, gets to read the answer instead of a connection reset; a client that keeps sending
 * past this is cut off.
 */
const DISCARD_BODY_MS = 5_000;

/** Stops using the request body: unplugs it from any parser and drops the rest (for a bounded time). */
export function discardBody(req: IncomingMessage): void {
  req.unpipe();
  if (req.readableEnded || req.destroyed) return;
  const timer = setTimeout(() => req.socket.destroy(), DISCARD_BODY_MS);
  timer.unref();
  const done = () => clearTimeout(timer);
  req.once('end', done);
  req.once('close', done);
  req.resume();
}

export function sendText(reply: FastifyReply, status: number, text: string, headers: Record<string, string> = {}): FastifyReply {
  return reply.code(status).headers(headers).header('content-type', 'text/plain; charset=utf-8').send(text);
}

/** The raw path after a prefix, with the query (and a stray fragment) cut off; still percent-encoded. */
export function rawPathAfter(url: string, prefix: string): string {
  const end = url.search(/[?#]/);
  const pathPart = end < 0 ? url : url.slice(0, end);
  return pathPart.startsWith(prefix) ? pathPart.slice(prefix.length) : '';
}
