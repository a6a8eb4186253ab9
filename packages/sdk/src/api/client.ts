/**
 * The SDK's one door to the API: `POST <apiHost>/v2.23/<service.action>` with a JSON body (ClearML accepts POST as
 * well as its SDK's GET-with-body), Bearer token from `auth.login` with the key pair, refreshed before it expires and
 * once after a 401. Calls that cannot duplicate anything (reads, idempotent writes) are retried with backoff on
 * connection errors, 429 and 5xx; the others fail at once so a create is never sent twice. Every answer is checked
 * against the protocol's response schema.
 */
import os from 'node:os';
import { Envelope, type Operation, type RequestOf, type ResponseOf } from '@cairn/protocol';
import { ApiCallError, ConfigError, ConnectionError, ProtocolError, UsageError, causeText } from '../errors.js';

/** The API version in every request path: the newest service version ClearML's SDK speaks. */
export const API_VERSION = '2.23';
/** A token is renewed this long before it expires (ClearML's SDK does the same). */
export const TOKEN_REFRESH_MARGIN_MS = 60_000;
/** Tries per retry-safe call (the first one included). */
export const RETRY_ATTEMPTS = 5;
/** First backoff delay; it doubles per failure up to RETRY_MAX_DELAY_MS. */
export const RETRY_BASE_DELAY_MS = 500;
export const RETRY_MAX_DELAY_MS = 8_000;
/** One API call may take this long (ClearML's SDK reads for up to 300 s). */
export const REQUEST_TIMEOUT_MS = 300_000;
/** ClearML's `api.http.max_req_size`: a json-lines batch larger than this must be split by the caller. */
export const MAX_BATCH_BYTES = 15_728_640;

const CLIENT_NAME = 'cairn-sdk-0.1.0';

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export interface ApiClientOptions {
  apiHost: string;
  accessKey: string;
  secretKey: string;
  filesHost?: string;
  webHost?: string;
  /** Where the key pair came from, named when the server refuses it. */
  credentialsSource?: string;
  fetch?: typeof fetch;
  clock?: Clock;
  /** Waits between retries (tests make it instant). */
  sleep?: (ms: number) => Promise<void>;
  retry?: { attempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  requestTimeoutMs?: number;
}

export interface CallOptions {
  /** Retry on connection errors, 429 and 5xx even though the endpoint is not known to be safe to repeat. */
  idempotent?: boolean;
}

/** Endpoints whose action only reads. */
const READ_ACTION = /^(get_|validate_|supported_modes$|info$|endpoints$|scalar_metrics|multi_task|plots$|debug_images$|download)/;
/** Writes that leave the same state when repeated (same fields set, upserts by key, same status). */
const IDEMPOTENT_WRITES = new Set([
  'auth.login',
  'models.edit',
  'models.update',
  'models.add_or_update_metadata',
  'models.delete_metadata',
  'models.archive_many',
  'models.unarchive_many',
  'models.update_tags',
  'models.move',
  'tasks.edit',
  'tasks.update',
  'tasks.edit_configuration',
  'tasks.edit_hyper_params',
  'tasks.add_or_update_model',
  'tasks.add_or_update_artifacts',
  'tasks.ping',
  'tasks.started',
  'tasks.stopped',
  'tasks.completed',
  'tasks.failed',
  'tasks.close',
  'users.set_preferences',
  'workers.register',
  'workers.status_report',
]);

/** Calls named like reads that change state: a popped queue entry would be lost if the pop were sent again. */
const NOT_RETRY_SAFE = new Set(['queues.get_next_task']);

export function isRetrySafe(endpoint: string): boolean {
  if (NOT_RETRY_SAFE.has(endpoint)) return false;
  if (IDEMPOTENT_WRITES.has(endpoint)) return true;
  const action = endpoint.split('.')[1] ?? '';
  return READ_ACTION.test(action);
}

interface TokenState {
  token: string;
  /** Expiry in ms since the epoch; undefined = never. */
  expiresAt?: number;
  claims: Record<string, unknown>;
}

/** A request failed in a way worth retrying (when the call is safe to repeat). */
class Transient extends Error {
  constructor(readonly error: Error) {
    super(error.message);
  }
}

export class ApiClient {
  readonly apiHost: string;
  readonly filesHost: string;
  readonly webHost: string;
  private readonly fetchImpl: typeof fetch;
  private readonly clock: Clock;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly timeoutMs: number;
  private readonly worker = os.hostname();
  private token: TokenState | undefined;
  private loggingIn: Promise<TokenState> | undefined;

  constructor(private readonly options: ApiClientOptions) {
    if (!options.apiHost) throw new ConfigError('ApiClient needs an apiHost');
    if (!options.accessKey || !options.secretKey) throw new ConfigError(`ApiClient needs an access key and a secret key for ${options.apiHost}`);
    this.apiHost = options.apiHost.replace(/\/+$/, '');
    this.filesHost = (options.filesHost ?? '').replace(/\/+$/, '');
    this.webHost = (options.webHost ?? '').replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.clock = options.clock ?? { now: () => Date.now() };
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.attempts = options.retry?.attempts ?? RETRY_ATTEMPTS;
    this.baseDelayMs = options.retry?.baseDelayMs ?? RETRY_BASE_DELAY_MS;
    this.maxDelayMs = options.retry?.maxDelayMs ?? RETRY_MAX_DELAY_MS;
    this.timeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  }

  /** Calls one endpoint; resolves to its `data`, checked against the protocol. */
  async call<O extends Operation>(op: O, body: RequestOf<O>, options: CallOptions = {}): Promise<ResponseOf<O>> {
    if (op.batch) throw new UsageError(`${op.endpoint} takes a batch: use callBatch`);
    return this.send(op, JSON.stringify(body ?? {}), 'application/json', options);
  }

  /** Calls a json-lines endpoint (`events.add_batch`) with one request holding every item. */
  async callBatch<O extends Operation>(op: O, items: object[], options: CallOptions = {}): Promise<ResponseOf<O>> {
    if (!op.batch) throw new UsageError(`${op.endpoint} is not a batch endpoint: use call`);
    if (!items.length) throw new UsageError(`${op.endpoint}: a batch needs at least one item`);
    const text = items.map((item) => JSON.stringify(item)).join('\n');
    const bytes = Buffer.byteLength(text);
    if (bytes > MAX_BATCH_BYTES) throw new UsageError(`${op.endpoint}: a batch of ${bytes} bytes is larger than ${MAX_BATCH_BYTES}; split it`);
    return this.send(op, text, 'application/json-lines', options);
  }

  /** `Authorization` for requests to the file server, with a fresh token. */
  async authHeaders(): Promise<Record<string, string>> {
    const state = await this.ensureToken();
    return { Authorization: `Bearer ${state.token}` };
  }

  /** The claims of the current token (logs in first when needed). */
  async tokenClaims(): Promise<Record<string, unknown>> {
    return (await this.ensureToken()).claims;
  }

  private async send<O extends Operation>(op: O, body: string, contentType: string, options: CallOptions): Promise<ResponseOf<O>> {
    const url = `${this.apiHost}/v${API_VERSION}/${op.endpoint}`;
    const retrySafe = options.idempotent ?? isRetrySafe(op.endpoint);
    let reauthenticated = false;
    for (let attempt = 1; ; attempt++) {
      try {
        const state = await this.ensureToken();
        const res = await this.post(url, body, { 'content-type': contentType, authorization: `Bearer ${state.token}` });
        if (res.status === 401 && !reauthenticated) {
          // The token may have been revoked or the server restarted with a new secret: log in again, once.
          reauthenticated = true;
          this.dropToken(state);
          attempt--;
          continue;
        }
        const envelope = await this.readEnvelope(res, url, op.endpoint);
        const { result_code: code, result_subcode: subcode, result_msg: msg } = envelope.meta;
        if (code !== 200) {
          const error = new ApiCallError(op.endpoint, code, subcode, msg, url);
          if (code === 429 || code >= 500) throw new Transient(error);
          throw error;
        }
        const checked = op.response.safeParse(envelope.data ?? {});
        if (!checked.success) throw new ProtocolError(op.endpoint, url, checked.error.issues.map((i) => `${i.path.join('.') || '<data>'}: ${i.message}`).join('; '));
        return checked.data as ResponseOf<O>;
      } catch (err) {
        if (!(err instanceof Transient)) throw err;
        if (!retrySafe || attempt >= this.attempts) throw err.error;
        await this.sleep(Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1)));
      }
    }
  }

  private async post(url: string, body: string, headers: Record<string, string>): Promise<Response> {
    try {
      return await this.fetchImpl(url, {
        method: 'POST',
        headers: { ...headers, 'x-clearml-worker': this.worker, 'x-clearml-client': CLIENT_NAME },
        body,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new Transient(new ConnectionError(url, `cannot reach the API server: ${causeText(err)}${causeCode(err)}`, { cause: err }));
    }
  }

  private async readEnvelope(res: Response, url: string, endpoint: string): Promise<Envelope> {
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      throw new Transient(new ConnectionError(url, `the connection broke while reading the answer to ${endpoint}: ${causeText(err)}`, { cause: err }));
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      const error = new ConnectionError(url, `${endpoint} answered HTTP ${res.status} with something that is not JSON: ${text.slice(0, 200)}`);
      if (res.status === 429 || res.status >= 500) throw new Transient(error);
      throw error;
    }
    const envelope = Envelope.safeParse(parsed);
    if (!envelope.success) {
      const error = new ConnectionError(url, `${endpoint} answered HTTP ${res.status} without ClearML's envelope: ${text.slice(0, 200)}`);
      if (res.status === 429 || res.status >= 500) throw new Transient(error);
      throw error;
    }
    return envelope.data as Envelope;
  }

  private dropToken(state: TokenState): void {
    if (this.token === state) this.token = undefined;
  }

  private async ensureToken(): Promise<TokenState> {
    const current = this.token;
    if (current && (current.expiresAt === undefined || this.clock.now() < current.expiresAt - TOKEN_REFRESH_MARGIN_MS)) return current;
    if (!this.loggingIn) {
      this.loggingIn = this.login().finally(() => {
        this.loggingIn = undefined;
      });
    }
    return this.loggingIn;
  }

  private async login(): Promise<TokenState> {
    const url = `${this.apiHost}/auth.login`;
    const basic = Buffer.from(`${this.options.accessKey}:${this.options.secretKey}`).toString('base64');
    for (let attempt = 1; ; attempt++) {
      try {
        const res = await this.post(url, '{}', { 'content-type': 'application/json', authorization: `Basic ${basic}` });
        const envelope = await this.readEnvelope(res, url, 'auth.login');
        const { result_code: code, result_subcode: subcode, result_msg: msg } = envelope.meta;
        if (code !== 200) {
          const error = new ApiCallError('auth.login', code, subcode, msg, url);
          if (code === 429 || code >= 500) throw new Transient(error);
          throw new ConfigError(
            `login to ${this.apiHost} failed (${code}/${subcode} ${msg}); the key pair was read from ${this.options.credentialsSource ?? 'the client options'}`,
            { cause: error },
          );
        }
        const token = (envelope.data as { token?: unknown } | null)?.token;
        if (typeof token !== 'string' || !token) throw new ConfigError(`login to ${this.apiHost} answered no token: is api_server the API (e.g. http://host:8080/api)?`);
        const claims = decodeClaims(token);
        const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : undefined;
        this.token = { token, expiresAt: exp, claims };
        return this.token;
      } catch (err) {
        if (!(err instanceof Transient)) throw err;
        if (attempt >= this.attempts) throw err.error;
        await this.sleep(Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1)));
      }
    }
  }
}

/** The token's claims, read without verifying the signature (only the server can verify it). */
function decodeClaims(token: string): Record<string, unknown> {
  try {
    const payload = token.split('.')[1] ?? '';
    const parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return typeof parsed === 'object' && parsed !== null ? parsed : {};
  } catch {
    return {};
  }
}

function causeCode(err: unknown): string {
  const cause = (err as { cause?: { code?: string } })?.cause;
  return cause?.code ? ` (${cause.code})` : '';
}
