/**
 * The built-in storage drivers, one entry per backend. A StorageManager creates a driver on the first use
 * of one of its schemes, so a backend's SDK is only set up when a URI needs it.
 */
import type { StorageDriver } from '../types.js';
import { FileDriver } from './file.js';
import { HttpDriver } from './http.js';
import { S3Driver } from './s3.js';
import { GcsDriver } from './gcs.js';
import { AzureDriver } from './azure.js';

/** What a driver factory gets from the StorageManager. */
export interface DriverContext {
  /** The whole parsed clearml.conf. */
  config: Record<string, unknown>;
  /** Its `sdk` section (`{}` when absent): `aws.s3`, `google.storage`, `azure.storage`, ... */
  sdk: Record<string, unknown>;
  /** The configured file server, without a trailing slash. */
  filesHost?: string;
  /** Headers for requests to the files host. */
  authHeaders?: () => Promise<Record<string, string>>;
  fetch: typeof fetch;
}

export interface DriverEntry {
  readonly schemes: readonly string[];
  /** Called once per manager, on the first use of one of the schemes. */
  create(context: DriverContext): StorageDriver;
}

export const driverRegistry: DriverEntry[] = [
  { schemes: ['file'], create: () => new FileDriver() },
  { schemes: ['http', 'https'], create: (ctx) => new HttpDriver(ctx) },
  { schemes: ['s3'], create: (ctx) => new S3Driver({ sdk: ctx.sdk }) },
  { schemes: ['gs'], create: (ctx) => new GcsDriver({ sdk: ctx.sdk }) },
  { schemes: ['azure'], create: (ctx) => new AzureDriver({ sdk: ctx.sdk }) },
];
