import { workers } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import { apiError } from '../../api/errors.js';
import { registerWorker } from './store.js';

/** workers.register: `timeout` seconds (default 600) without a report and the worker is gone; unknown queues are 400/701. */
export const registerHandler = defineHandler(workers.register, async (ctx, req) => {
  await registerWorker(ctx, { worker: req.worker, timeoutS: req.timeout, queues: req.queues, tags: req.tags, systemTags: req.system_tags });
  return {};
});

/** workers.unregister: a worker that is not registered (or has lapsed) is 400/1004. */
export const unregisterHandler = defineHandler(workers.unregister, async (ctx, req) => {
  const result = await ctx.db.kysely
    .deleteFrom('workers')
    .where('company', '=', ctx.company)
    .where('user', '=', ctx.user)
    .where('id', '=', req.worker)
    .where('expires', '>', ctx.services.clock.now())
    .executeTakeFirst();
  if (!Number(result.numDeletedRows)) throw apiError('worker_not_registered', undefined, { worker: req.worker });
  return {};
});
