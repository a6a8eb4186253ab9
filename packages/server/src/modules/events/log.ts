import { events } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import { readableEntity } from './entities.js';
import { entityEvents, metricsCondition } from './query.js';
import { EVENT_COLUMNS, rowToEvent } from './store.js';

/** ClearML's default page of log lines. */
const DEFAULT_LOG_BATCH = 500;
/** ClearML's events retrieval cap per call. */
const MAX_LOG_BATCH = 10_000;

/**
 * `events.get_task_log` (2.9): log lines of a task, `batch_size` at a time, going back in time
 * from `from_timestamp` (or forward with `navigate_earlier: false`). A page never splits the lines
 * of one timestamp, so the next call can start strictly after the last one seen. `order` only flips
 * the page.
 */
export const getTaskLog = defineHandler(events.get_task_log, async (ctx, req) => {
  const entity = await readableEntity(ctx, req.task, false);
  const earlier = req.navigate_earlier ?? true;
  const batch = Math.min(req.batch_size ?? DEFAULT_LOG_BATCH, MAX_LOG_BATCH);
  const filter = metricsCondition(req.metrics);
  const base = () => {
    let q = entityEvents(ctx, entity, false, 'log');
    if (filter) q = q.where(filter);
    return q;
  };
  const direction = earlier ? 'desc' : 'asc';
  let page = base().select([...EVENT_COLUMNS, 'seq']);
  if (req.from_timestamp !== undefined && req.from_timestamp !== null) {
    page = page.where('timestamp', earlier ? '<' : '>', req.from_timestamp);
  }
  const rows = await page.orderBy('timestamp', direction).orderBy('seq', direction).limit(batch).execute();
  const last = rows[rows.length - 1];
  if (last && rows.length === batch) {
    const rest = await base()
      .select([...EVENT_COLUMNS, 'seq'])
      .where('timestamp', '=', last.timestamp)
      .where('seq', earlier ? '<' : '>', last.seq)
      .orderBy('seq', direction)
      .execute();
    rows.push(...rest);
  }
  const total = Number((await base().select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  const lines = rows.map(rowToEvent);
  if ((earlier && req.order === 'asc') || (!earlier && req.order === 'desc')) lines.reverse();
  return { events: lines, returned: lines.length, total };
});
