import type { FastifyInstance } from 'fastify';
import { resolveConfig, type ServerConfig } from './config.js';
import { openDatabase } from './db/database.js';
import { TokenService } from './modules/auth/tokens.js';
import { ensureAdmin, ensureSigningSecret, CREDENTIALS_FILE, type AdminCredentials } from './modules/auth/bootstrap.js';
import { LocalFileStore } from './files/store.js';
import { createApp } from './app.js';
import { systemClock, type Clock } from './util/time.js';
import type { Services } from './services.js';
import path from 'node:path';

export interface RunningServer {
  readonly url: string;
  readonly apiUrl: string;
  readonly filesUrl: string;
  readonly port: number;
  readonly config: ServerConfig;
  /** Set on the first start only: the generated admin key pair and web password. */
  readonly admin: AdminCredentials | undefined;
  readonly credentialsFile: string;
  readonly app: FastifyInstance;
  readonly services: Services;
  close(): Promise<void>;
}

export async function startServer(options: Partial<ServerConfig> & { clock?: Clock } = {}): Promise<RunningServer> {
  const config = resolveConfig(options);
  const clock = options.clock ?? systemClock;
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, pgSchema: config.pgSchema });
  try {
    const secret = await ensureSigningSecret(config, db);
    const admin = await ensureAdmin(config, db, clock);
    // The cloud SDKs behind an object store load only when one is configured: they would double the start time.
    const files = config.filesUri ? new (await import('./files/object-store.js')).ObjectFileStore(config.filesUri) : new LocalFileStore(config.filesRoot);
    const services: Services = { config, db, clock, tokens: new TokenService(secret, clock), files, baseUrls: [] };
    const app = await createApp(services);
    await app.listen({ host: config.host, port: config.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const hostForUrl = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host.includes(':') ? `[${config.host}]` : config.host;
    const url = (config.publicUrl ?? `http://${hostForUrl}:${port}`).replace(/\/+$/, '');
    services.baseUrls = ownBaseUrls(config, port);
    return {
      url,
      apiUrl: `${url}/api`,
      filesUrl: `${url}/files`,
      port,
      config,
      admin,
      credentialsFile: path.join(config.dataDir, CREDENTIALS_FILE),
      app,
      services,
      async close() {
        await app.close();
        await db.close();
      },
    };
  } catch (err) {
    await db.close();
    throw err;
  }
}

/** Loopback names a client on this machine may use for a server bound to each address. */
const LOOPBACK_NAMES: Record<string, string[]> = {
  '127.0.0.1': ['127.0.0.1', 'localhost'],
  localhost: ['127.0.0.1', 'localhost'],
  '::1': ['[::1]', 'localhost'],
  '0.0.0.0': ['127.0.0.1', 'localhost'],
  '::': ['127.0.0.1', '[::1]', 'localhost'],
};

/**
 * The base URLs that reach this server once it listens on `port`: the configured public URL, and
 * `http://<host>:<port>` under every name the bound address answers to on this machine.
 */
export function ownBaseUrls(config: Pick<ServerConfig, 'publicUrl' | 'host'>, port: number): string[] {
  const names = LOOPBACK_NAMES[config.host] ?? [config.host.includes(':') ? `[${config.host}]` : config.host];
  const urls = names.map((name) => `http://${name}:${port}`);
  if (config.publicUrl) urls.unshift(config.publicUrl.replace(/\/+$/, ''));
  return [...new Set(urls)];
}

/** The `clearml.conf` snippet a user pastes to point ClearML clients (and Cairn's SDK) at this server. */
export function clearmlConfSnippet(server: Pick<RunningServer, 'url' | 'apiUrl' | 'filesUrl'>, accessKey: string, secretKey: string): string {
  return [
    'api {',
    `  api_server: ${server.apiUrl}`,
    `  web_server: ${server.url}`,
    `  files_server: ${server.filesUrl}`,
    '  credentials {',
    `    access_key: "${accessKey}"`,
    `    secret_key: "${secretKey}"`,
    '  }',
    '}',
  ].join('\n');
}
