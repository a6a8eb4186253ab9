import path from 'node:path';

export interface ServerConfig {
  host: string;
  port: number;
  dataDir: string;
  /** `postgres://...` for PostgreSQL; absent for SQLite in `dataDir`. */
  databaseUrl?: string;
  /** PostgreSQL schema (tests give each server its own). */
  pgSchema?: string;
  /** Where the file server keeps files. */
  filesRoot: string;
  /** An object store for the files instead of `filesRoot`: `s3://...`, `gs://...` or `azure://...` (see files/object-store.ts). */
  filesUri?: string;
  /** Largest accepted upload in bytes (413 above it); undefined = no limit. */
  maxUploadBytes?: number;
  /** Token signing secret; generated and kept in the data folder (or the database) when absent. */
  signingSecret?: string;
  /** Folder with the built web app; undefined = not served. */
  webDist?: string;
  logLevel: string;
  /** The URL clients should use, for the printed `clearml.conf` (defaults to http://host:port). */
  publicUrl?: string;
}

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = '127.0.0.1';

export function resolveConfig(options: Partial<ServerConfig> & { dataDir?: string }, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const dataDir = path.resolve(options.dataDir ?? env.CAIRN_DATA_DIR ?? './data');
  const portText = options.port ?? env.CAIRN_PORT;
  const port = portText === undefined || portText === '' ? DEFAULT_PORT : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`invalid port: ${portText}`);
  const maxUploadMb = env.CAIRN_MAX_UPLOAD_MB ? Number(env.CAIRN_MAX_UPLOAD_MB) : undefined;
  return {
    host: options.host ?? env.CAIRN_HOST ?? DEFAULT_HOST,
    port,
    dataDir,
    databaseUrl: options.databaseUrl ?? (env.CAIRN_DATABASE_URL || undefined),
    pgSchema: options.pgSchema,
    filesRoot: options.filesRoot ?? path.join(dataDir, 'files'),
    filesUri: options.filesUri ?? (env.CAIRN_FILES_URI || undefined),
    maxUploadBytes: options.maxUploadBytes ?? (maxUploadMb ? maxUploadMb * 1024 * 1024 : undefined),
    signingSecret: options.signingSecret ?? (env.CAIRN_SIGNING_SECRET || undefined),
    webDist: options.webDist,
    logLevel: options.logLevel ?? env.CAIRN_LOG_LEVEL ?? 'info',
    publicUrl: options.publicUrl ?? (env.CAIRN_PUBLIC_URL || undefined),
  };
}
