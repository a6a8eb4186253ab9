import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ZodError } from 'zod';
import { AUTH_COOKIE, MAX_API_VERSION, openApiDocument, type Meta } from '@cairn/protocol';
import type { Services } from '../services.js';
import type { Router } from './router.js';
import { ApiError, apiError } from './errors.js';
import { compareVersions, type CallContext, type CookieOptions } from './context.js';
import { mergeQuery, parseJsonBody, parseJsonLines } from './body.js';
import { authenticate, type Authentication } from '../modules/auth/authenticate.js';
import { InvalidRegexError } from '../db/regex.js';
import { CAIRN_VERSION } from '../modules/auth/tokens.js';

/** Largest API request body. ClearML's SDK splits event batches at 15 MiB; this leaves room above it. */
export const API_BODY_LIMIT_BYTES = 32 * 1024 * 1024;

const PATH_RE = /^\/api\/(?:v(\d+\.\d+)\/)?([a-zA-Z_]\w*\.[a-zA-Z_]\w*)\/?$/;

const ANONYMOUS = { user: '', company: '', role: 'guest', user_name: '', company_name: '' };

export function registerApi(app: FastifyInstance, router: Router, services: Services): void {
  app.register(async (scope) => {
    // The body is read by the handler itself, for every method alike (the Python SDK sends GET with a body).
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null));

    scope.get('/api/docs', async (req, reply) => {
      reply.header('cache-control', 'no-cache');
      return openApiDocument({ version: CAIRN_VERSION, serverUrl: `${req.protocol}://${req.host}/api` });
    });

    scope.route({
      method: ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'],
      url: '/api/*',
      handler: (req, reply) => handleCall(req, reply, router, services),
    });
  });
}

async function handleCall(req: FastifyRequest, reply: FastifyReply, router: Router, services: Services): Promise<void> {
  const started = performance.now();
  const callId = randomUUID().replaceAll('-', '');
  const trx = headerOf(req, 'trx') ?? callId;
  const url = new URL(req.url, 'http://localhost');
  const match = PATH_RE.exec(url.pathname);
  const requestedVersion = match?.[1] ?? MAX_API_VERSION;
  const endpoint = match?.[2] ?? url.pathname.replace(/^\/api\//, '');
  let actualVersion = '1.0';
  reply.header('server', 'clearml');

  const send = (code: number, subcode: number, msg: string, data: unknown, errorData: Record<string, unknown> = {}, stack: string | null = null) => {
    const meta: Meta = {
      id: callId,
      trx,
      endpoint: { name: endpoint, requested_version: versionValue(requestedVersion, requestedVersion), actual_version: versionValue(actualVersion, requestedVersion) },
      result_code: code,
      result_subcode: subcode,
      result_msg: msg,
      error_stack: stack,
      error_data: errorData,
    };
    reply.code(code).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify({ meta, data }));
  };

  if (req.method === 'OPTIONS') {
    reply.code(200).send('');
    return;
  }
  if (req.headers['content-encoding']) {
    req.raw.resume();
    reply.code(415).header('content-type', 'text/plain').send('Content encoding is not supported');
    return;
  }

  try {
    if (!match) throw apiError('bad_request', undefined).withMessage(`Invalid request path ${url.pathname}`);
    const handler = router.resolve(endpoint, requestedVersion);
    actualVersion = handler.minVersion;
    const op = handler.operation;

    const raw = await readBody(req.raw, API_BODY_LIMIT_BYTES);
    let body: unknown;
    if (op.batch) {
      body = parseJsonLines(raw);
    } else {
      body = mergeQuery(parseJsonBody(raw), url.searchParams);
    }

    const worker = headerOf(req, 'worker');
    let auth: Authentication | undefined;
    try {
      auth = await authenticate(
        { authorization: req.headers.authorization, cookieToken: cookieValue(req.headers.cookie, AUTH_COOKIE), remoteAddress: req.ip, worker },
        services.db,
        services.tokens,
        services.clock,
      );
    } catch (err) {
      // An endpoint that needs no credentials still answers when the credentials sent are bad.
      if (op.auth === 'required') throw err;
    }
    if (!auth && op.auth === 'required') throw apiError('no_credentials');
    if (auth?.source === 'cookie' && op.auth === 'required' && !isJsonRequest(req)) {
      // A cross-site link can carry the cookie and query parameters but not a JSON content type.
      throw apiError('not_authorized', 'cookie sessions need a JSON request (Content-Type: application/json)');
    }

    const parsed = op.request.safeParse(body);
    if (!parsed.success) throw validationError(parsed.error);

    const identity = auth?.identity ?? ANONYMOUS;
    const ctx: CallContext = {
      endpoint,
      requestedVersion,
      identity,
      authenticated: !!auth,
      authSource: auth?.source ?? 'none',
      token: auth?.claims,
      rawToken: auth?.rawToken,
      company: identity.company,
      user: identity.user,
      worker,
      remoteAddress: req.ip,
      requestHost: req.headers.host,
      db: services.db,
      services,
      log: req.log,
      versionAtLeast: (v) => compareVersions(requestedVersion, v) >= 0,
      setCookie: (name, value, options) => reply.header('set-cookie', serializeCookie(name, value, options)),
    };
    const data = await handler.handle(ctx, parsed.data);
    send(200, 0, 'OK', data ?? {});
    req.log.debug({ endpoint, ms: Math.round(performance.now() - started) }, 'api call');
  } catch (err) {
    const error = toApiError(err);
    if (error.code >= 500) req.log.error({ err, endpoint }, 'api call failed');
    else req.log.info({ endpoint, code: error.code, subcode: error.subcode, msg: error.message }, 'api call refused');
    if (error.code === 413) reply.header('connection', 'close');
    send(error.code, error.subcode, error.message, {}, error.data, error.code === 500 && error.subcode === 0 ? String((err as Error)?.stack ?? err) : null);
  }
}

/** Versions are strings, except for callers that asked for an API below 2.1 (ClearML sends floats then). */
function versionValue(version: string, requested: string): string | number {
  return Number(requested) < 2.1 ? Number(version) : version;
}

function headerOf(req: FastifyRequest, name: string): string | undefined {
  const value = req.headers[`x-clearml-${name}`] ?? req.headers[`x-trains-${name}`];
  return Array.isArray(value) ? value[0] : value;
}

function isJsonRequest(req: FastifyRequest): boolean {
  return /json/i.test(req.headers['content-type'] ?? '');
}

async function readBody(raw: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(raw.headers['content-length'] ?? 0);
  if (declared > limit) {
    raw.resume();
    throw apiError('request_too_large', `limit is ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of raw) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      raw.resume();
      throw apiError('request_too_large', `limit is ${limit} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(value) || undefined;
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

export function serializeCookie(name: string, value: string, options: CookieOptions): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, `Max-Age=${options.maxAge}`, 'Path=/'];
  if (options.httpOnly !== false) parts.push('HttpOnly');
  parts.push(`SameSite=${options.sameSite ?? 'Lax'}`);
  return parts.join('; ');
}

function validationError(error: ZodError): ApiError {
  const details = error.issues
    .slice(0, 5)
    .map((issue) => {
      const field = issue.path.join('.') || 'body';
      const missing = issue.code === 'invalid_type' && /received undefined/.test(issue.message);
      return missing ? `${field}: field is required` : `${field}: ${issue.message.toLowerCase()}`;
    })
    .join('; ');
  return apiError('validation_error', details);
}

/** Maps anything thrown to the envelope's error; database constraint errors are the client's. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof ZodError) return validationError(err);
  if (err instanceof InvalidRegexError) return apiError('invalid_regex_error', err.message);
  const e = err as { code?: string; message?: string };
  if (e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return apiError('expected_unique_data', e.message);
  }
  if (e?.code === '2201B') return apiError('invalid_regex_error', e.message);
  if (e?.code === '22P02' || e?.code === '22003' || e?.code === '54000') return apiError('validation_error', e.message);
  return new ApiError('general_error', { extra: e?.message ?? String(err) });
}
