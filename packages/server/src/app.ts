import { existsSync } from 'node:fs';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import type { Services } from './services.js';
import { Router } from './api/router.js';
import { registerApi } from './api/transport.js';
import { allHandlers } from './modules/index.js';
import { registerFiles } from './files/index.js';

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
