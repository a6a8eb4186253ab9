import { rm } from 'node:fs/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../services.js';
import { authorizeFileRequest } from './auth.js';
import { sendFile } from './download.js';
import { deleteMany, deleteOne } from './delete.js';
import { FileServerError, discardBody, rawPathAfter, sendText } from './http.js';
import { receiveMultipart } from './multipart.js';
import { safeKey, UnsafePathError } from './store.js';
import { registerUploads, uploadFolders } from './uploads.js';

const FILES_PREFIX = '/files/';

/**
 * The file server at `/files` (clearml-api.md §5, decisions 12, 14, 15) and resumable uploads at `/uploads/`.
 * Files belong to the deployment, not to a company, as in ClearML; every route but the health check needs a
 * token. Bodies are never parsed by Fastify: each route reads the raw stream itself.
 */
export async function registerFiles(app: FastifyInstance, services: Services): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_req, _payload, done) => done(null));

    scope.setErrorHandler((err, req, reply) => {
      discardBody(req.raw);
      if (err instanceof FileServerError) return sendText(reply, err.status, err.message, err.headers);
      if (err instanceof UnsafePathError) return sendText(reply, err.status, `Invalid path: ${err.message}`);
      // Fastify's own refusals of a request (an aborted body, a malformed header) keep their 4xx.
      const status = (err as { statusCode?: number }).statusCode;
      if (status && status >= 400 && status < 500) return sendText(reply, status, (err as Error).message);
      req.log.error({ err }, 'file server request failed');
      return sendText(reply, 500, 'Internal error');
    });

    scope.addHook('onRequest', async (req) => {
      if (req.headers['content-encoding']) throw new FileServerError(415, `Content encoding is not supported (${req.headers['content-encoding']})`);
    });

    const folders = uploadFolders(services.config.dataDir);
    // Staged multipart parts belong to requests in flight; any left over are from a stopped server.
    await rm(folders.staging, { recursive: true, force: true });
    const tusHeaders = await registerUploads(scope, services);

    /** `GET /files`: health; a token, when sent, must be valid. Also says that resumable uploads are there. */
    const health = async (req: FastifyRequest, reply: FastifyReply) => {
      await authorizeFileRequest(req, services, false);
      return sendText(reply, 200, 'OK', tusHeaders);
    };
    scope.get('/files', health);
    scope.get('/files/', health);

    /** `POST /files`: ClearML's multipart upload; answers the list of stored paths. */
    const upload = async (req: FastifyRequest, reply: FastifyReply) => {
      await authorizeFileRequest(req, services);
      const keys = await receiveMultipart(req.raw, services.files, folders.staging, services.config.maxUploadBytes);
      req.log.info({ files: keys.length }, 'uploaded files');
      return reply.type('application/json; charset=utf-8').send(JSON.stringify(keys));
    };
    scope.post('/files', upload);
    scope.post('/files/', upload);

    // The batch delete. Uploads never go to a path-bearing URL (they are `POST /files` with the path inside
    // the form), so a file named `delete_many` at the root is still uploaded, read and deleted like any
    // other; only a POST to this URL is taken as a batch delete.
    scope.post('/files/delete_many', async (req, reply) => {
      await authorizeFileRequest(req, services);
      const result = await deleteMany(req.raw, services.files);
      return reply.type('application/json; charset=utf-8').send(JSON.stringify(result));
    });

    const keyOf = (req: FastifyRequest) => safeKey(rawPathAfter(req.raw.url ?? '', FILES_PREFIX));

    scope.route({
      method: ['GET', 'HEAD'],
      url: '/files/*',
      handler: async (req, reply) => {
        await authorizeFileRequest(req, services);
        return sendFile(req, reply, services.files, keyOf(req));
      },
    });

    scope.delete('/files/*', async (req, reply) => {
      await authorizeFileRequest(req, services);
      const key = await deleteOne(services.files, keyOf(req));
      return reply.type('application/json; charset=utf-8').send(JSON.stringify(key));
    });
  });
}
