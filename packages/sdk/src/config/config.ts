/**
 * Where the SDK finds its server and credentials (sdk-behaviour.md §8.5): explicit options win, then the
 * environment (`CLEARML_API_HOST`, `CLEARML_WEB_HOST`, `CLEARML_FILES_HOST`, `CLEARML_API_ACCESS_KEY`,
 * `CLEARML_API_SECRET_KEY`), then `clearml.conf` (`CLEARML_CONFIG_FILE`, else `~/trains.conf` and `~/clearml.conf`).
 */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../errors.js';
import { HoconParseError, parseHocon } from './hocon.js';

export interface ConnectionOptions {
  /** The API server, e.g. `http://127.0.0.1:8080/api` (Cairn) or `http://localhost:8008` (ClearML). */
  apiHost?: string;
  /** The web app, used for links. */
  webHost?: string;
  /** The file server, e.g. `http://127.0.0.1:8080/files` (Cairn) or `http://localhost:8081` (ClearML). */
  filesHost?: string;
  accessKey?: string;
  secretKey?: string;
  /** A `clearml.conf` to read instead of the default locations. */
  configFile?: string;
  /** The environment to read (default `process.env`). */
  env?: Record<string, string | undefined>;
}

export interface SdkConfig {
  apiHost: string;
  webHost: string;
  filesHost: string;
  accessKey: string;
  secretKey: string;
  /** Where the key pair was read from, for error messages. */
  credentialsSource: string;
  /** The configuration files that were read. */
  configFiles: string[];
  /** The parsed configuration (merged files; `{}` when none). */
  config: Record<string, unknown>;
  /** `CLEARML_DEFAULT_OUTPUT_URI`, else `sdk.development.default_output_uri`. */
  defaultOutputUri?: string;
}

/** The configuration files ClearML reads, later ones overriding earlier ones. */
export function configFileCandidates(env: Record<string, string | undefined>, explicit?: string): string[] {
  if (explicit) return [explicit];
  if (env.CLEARML_CONFIG_FILE && existsSync(env.CLEARML_CONFIG_FILE)) return [env.CLEARML_CONFIG_FILE];
  const home = env.HOME || os.homedir();
  return [path.join(home, 'trains.conf'), path.join(home, 'clearml.conf')];
}

/** Reads and merges the configuration files; a missing default file is skipped, a broken one is an error. */
export function readConfigFiles(files: string[], env: Record<string, string | undefined>, required: boolean): { config: Record<string, unknown>; read: string[] } {
  let config: Record<string, unknown> = {};
  const read: string[] = [];
  for (const file of files) {
    if (!existsSync(file)) {
      if (required) throw new ConfigError(`configuration file not found: ${file}`);
      continue;
    }
    let parsed: unknown;
    try {
      parsed = parseHocon(readFileSync(file, 'utf8'), { env });
    } catch (err) {
      const where = err instanceof HoconParseError ? ` at line ${err.line}, column ${err.col}` : '';
      throw new ConfigError(`cannot read ${file}${where}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    if (!isRecord(parsed)) throw new ConfigError(`cannot read ${file}: the configuration must be an object`);
    config = deepMerge(config, parsed);
    read.push(file);
  }
  return { config, read };
}

/**
 * The configuration. Without `requireServer` (offline mode) a missing API server or key pair is no error: those
 * fields are then empty.
 */
export function loadSdkConfig(options: ConnectionOptions = {}, { requireServer = true }: { requireServer?: boolean } = {}): SdkConfig {
  const env = options.env ?? process.env;
  const files = configFileCandidates(env, options.configFile);
  const { config, read } = readConfigFiles(files, env, !!options.configFile);
  const api = recordAt(config, ['api']);
  const credentials = recordAt(api, ['credentials']);
  const fileText = read.length ? read.join(' and ') : `${files.join(' or ')} (not found)`;

  const apiHost = pick(options.apiHost, env.CLEARML_API_HOST, str(api.api_server));
  if (!apiHost && requireServer) {
    throw new ConfigError(`No API server configured: pass apiHost, set CLEARML_API_HOST, or set api.api_server in ${fileText}`);
  }
  const webHost = pick(options.webHost, env.CLEARML_WEB_HOST, str(api.web_server)) ?? (apiHost ? deriveWebHost(apiHost) : '');
  const filesHost = pick(options.filesHost, env.CLEARML_FILES_HOST, str(api.files_server)) ?? (apiHost ? deriveFilesHost(apiHost, webHost) : '');

  const keyFrom = options.accessKey ? 'the accessKey option' : env.CLEARML_API_ACCESS_KEY ? 'CLEARML_API_ACCESS_KEY' : str(credentials.access_key) ? `api.credentials.access_key in ${fileText}` : undefined;
  const secretFrom = options.secretKey ? 'the secretKey option' : env.CLEARML_API_SECRET_KEY ? 'CLEARML_API_SECRET_KEY' : str(credentials.secret_key) ? `api.credentials.secret_key in ${fileText}` : undefined;
  const accessKey = pick(options.accessKey, env.CLEARML_API_ACCESS_KEY, str(credentials.access_key));
  const secretKey = pick(options.secretKey, env.CLEARML_API_SECRET_KEY, str(credentials.secret_key));
  if ((!accessKey || !secretKey) && requireServer) {
    throw new ConfigError(
      `No API credentials for ${apiHost}: pass accessKey and secretKey, set CLEARML_API_ACCESS_KEY and CLEARML_API_SECRET_KEY, ` +
        `or set api.credentials.access_key and secret_key in ${fileText}` +
        (accessKey ? ` (the access key was found in ${keyFrom}, the secret key was not)` : secretKey ? ` (the secret key was found in ${secretFrom}, the access key was not)` : ''),
    );
  }
  const development = recordAt(config, ['sdk', 'development']);
  return {
    apiHost: trimSlash(apiHost ?? ''),
    webHost: trimSlash(webHost),
    filesHost: trimSlash(filesHost),
    accessKey: accessKey ?? '',
    secretKey: secretKey ?? '',
    credentialsSource: keyFrom === secretFrom ? (keyFrom ?? '') : `${keyFrom} and ${secretFrom}`,
    configFiles: read,
    config,
    defaultOutputUri: pick(env.CLEARML_DEFAULT_OUTPUT_URI, str(development.default_output_uri)),
  };
}

/** Cairn serves the API at `/api` and the web app at `/`; ClearML's hosts map `api.` to `app.` and 8008 to 8080. */
export function deriveWebHost(apiHost: string): string {
  const host = trimSlash(apiHost);
  if (/\/api$/.test(host)) return host.replace(/\/api$/, '');
  return host.replace('://api.', '://app.').replace(/:8008$/, ':8080');
}

/**
 * Cairn serves files at `/files` beside `/api`. For ClearML layouts: an explicit web port becomes 8081, `app.`
 * becomes `files.`, `demoapp.` becomes `demofiles.`, otherwise `:8081` is appended (sdk-behaviour §8.5).
 */
export function deriveFilesHost(apiHost: string, webHost: string): string {
  const api = trimSlash(apiHost);
  if (/\/api$/.test(api)) return api.replace(/\/api$/, '/files');
  const web = trimSlash(webHost);
  if (/:\d+$/.test(web)) return web.replace(/:\d+$/, ':8081');
  if (web.includes('://demoapp.')) return web.replace('://demoapp.', '://demofiles.');
  if (web.includes('://app.')) return web.replace('://app.', '://files.');
  return `${web}:8081`;
}

function pick(...values: (string | undefined)[]): string | undefined {
  return values.find((v) => typeof v === 'string' && v.trim() !== '')?.trim();
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The object at a path of the configuration (`{}` when absent). */
export function recordAt(root: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  let node: unknown = root;
  for (const key of keys) node = isRecord(node) ? node[key] : undefined;
  return isRecord(node) ? node : {};
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isRecord(out[k]) && isRecord(v) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  return out;
}
