import { createRequire } from 'node:module';
import path from 'node:path';
import { Command } from 'commander';
import type { RunningServer } from '@cairn/server';

/**
 * The built web app, served at `/` when present. Found through the package, not relative to this file, which
 * moves when the CLI is compiled ahead (scripts/build-cli.mjs).
 */
const WEB_DIST = path.join(path.dirname(createRequire(import.meta.url).resolve('@cairn/web/package.json')), 'dist');

export function serverCommand(): Command {
  return new Command('server')
    .description('Run the API server, the file server and the web app on one port')
    .option('--host <host>', 'address to bind (env CAIRN_HOST; default 127.0.0.1)')
    .option('--port <port>', 'port (env CAIRN_PORT; default 8080)')
    .option('--data <dir>', 'data folder for SQLite, files and secrets (env CAIRN_DATA_DIR; default ./data)')
    .option('--database-url <url>', 'postgres://... to use PostgreSQL (env CAIRN_DATABASE_URL)')
    .action(async (opts: { host?: string; port?: string; data?: string; databaseUrl?: string }) => {
      // Loaded here, so the other commands start without the server's dependencies.
      const { startServer, clearmlConfSnippet } = await import('@cairn/server');
      const server = await startServer({
        host: opts.host,
        port: opts.port === undefined ? undefined : Number(opts.port),
        dataDir: opts.data,
        databaseUrl: opts.databaseUrl,
        webDist: WEB_DIST,
      });
      const snippet = server.admin && clearmlConfSnippet(server, server.admin.accessKey, server.admin.secretKey);
      process.stdout.write(banner(server, snippet));
      const stop = async () => {
        await server.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
}

/** What the server prints when it starts; `confSnippet` is the ready clearml.conf of a first start. */
export function banner(server: RunningServer, confSnippet: string | undefined): string {
  const lines = [
    '',
    `Cairn is running at ${server.url}`,
    `  web app: ${server.url}/`,
    `  API:     ${server.apiUrl}`,
    `  files:   ${server.filesUrl}`,
    `  data:    ${server.config.dataDir}${server.config.databaseUrl ? ` (database: ${server.config.databaseUrl.replace(/\/\/[^@]*@/, '//***@')})` : ' (SQLite)'}`,
    '',
  ];
  if (server.admin && confSnippet) {
    lines.push(
      'First start: an admin user and key pair were created. They are shown once; a copy is in',
      `  ${server.credentialsFile} (mode 0600).`,
      '',
      `Web login:  user "${server.admin.username}", password "${server.admin.password}"`,
      '',
      'clearml.conf (for the ClearML Python package, clearml-agent and the Cairn SDK):',
      '',
      confSnippet,
      '',
    );
  } else {
    lines.push(`Admin credentials from the first start are in ${server.credentialsFile}.`, '');
  }
  return lines.join('\n') + '\n';
}
