/**
 * Starts the real server on port 0 with a fresh database (SQLite in a temporary folder, or a fresh
 * PostgreSQL schema) and talks to it over HTTP. Every server test goes through here.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Envelope, type Operation, type RequestOf, type ResponseOf, type Meta } from '@cairn/protocol';
import { startServer, type RunningServer } from '../src/index.js';
import type { ServerConfig } from '../src/config.js';
import type { Clock } from '../src/util/time.js';

export type TestDialect = 'sqlite' | 'postgres';

/** SQLite always; PostgreSQL when `CAIRN_TEST_DATABASE_URL` is set (npm test starts a cluster). */
export function testDialects(): TestDialect[] {
  return process.env.CAIRN_TEST_DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];
}

export interface CallResult<T = Record<string, unknown>> {
  status: number;
  meta: Meta;
  data: T;
  headers: Headers;
}

export interface CallOptions {
  method?: string;
  version?: string;
  token?: string | null;
  headers?: Record<string, string>;
  /** Send this exact body text instead of JSON of the body. */
  rawBody?: string | Buffer;
  query?: Record<string, string>;
}

export interface TestServer {
  readonly server: RunningServer;
  readonly dialect: TestDialect;
  readonly url: string;
  readonly apiUrl: string;
  readonly filesUrl: string;
  readonly dataDir: string;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly password: string;
  /** A token for the admin (logged in once, cached). */
  token(): Promise<string>;
  /** Raw call: any endpoint, method, body; returns status and envelope. */
  call<T = Record<string, unknown>>(endpoint: string, body?: unknown, options?: CallOptions): Promise<CallResult<T>>;
  /** Typed call that must succeed; the response is checked against the operation's validator. */
  ok<O extends Operation>(operation: O, body: RequestOf<O>, options?: CallOptions): Promise<ResponseOf<O>>;
  /** Typed call that must fail; returns the envelope's meta. */
  fails<O extends Operation>(operation: O, body: unknown, options?: CallOptions): Promise<Meta>;
  /** Creates another user with its own key pair, in this company or a new one. */
  createUser(options?: { newCompany?: boolean; name?: string }): Promise<{ accessKey: string; secretKey: string; userId: string; company: string; token: string }>;
  stop(): Promise<void>;
  /**
   * Stops this server and starts a new one on the same data folder and database, as after a restart;
   * `whileStopped` runs in between.
   */
  restart(whileStopped?: () => unknown): Promise<TestServer>;
}

/**
 * PostgreSQL advisory lock taken shared while a test server starts and exclusively to drop a test schema: Kysely's
 * migrator lists the tables of every schema in the database, and that listing fails when a schema is dropped
 * under it.
 */
const SCHEMA_LOCK_KEY = 4_242_001;

/** Runs `fn` holding the schema lock on a connection of its own (ending the session releases it). */
async function withSchemaLock<T>(mode: 'shared' | 'exclusive', fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: process.env.CAIRN_TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(mode === 'shared' ? 'select pg_advisory_lock_shared($1)' : 'select pg_advisory_lock($1)', [SCHEMA_LOCK_KEY]);
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function startTestServer(
  options: { dialect?: TestDialect; clock?: Clock; config?: Partial<ServerConfig>; reuse?: { dataDir: string; pgSchema?: string } } = {},
): Promise<TestServer> {
  const dialect = options.dialect ?? 'sqlite';
  const dataDir = options.reuse?.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'cairn-test-'));
  const pgSchema = options.reuse ? options.reuse.pgSchema : dialect === 'postgres' ? `t_${randomBytes(6).toString('hex')}` : undefined;
  if (dialect === 'postgres' && !process.env.CAIRN_TEST_DATABASE_URL) throw new Error('CAIRN_TEST_DATABASE_URL is not set');
  let server: RunningServer;
  const start = () =>
    startServer({
      host: '127.0.0.1',
      port: 0,
      dataDir,
      databaseUrl: dialect === 'postgres' ? process.env.CAIRN_TEST_DATABASE_URL : undefined,
      pgSchema,
      logLevel: process.env.CAIRN_TEST_LOG_LEVEL ?? 'silent',
      clock: options.clock,
      ...options.config,
    });
  try {
    server = dialect === 'postgres' ? await withSchemaLock('shared', start) : await start();
  } catch (err) {
    if (!options.reuse) {
      if (pgSchema) await dropSchema(pgSchema);
      rmSync(dataDir, { recursive: true, force: true });
    }
    throw err;
  }
  const reused = options.reuse ? readCredentialsFile(dataDir) : undefined;
  const found = server.admin ?? (reused && { accessKey: reused.access_key, secretKey: reused.secret_key, username: reused.username, password: reused.password });
  if (!found) throw new Error('a fresh test server must create its admin');
  const admin = found;
  let cachedToken: string | undefined;

  async function call<T>(endpoint: string, body: unknown = {}, opts: CallOptions = {}): Promise<CallResult<T>> {
    const version = opts.version === undefined ? '2.23' : opts.version;
    const url = new URL(`${server.apiUrl}/${version ? `v${version}/` : ''}${endpoint}`);
    for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
    const headers: Record<string, string> = { 'content-type': 'application/json', ...opts.headers };
    if (opts.token !== null && !headers.authorization && !headers.Authorization) {
      headers.authorization = `Bearer ${opts.token ?? (await token())}`;
    }
    const res = await fetch(url, {
      method: opts.method ?? 'POST',
      headers,
      body: opts.rawBody ?? (opts.method === 'GET' || opts.method === 'HEAD' ? undefined : JSON.stringify(body)),
    });
    const text = await res.text();
    let parsed: { meta: Meta; data: T };
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`${endpoint}: non-JSON answer ${res.status}: ${text.slice(0, 200)}`);
    }
    Envelope.parse(parsed);
    if (parsed.meta.result_code !== res.status) throw new Error(`${endpoint}: HTTP ${res.status} but result_code ${parsed.meta.result_code}`);
    return { status: res.status, meta: parsed.meta, data: parsed.data, headers: res.headers };
  }

  async function token(): Promise<string> {
    if (!cachedToken) cachedToken = await login(admin.accessKey, admin.secretKey);
    return cachedToken;
  }

  async function login(accessKey: string, secretKey: string): Promise<string> {
    const res = await call<{ token: string }>('auth.login', {}, {
      version: '',
      token: null,
      headers: { authorization: `Basic ${Buffer.from(`${accessKey}:${secretKey}`).toString('base64')}` },
    });
    if (res.status !== 200) throw new Error(`login failed: ${res.meta.result_msg}`);
    return res.data.token;
  }

  return {
    server,
    dialect,
    url: server.url,
    apiUrl: server.apiUrl,
    filesUrl: server.filesUrl,
    dataDir,
    accessKey: admin.accessKey,
    secretKey: admin.secretKey,
    password: admin.password,
    token,
    call,
    async ok(operation, body, opts) {
      const res = await call(operation.endpoint, body, opts);
      if (res.status !== 200) throw new Error(`${operation.endpoint} failed: ${res.status}/${res.meta.result_subcode} ${res.meta.result_msg}`);
      const checked = operation.response.safeParse(res.data);
      if (!checked.success) throw new Error(`${operation.endpoint}: response does not match the protocol: ${checked.error.message}`);
      return res.data as ResponseOf<typeof operation>;
    },
    async fails(operation, body, opts) {
      const res = await call(operation.endpoint, body, opts);
      if (res.status === 200) throw new Error(`${operation.endpoint} succeeded but was expected to fail`);
      return res.meta;
    },
    async createUser(opts = {}) {
      const db = server.services.db;
      const { newId } = await import('../src/util/ids.js');
      const { hashSecret } = await import('../src/modules/auth/secrets.js');
      const company = opts.newCompany ? newId() : (await db.kysely.selectFrom('companies').select('id').executeTakeFirstOrThrow()).id;
      const now = new Date().toISOString();
      if (opts.newCompany) await db.kysely.insertInto('companies').values({ id: company, name: `company-${company.slice(0, 6)}`, created: now }).execute();
      const userId = newId();
      await db.kysely
        .insertInto('users')
        .values({ id: userId, company, name: opts.name ?? `user-${userId.slice(0, 6)}`, given_name: null, family_name: null, avatar: null, email: null, role: 'user', created: now, preferences: '{}', password_hash: null })
        .execute();
      const accessKey = `K${userId.slice(0, 20).toUpperCase()}`;
      const secretKey = randomBytes(24).toString('base64url');
      await db.kysely
        .insertInto('credentials')
        .values({ access_key: accessKey, secret_hash: await hashSecret(secretKey), user: userId, company, label: null, created: now, last_used: null, last_used_from: null })
        .execute();
      return { accessKey, secretKey, userId, company, token: await login(accessKey, secretKey) };
    },
    async stop() {
      await server.close();
      if (pgSchema) {
        await dropSchema(pgSchema);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
    async restart(whileStopped) {
      await server.close();
      await whileStopped?.();
      return startTestServer({ ...options, reuse: { dataDir, pgSchema } });
    },
  };
}

/** Reads the admin credentials file a fresh server wrote. */
export function readCredentialsFile(dataDir: string): { access_key: string; secret_key: string; username: string; password: string } {
  return JSON.parse(readFileSync(path.join(dataDir, 'credentials.json'), 'utf8'));
}

async function dropSchema(schema: string): Promise<void> {
  await withSchemaLock('exclusive', (client) => client.query(`drop schema if exists "${schema}" cascade`));
}
