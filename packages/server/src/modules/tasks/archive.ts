import type { CallContext } from '../../api/context.js';
import { isoDate } from '../../util/time.js';
import { dequeueTask, loadTask } from './status.js';
import { systemTagsWith, systemTagsWithout } from './tags.js';

/** The system tag that marks an archived task. */
export const ARCHIVED_TAG = 'archived';

export interface ArchiveOptions {
  statusReason?: string | null;
  statusMessage?: string | null;
}

/** Adds (or removes) the system tag `archived`; archiving first takes a queued task out of its queue. */
export async function setArchived(ctx: CallContext, taskId: string, archived: boolean, options: ArchiveOptions): Promise<boolean> {
  return ctx.db.transaction(async (db) => {
    const tx: CallContext = { ...ctx, db };
    const task = await loadTask(tx, taskId, { writable: true, forUpdate: true });
    if (archived) await dequeueTask(tx, task, { statusReason: options.statusReason, statusMessage: options.statusMessage });
    const result = await db.kysely
      .updateTable('tasks')
      .set({
        system_tags: archived ? systemTagsWith(db, ARCHIVED_TAG) : systemTagsWithout(db, ARCHIVED_TAG),
        status_reason: options.statusReason ?? '',
        status_message: options.statusMessage ?? '',
        last_change: isoDate(ctx.services.clock.now()),
        last_changed_by: ctx.user,
      })
      .where('id', '=', task.id)
      .where('company', '=', ctx.company)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  });
}
