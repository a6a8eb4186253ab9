/**
 * An upload of weights to the file server is cut halfway, and the server restarts before the client comes back:
 * the upload resumes from the server's offset and completes, and the model's URI is set only once it has.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { models } from '@cairn/protocol';
import { startTestServer, testDialects, type TestServer } from '@cairn/server/test-harness';
import { scratchDir } from '../../test/helpers.js';
import { Session } from '../session.js';
import { Task } from '../task.js';
import { OutputModel } from './output-model.js';
import { TUS_CHUNK_BYTES } from '../storage/drivers/http.js';
import { sha256OfFile, startCuttingProxy, writeRandomFile } from '../storage/test-support.js';

const MiB = 1024 * 1024;

for (const dialect of testDialects()) {
  describe(`weights upload through a dropped connection and a server restart (${dialect})`, () => {
    let s: TestServer;
    before(async () => {
      s = await startTestServer({ dialect });
    });
    after(() => s.stop());

    it('resumes from the offset the restarted server kept; the URI is recorded only after the last byte', { timeout: 120_000 }, async () => {
      const proxy = await startCuttingProxy(Number(new URL(s.url).port));
      const base = `http://127.0.0.1:${proxy.port}`;
      const session = new Session({ apiHost: `${base}/api`, filesHost: `${base}/files`, accessKey: s.accessKey, secretKey: s.secretKey, env: {}, cacheDir: scratchDir('restart-cache') });
      const work = scratchDir('restart-work');
      const size = 24 * MiB;
      assert.ok(size < TUS_CHUNK_BYTES, 'one chunk: a second PATCH can only be the resume');
      const file = path.join(work, 'big.pt');
      const sha = await writeRandomFile(file, size);
      const task = await Task.init({ projectName: 'Resume', taskName: 'restart', session });
      const model = new OutputModel({ task, name: 'resumed' });

      // Once 10 MiB are on their way, the connection drops and the server restarts; clients wait meanwhile.
      let uriWhileDown: string | null | undefined;
      const restarted = new Promise<void>((resolve, reject) => {
        proxy.cutUpload(10 * MiB, () => {
          const port = (async () => {
            s = await s.restart();
            uriWhileDown = (await s.ok(models.get_by_id, { model: model.id as string })).model.uri;
            return Number(new URL(s.url).port);
          })();
          proxy.retarget(port);
          port.then(() => resolve(), reject);
        });
      });
      try {
        const uri = await model.updateWeights({ weightsFilename: file, autoDeleteFile: false });
        await OutputModel.waitForUploads();
        await restarted;
        assert.equal(proxy.cuts, 1, 'the connection was cut once');
        assert.equal(uriWhileDown, '', 'no URI while the upload was unfinished');
        const stored = (await s.ok(models.get_by_id, { model: model.id as string })).model;
        assert.equal(stored.uri, uri);
        assert.equal(stored.weights_sha256, sha);
        const patches = proxy.requests().filter((r) => r.method === 'PATCH');
        assert.equal(patches.length, 2, 'the cut PATCH and the resumed one');
        const resumedAt = Number(patches[1]!.headers['upload-offset']);
        assert.ok(resumedAt > 0 && resumedAt <= 10 * MiB, `resumed from the server's offset ${resumedAt}, not from 0`);
        const key = decodeURIComponent(new URL(uri).pathname.replace(/^\/files\//, ''));
        assert.equal(sha256OfFile(path.join(s.server.config.filesRoot, key)), sha);
        await task.close();
      } finally {
        await proxy.close();
      }
    });
  });
}
