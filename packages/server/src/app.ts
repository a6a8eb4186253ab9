import { existsSync } from 'node:fs';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import type { Services } from './services.js';
import { Router } from './api/router.js';
import { registerApi } from './api/transport.js';
import { allHandlers } from './modules/index.js';
import { registerFiles } from './files/index.js';

/** Files of the web build whose name changes with their content: `/assets/<name>-<hash>.<ext>`, `/plotly[-cartesian]-<version>.min.js`. */
const IMMUTABLE_WEB_FILE = /^\/(assets\/[\w.-]+-[\w-]{8,}\.\w+|plotly(-cartesian)?-\d+\.\d+\.\d+\.min\.js)$/;

/** Builds the one Fastify app: web app at `/`, API at `/api/`, files at `/files/`, health at `/health`. */
export async function createApp(services: Services): Promise<FastifyInstance> {
  const { config } = services;
  const app = Fastify({
    logger: { level: config.logLevel, redact: ['req.headers.authorization', 'req.headers.cookie'] },
    // Uploads and downloads are streams of any length; a request may take as long as it keeps moving.
    requestTimeout: 0,
    bodyLimit: 1024 * 1024,
    trustProxy: false,
  });

  app.get('/health', async () => ({ status: 'ok' }));

  registerApi(app, new Router(allHandlers), services);
  await registerFiles(app, services);

  if (config.webDist && existsSync(path.join(config.webDist, 'index.html'))) {
    await app.register(fastifyStatic, { root: path.resolve(config.webDist), prefix: '/', wildcard: false, index: ['index.html'] });
    // Hashed build files and the versioned plotly never change under their name: browsers keep them without
    // asking again, and keep their compiled code too (plotly alone takes ~0.5 s to compile on every load).
    app.addHook('onSend', async (req, reply, payload) => {
      // Not the app shell that answers for a file that is not there (an old hash after an upgrade).
      const shell = String(reply.getHeader('content-type') ?? '').startsWith('text/html');
      if (reply.statusCode === 200 && !shell && IMMUTABLE_WEB_FILE.test(req.url)) reply.header('cache-control', 'public, max-age=31536000, immutable');
      return payload;
    });
    // Client-side routes (deep links such as /projects/x/models/y/general) all load the app shell.
    app.setNotFoundHandler((req, reply) => {
      if (req.method === 'GET' && !req.url.startsWith('/api/') && !req.url.startsWith('/files/')) {
        return reply.type('text/html').sendFile('index.html');
      }
      return reply.code(404).send({ error: 'not found' });
    });
  }
  return app;
}
