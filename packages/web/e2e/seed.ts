/** Test data written straight through the API (bulk rows, events), for what the SDK does not cover cheaply. */
import { events } from '@cairn/protocol';
import type { TestServer } from '../../server/test/harness.js';

/** Sends events as one `events.add_batch` json-lines request and checks they were all stored. */
export async function addEvents(server: TestServer, items: Record<string, unknown>[], token?: string): Promise<void> {
  const res = await server.call(events.add_batch.endpoint, undefined, {
    rawBody: items.map((e) => JSON.stringify(e)).join('\n'),
    headers: { 'content-type': 'application/json-lines' },
    token,
  });
  if (res.status !== 200) throw new Error(`events.add_batch: ${res.status} ${res.meta.result_msg}`);
  const data = res.data as { added: number; errors: number; errors_info: unknown };
  if (data.added !== items.length) throw new Error(`events.add_batch stored ${data.added} of ${items.length}: ${JSON.stringify(data.errors_info)}`);
}

export function scalar(entity: string, modelEvent: boolean, metric: string, variant: string, iter: number, value: number, timestamp?: number) {
  return { type: 'training_stats_scalar', task: entity, model_event: modelEvent, metric, variant, iter, value, ...(timestamp ? { timestamp } : {}) };
}

export function plot(entity: string, modelEvent: boolean, metric: string, variant: string, iter: number, figure: unknown) {
  return { type: 'plot', task: entity, model_event: modelEvent, metric, variant, iter, plot_str: JSON.stringify(figure) };
}
