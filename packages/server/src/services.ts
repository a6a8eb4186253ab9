import type { ServerConfig } from './config.js';
import type { Db } from './db/database.js';
import type { TokenService } from './modules/auth/tokens.js';
import type { Clock } from './util/time.js';
import type { FileStore } from './files/store.js';

/** Long-lived parts of the server that handlers use. */
export interface Services {
  readonly config: ServerConfig;
  readonly db: Db;
  readonly clock: Clock;
  readonly tokens: TokenService;
  /** Where the file server keeps files; also used to delete a model's weights. */
  readonly files: FileStore;
  /**
   * The base URLs clients reach this server at (`publicUrl`, `http://host:port` and its loopback names), its
   * file server being `<base>/files/`. Known once the server listens; `startServer` sets them then.
   */
  baseUrls: readonly string[];
}
