/**
 * A session is one connection to a server: the configuration it was built from, the `ApiClient`, the
 * `StorageManager` for weights, and the event pipeline for reports. `Task.init` and the model loaders use
 * `Session.default()` (built from `clearml.conf` and the environment) unless given one.
 */
import { ApiClient, type ApiClientOptions, type Clock } from './api/client.js';
import { loadSdkConfig, type ConnectionOptions, type SdkConfig } from './config/config.js';
import { StorageManager } from './storage/manager.js';
import { EventPipeline } from './reporting/pipeline.js';

export interface SessionOptions extends ConnectionOptions {
  fetch?: typeof fetch;
  clock?: Clock;
  /** A storage manager to use instead of one built from the configuration. */
  storage?: StorageManager;
  /** The download cache folder (default `CLEARML_CACHE_DIR`, `sdk.storage.cache.default_base_dir`, `~/.clearml/cache`). */
  cacheDir?: string;
  retry?: ApiClientOptions['retry'];
}

export class Session {
  private static defaultSession: Session | undefined;

  readonly config: SdkConfig;
  readonly client: ApiClient;
  readonly storage: StorageManager;
  private pipeline: EventPipeline | undefined;

  constructor(options: SessionOptions = {}) {
    this.config = loadSdkConfig(options);
    this.client = new ApiClient({
      apiHost: this.config.apiHost,
      filesHost: this.config.filesHost,
      webHost: this.config.webHost,
      accessKey: this.config.accessKey,
      secretKey: this.config.secretKey,
      credentialsSource: this.config.credentialsSource,
      fetch: options.fetch,
      clock: options.clock,
      retry: options.retry,
    });
    this.storage =
      options.storage ??
      new StorageManager({
        filesHost: this.config.filesHost,
        authHeaders: () => this.client.authHeaders(),
        fetch: options.fetch,
        cacheDir: options.cacheDir,
        config: this.config.config,
      });
  }

  get apiHost(): string {
    return this.config.apiHost;
  }

  get webHost(): string {
    return this.config.webHost;
  }

  get filesHost(): string {
    return this.config.filesHost;
  }

  /** The queue every report of this session goes through, created on the first report. */
  get events(): EventPipeline {
    this.pipeline ??= new EventPipeline(this.client);
    return this.pipeline;
  }

  /** Waits until everything reported so far is stored; rejects when the server refused any of it. */
  async flushEvents(): Promise<void> {
    await this.pipeline?.flush();
  }

  /** The session built from `clearml.conf` and the environment, created on first use. */
  static default(): Session {
    Session.defaultSession ??= new Session();
    return Session.defaultSession;
  }

  /** Makes `session` the one `Task.init` and the model loaders use when given none (undefined resets). */
  static setDefault(session: Session | undefined): void {
    Session.defaultSession = session;
  }
}
