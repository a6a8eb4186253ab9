export { startServer, clearmlConfSnippet, type RunningServer } from './server.js';
export { resolveConfig, type ServerConfig, DEFAULT_PORT, DEFAULT_HOST } from './config.js';
