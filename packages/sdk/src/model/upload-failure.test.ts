import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, truncateSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { models } from '@cairn/protocol';
import { startTestServer, testDialects, type TestServer } from '@cairn/server/test-harness';
import { testSession } from '../../test/helpers.js';
import { Task } from '../task.js';
import { OutputModel } from './output-model.js';
import { UploadError } from '../errors.js';
import { setLogSink } from '../log.js';

/** Big enough to need several resumable chunks, so the server can go away between two of them. */
const FILE_BYTES = 256 * 1024 * 1024;

for (const dialect of testDialects()) {
  describe(`a background upload whose server stops mid-way (${dialect})`, () => {
    let live: TestServer | undefined;
    const work = mkdtempSync(path.join(os.tmpdir(), 'cairn-stop-'));
    after(async () => {
      await live?.stop();
      rmSync(work, { recursive: true, force: true });
    });

    it('rejects waitForUploads and task.close() naming file, destination and cause; the model keeps its previous URI', { timeout: 120_000 }, async () => {
      const s = await startTestServer({ dialect });
      live = s;
      const { session } = testSession(s);
      const task = await Task.init({ projectName: 'Stops', taskName: 'train', session });
      const model = new OutputModel({ task });
      const small = path.join(work, 'first.bin');
      writeFileSync(small, 'the first weights');
      const previous = await model.updateWeights({ weightsFilename: small, asyncEnable: false });
      assert.equal(model.url, previous);

      const big = path.join(work, 'big.bin');
      writeFileSync(big, '');
      truncateSync(big, FILE_BYTES);
      // Once the first bytes are on their way, the server goes away; it comes back (a restart) at another
      // address, so the rest of the upload finds nobody there.
      let restarted: Promise<void> | undefined;
      const announced = await model.updateWeights({
        weightsFilename: big,
        onProgress: (p) => {
          if (!restarted && p.bytes > 0) {
            restarted = s.restart().then((next) => {
              live = next;
            });
          }
        },
      });
      assert.ok(announced.includes('/models/big.bin'));
      const lines: string[] = [];
      setLogSink((level, message) => lines.push(`${level}: ${message}`));
      try {
        await assert.rejects(OutputModel.waitForUploads(), (e: unknown) => {
          assert.ok(e instanceof UploadError, String(e));
          assert.equal(e.file, big);
          assert.ok(e.destination.includes(`/Stops/train.${task.id}/models/big.bin`), e.destination);
          assert.match(e.message, new RegExp(`^upload of ${big} to ${s.filesUrl}/Stops/train\\.${task.id}/models/big\\.bin failed: .+`));
          assert.ok(e.cause, 'the cause is kept');
          return true;
        });
        await assert.rejects(task.close(), (e: unknown) => e instanceof UploadError && e.file === big);
      } finally {
        setLogSink(undefined);
      }
      assert.ok(restarted, 'the upload had started');
      await restarted;
      const after = live as TestServer;
      assert.notEqual(after, s);
      const record = (await after.ok(models.get_by_id, { model: model.id as string })).model;
      assert.equal(record.uri, previous, 'the model keeps the URI of its last complete upload');
      assert.ok(lines.some((l) => l.includes(`could not mark task ${task.id} failed`)), 'the status call that could not follow is reported, not thrown');
    });
  });
}
