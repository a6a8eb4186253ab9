import type { FastifyRequest } from 'fastify';
import { AUTH_COOKIE } from '@cairn/protocol';
import type { Services } from '../services.js';
import { authenticate, type Authentication } from '../modules/auth/authenticate.js';
import { ApiError } from '../api/errors.js';
import { cookieValue } from '../api/transport.js';
import { FileServerError } from './http.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Who calls the file server (clearml-api.md §5): a token from `Authorization: Bearer`, else from the
 * session cookie. Basic is refused, as ClearML's file server does. Returns undefined when no token was sent
 * and `required` is false (the health check); throws a 401/403 otherwise.
 *
 * A cookie is sent by the browser on its own, also for a form that another page on the same host (another
 * port is the same site) posts here; so with a cookie, changes (POST, PATCH, DELETE) are accepted only from
 * a page of this very origin, as the browser states in `Origin`.
 */
export async function authorizeFileRequest(req: FastifyRequest, services: Services, required = true): Promise<Authentication | undefined> {
  const header = req.headers.authorization?.trim();
  let token: string | undefined;
  let fromCookie = false;
  if (header) {
    const match = /^bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new FileServerError(401, 'Only bearer token authorization is supported');
    token = match[1];
  } else {
    token = cookieValue(req.headers.cookie, AUTH_COOKIE);
    fromCookie = token !== undefined;
  }
  if (!token) {
    if (!required) return undefined;
    throw new FileServerError(401, 'Unauthorized (missing credentials)');
  }
  let auth: Authentication | undefined;
  try {
    auth = await authenticate({ authorization: `Bearer ${token}`, remoteAddress: req.ip }, services.db, services.tokens, services.clock);
  } catch (err) {
    if (err instanceof ApiError) throw new FileServerError(err.code, err.message);
    throw err;
  }
  if (!auth) throw new FileServerError(401, 'Unauthorized (missing credentials)');
  if (fromCookie && !SAFE_METHODS.has(req.method) && !sameOrigin(req)) {
    throw new FileServerError(403, 'Changes with a session cookie must come from this origin; send an Authorization header instead');
  }
  return auth;
}

function sameOrigin(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  const host = req.headers.host;
  if (!origin || !host) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}
