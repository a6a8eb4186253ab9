/**
 * A session is one connection to a server: the configuration it was built from, the `ApiClient`, the
 * `StorageManager` for weights, and the event pipeline for reports. `Task.init` and the model loaders use
 * `Session.default()` (built from `clearml.conf` and the environment) unless given one.
 *
 * Offline (sdk-behaviour.md §6.10) no session reaches a server: `client` throws a UsageError, so no API call can be
 * made, and no server configuration is needed. A task recorded offline gets a session of its own whose reports go
 * to its folder.
 */
import { ApiClient, type ApiClientOptions, type Clock } from './api/client.js';
import { loadSdkConfig, type ConnectionOptions, type SdkConfig } from './config/config.js';
import { StorageManager } from './storage/manager.js';
import { EventPipeline } from './reporting/pipeline.js';
import { isOfflineMode, offlineError, type OfflineStore } from './offline/store.js';

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
  readonly storage: StorageManager;
  /** The folder a task recorded offline writes to: set on that task's session only. */
  readonly offlineStore: OfflineStore | undefined;
  private apiClient: ApiClient | undefined;
  private pipeline: EventPipeline | undefined;

  constructor(
    private readonly options: SessionOptions = {},
    offlineStore?: OfflineStore,
  ) {
    this.offlineStore = offlineStore;
    this.config = loadSdkConfig(options, { requireServer: !offlineStore && !isOfflineMode() });
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

  /** The API client; throws a UsageError while the SDK is offline. */
  get client(): ApiClient {
    if (this.offlineStore || isOfflineMode()) throw offlineError();
    // Built offline, the configuration may lack a server: say where one is configured.
    if (!this.apiClient && (!this.config.apiHost || !this.config.accessKey || !this.config.secretKey)) loadSdkConfig(this.options);
    this.apiClient ??= new ApiClient({
      apiHost: this.config.apiHost,
      filesHost: this.config.filesHost,
      webHost: this.config.webHost,
      accessKey: this.config.accessKey,
      secretKey: this.config.secretKey,
      credentialsSource: this.config.credentialsSource,
      fetch: this.options.fetch,
      clock: this.options.clock,
      retry: this.options.retry,
    });
    return this.apiClient;
  }

  /** A session like this one (same configuration and storage) for a task recorded offline in `store`. */
  offlineSession(store: OfflineStore): Session {
    return new Session({ ...this.options, storage: this.storage }, store);
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
    this.pipeline ??= new EventPipeline(this.offlineStore ?? this.client);
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
