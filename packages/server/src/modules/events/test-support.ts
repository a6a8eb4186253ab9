/**
 * Helpers for tests of the modules that delete events along with tasks, models and projects: events sent
 * through the API, and the number of stored events of an entity read from the table (the entity itself may be
 * gone, so no read endpoint would answer for it).
 */
import assert from 'node:assert/strict';
import { operations } from '@cairn/protocol';
import type { TestServer } from '../../../test/harness.js';
import { eventsDb } from './store.js';

/** Stores `count` scalar events (iterations 1..count) of a task, or of a model with `modelEvent`. */
export async function addScalarEvents(s: TestServer, entityId: string, count: number, modelEvent = false): Promise<void> {
  const lines = Array.from({ length: count }, (_, i) =>
    JSON.stringify({ type: 'training_stats_scalar', task: entityId, iter: i + 1, metric: 'loss', variant: 'train', value: 1 / (i + 1), timestamp: Date.now(), ...(modelEvent ? { model_event: true } : {}) }),
  );
  const res = await s.call<{ added: number }>('events.add_batch', undefined, { rawBody: lines.join('\n'), headers: { 'content-type': 'application/json-lines' } });
  assert.equal(res.status, 200, res.meta.result_msg);
  operations.events.add_batch.response.parse(res.data);
  assert.equal(res.data.added, count);
}

/** Stored events of an entity (task events, or model events with `modelEvent`). */
export async function storedEventCount(s: TestServer, entityId: string, modelEvent = false): Promise<number> {
  const row = await eventsDb(s.server.services.db)
    .selectFrom('events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('task', '=', entityId)
    .where('model_event', '=', modelEvent ? 1 : 0)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
