import { queues, type TaskStatus } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import type { CallContext } from '../../api/context.js';
import { apiError } from '../../api/errors.js';
import { applyStatusChange } from '../tasks/status.js';
import { countEntries, entriesOf, loadQueue } from './store.js';

/**
 * queues.delete: a queue with waiting tasks needs `force` (400/702); its queued tasks then return to the
 * status they were enqueued from (or created), as after a dequeue. One transaction.
 */
export const deleteQueue = defineHandler(queues.delete, async (ctx, req) =>
  ctx.db.transaction(async (db) => {
    const tx: CallContext = { ...ctx, db };
    const queue = await loadQueue(tx, req.queue);
    const waiting = (await countEntries(tx, [queue.id])).get(queue.id) ?? 0;
    if (waiting && !req.force) throw apiError('queue_not_empty', 'use force=true to delete', { id: queue.id });
    if (waiting) {
      const taskIds = (await entriesOf(tx, [queue.id])).get(queue.id)!.map((e) => e.task);
      await db.kysely.deleteFrom('queue_entries').where('company', '=', ctx.company).where('queue', '=', queue.id).execute();
      const queued = await db.kysely.selectFrom('tasks').selectAll().where('company', '=', ctx.company).where('id', 'in', taskIds).where('status', '=', 'queued').execute();
      for (const task of queued) {
        await applyStatusChange(tx, task, (task.enqueue_status as TaskStatus | null) ?? 'created', {
          force: true,
          statusReason: 'Queue was deleted',
          set: { enqueue_status: null },
        });
      }
    }
    await db.kysely.deleteFrom('queues').where('id', '=', queue.id).where('company', '=', ctx.company).execute();
    return { deleted: 1 };
  }),
);
