import { mkdir, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, Server as TusServer, TUS_RESUMABLE, type Upload } from '@tus/server';
import { FileStore as TusFileStore } from '@tus/file-store';
import type { Services } from '../services.js';
import { isoDate } from '../util/time.js';
import { safeLiteralKey, moveIntoStore, PathConflictError, UnsafePathError } from './store.js';
import { authorizeFileRequest } from './auth.js';
import { FileServerError, discardBody, rawPathAfter, sendText } from './http.js';

/** Resumable uploads live beside `/files/`, not under it, so that no file name can clash with them. */
export const UPLOADS_PATH = '/uploads';
/** An unfinished upload is kept this long, so a paused transfer can resume over a long weekend. */
const UPLOAD_EXPIRY_MS = 7 * 24 * 3600 * 1000;
/** How often expired unfinished uploads and old completion records are swept. */
const CLEANUP_INTERVAL_MS = 3600 * 1000;
/** Upload ids as the tus server makes them (random hex); anything else is not one of ours. */
const UPLOAD_ID_RE = /^[0-9a-f]{16,64}$/;
/**
 * Upload bodies are written in blocks of this size: writing each ~64 KiB network chunk on its own costs the
 * server about a third more CPU per uploaded byte.
 */
const WRITE_BLOCK_BYTES = 1024 * 1024;

/** The tus file store, writing what a PATCH brings in WRITE_BLOCK_BYTES blocks. */
class BlockFileStore extends TusFileStore {
  constructor(private readonly folder: string) {
    super({ directory: folder });
  }

  override async write(readable: Readable, id: string, offset: number): Promise<number> {
    if (!UPLOAD_ID_RE.test(id)) throw ERRORS.FILE_NOT_FOUND;
    const handle = await open(path.join(this.folder, id), 'r+');
    let position = offset;
    let block: Buffer[] = [];
    let blockBytes = 0;
    const flush = async () => {
      const data = block.length === 1 ? block[0]! : Buffer.concat(block, blockBytes);
      block = [];
      blockBytes = 0;
      try {
        await handle.write(data, 0, data.length, position);
      } catch {
        throw ERRORS.FILE_WRITE_ERROR;
      }
      position += data.length;
    };
    try {
      for await (const chunk of readable as AsyncIterable<Buffer>) {
        block.push(chunk);
        blockBytes += chunk.length;
        if (blockBytes >= WRITE_BLOCK_BYTES) await flush();
      }
    } finally {
      // What arrived before a dropped connection is kept too: the client resumes from the upload's length.
      try {
        if (blockBytes) await flush();
      } finally {
        await handle.close();
      }
    }
    return position;
  }
}

/** Working folders under the data folder: resumable parts, completion records, multipart staging. */
export function uploadFolders(dataDir: string): { parts: string; done: string; staging: string } {
  const base = path.join(dataDir, 'uploads');
  return { parts: path.join(base, 'parts'), done: path.join(base, 'done'), staging: path.join(base, 'staging') };
}

/** What the tus store keeps beside an unfinished upload (`<id>.json`). */
interface PendingUpload {
  size?: number;
  creation_date?: string;
  metadata?: { path?: string };
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

interface CompletedUpload {
  key: string;
  size: number;
  completed: string;
}

/**
 * Resumable uploads (tus 1.0, decision 12) at `/uploads/`: the client names the destination in
 * `Upload-Metadata` (`path`, plain text, checked like a multipart field name). Parts are kept under the data
 * folder, so an upload survives a restart; once complete the file is moved into the file store and only
 * then shows under `/files/`. A small completion record answers a later `HEAD` with the full offset, so a
 * client that lost the last answer still sees its upload as done.
 */
export async function registerUploads(scope: FastifyInstance, services: Services): Promise<Record<string, string>> {
  const folders = uploadFolders(services.config.dataDir);
  await Promise.all([mkdir(folders.parts, { recursive: true }), mkdir(folders.done, { recursive: true })]);
  const store = services.files;
  const datastore = new BlockFileStore(folders.parts);
  // Expiry is swept here rather than by the tus store, whose expiry check re-reads an upload after it
  // finished, when this server has already moved it into the file store.
  datastore.extensions = datastore.extensions.filter((e) => e !== 'expiration');

  const doneRecord = (id: string) => path.join(folders.done, id);
  const removeUpload = (id: string) =>
    Promise.all([rm(path.join(folders.parts, id), { force: true }), rm(path.join(folders.parts, `${id}.json`), { force: true })]);

  async function complete(id: string, key: string, size: number): Promise<void> {
    try {
      await moveIntoStore(store, key, path.join(folders.parts, id));
    } catch (err) {
      await removeUpload(id);
      // 400, not 409: in tus a 409 means "wrong offset" and clients retry it, which cannot help here.
      if (err instanceof PathConflictError) throw { status_code: 400, body: `Cannot store ${key}: ${err.message}\n` };
      throw err;
    }
    const record: CompletedUpload = { key, size, completed: isoDate(services.clock.now()) };
    await writeFile(doneRecord(id), JSON.stringify(record));
    await rm(path.join(folders.parts, `${id}.json`), { force: true });
  }

  const tus = new TusServer({
    path: UPLOADS_PATH,
    datastore,
    maxSize: services.config.maxUploadBytes ?? 0,
    relativeLocation: true,
    // Same-origin only: no cross-origin page may drive uploads with a visitor's session.
    allowedOrigins: () => false,
    async onUploadCreate(_req, upload) {
      const requested = upload.metadata?.path;
      if (!requested) throw { status_code: 400, body: 'Upload-Metadata must name the destination: path\n' };
      try {
        return { metadata: { ...upload.metadata, path: safeLiteralKey(requested) } };
      } catch (err) {
        throw { status_code: 400, body: `Invalid path ${JSON.stringify(requested)}: ${(err as UnsafePathError).message}\n` };
      }
    },
    async onUploadFinish(_req, upload: Upload) {
      await complete(upload.id, upload.metadata!.path!, upload.size ?? upload.offset);
      return {};
    },
  });

  /** Unfinished uploads on disk, by id, with what the tus store recorded about each. */
  async function pendingUploads(): Promise<{ id: string; info: PendingUpload }[]> {
    const found: { id: string; info: PendingUpload }[] = [];
    for (const name of await readdir(folders.parts)) {
      const id = name.endsWith('.json') ? name.slice(0, -'.json'.length) : '';
      if (!UPLOAD_ID_RE.test(id)) continue;
      const info = await readJson<PendingUpload>(path.join(folders.parts, name));
      if (info) found.push({ id, info });
    }
    return found;
  }

  /** Finishes what a stopped server left: complete parts are moved in, stale records dropped. */
  async function recover(): Promise<void> {
    for (const { id, info } of await pendingUploads()) {
      const key = info.metadata?.path;
      if (!key || info.size === undefined) continue;
      const data = await stat(path.join(folders.parts, id)).catch(() => undefined);
      if (data?.size === info.size) {
        await complete(id, key, info.size).catch((err) => scope.log.warn({ err, upload: id }, 'finishing an interrupted upload failed'));
      } else if (!data) {
        // Stopped between moving the file in and recording it: record it if it is there, else drop the upload.
        if ((await store.stat(key))?.size === info.size) {
          const record: CompletedUpload = { key, size: info.size, completed: isoDate(services.clock.now()) };
          await writeFile(doneRecord(id), JSON.stringify(record));
        }
        await removeUpload(id);
      }
    }
  }

  /** Drops unfinished uploads and completion records older than the expiry. */
  async function sweep(): Promise<void> {
    const cutoff = services.clock.now() - UPLOAD_EXPIRY_MS;
    for (const { id, info } of await pendingUploads()) {
      if (Date.parse(info.creation_date ?? '') < cutoff) await removeUpload(id);
    }
    for (const name of await readdir(folders.done)) {
      const s = await stat(doneRecord(name)).catch(() => undefined);
      if (s && s.mtimeMs < cutoff) await rm(doneRecord(name), { force: true });
    }
  }

  await recover();
  await sweep();
  const timer = setInterval(() => void sweep().catch((err) => scope.log.warn({ err }, 'sweeping expired uploads failed')), CLEANUP_INTERVAL_MS);
  timer.unref();
  scope.addHook('onClose', async () => clearInterval(timer));

  async function completedUpload(req: FastifyRequest): Promise<CompletedUpload | undefined> {
    const id = rawPathAfter(req.url, `${UPLOADS_PATH}/`).replace(/\/$/, '');
    return UPLOAD_ID_RE.test(id) ? readJson<CompletedUpload>(doneRecord(id)) : undefined;
  }

  async function handle(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | void> {
    try {
      if (req.method === 'GET') throw new FileServerError(404, 'Not found: uploads are read under /files/');
      // OPTIONS only says what this server supports (tus discovery), like the health check.
      if (req.method !== 'OPTIONS') await authorizeFileRequest(req, services);
    } catch (err) {
      if (!(err instanceof FileServerError)) throw err;
      discardBody(req.raw);
      return sendText(reply, err.status, err.message, { 'tus-resumable': TUS_RESUMABLE, ...err.headers });
    }
    if (req.method === 'HEAD') {
      const done = await completedUpload(req);
      if (done) {
        return reply
          .code(200)
          .headers({ 'tus-resumable': TUS_RESUMABLE, 'upload-offset': String(done.size), 'upload-length': String(done.size), 'cache-control': 'no-store' })
          .send();
      }
    }
    reply.hijack();
    try {
      await tus.handle(req.raw, reply.raw);
    } catch (err) {
      req.log.error({ err }, 'resumable upload request failed');
      reply.raw.destroy();
    }
  }

  const methods = ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE', 'OPTIONS'] as const;
  scope.route({ method: [...methods], url: UPLOADS_PATH, handler: handle });
  scope.route({ method: [...methods], url: `${UPLOADS_PATH}/*`, handler: handle });

  const maxSize = services.config.maxUploadBytes;
  return {
    'tus-version': '1.0.0',
    'tus-extension': datastore.extensions.join(','),
    ...(maxSize ? { 'tus-max-size': String(maxSize) } : {}),
  };
}

