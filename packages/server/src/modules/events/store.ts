import { createHash } from 'node:crypto';
import { deflateSync, inflateSync } from 'node:zlib';
import type { ColumnType, Generated } from 'kysely';
import { PLOT_COMPRESSION_THRESHOLD, type StoredEvent } from '@cairn/protocol';
import type { Db } from '../../db/database.js';
import { fromJson, isPlainObject } from '../../util/json.js';
import { isoDate } from '../../util/time.js';

/** The `events` table (migration 0002). */
export interface EventsTable {
  seq: Generated<number>;
  company: string;
  id: string;
  type: string;
  task: string;
  model_event: number;
  iter: number | null;
  metric: string;
  variant: string;
  value: number | null;
  timestamp: number;
  written: number;
  worker: string | null;
  plot_str: string | null;
  plot_data: Buffer | null;
  /** JSON: text on SQLite, jsonb on PostgreSQL. */
  doc: ColumnType<unknown, string | null, string | null>;
}

/** A row as written: every column but the generated sequence, the JSON document as text. */
export type EventRow = Omit<EventsTable, 'seq' | 'doc'> & { doc: string | null };

/** The query builder with the events table known to its types. */
export function eventsDb(db: Db) {
  return db.kysely.withTables<{ events: EventsTable }>();
}
export type EventsDb = ReturnType<typeof eventsDb>;

/** Rows per INSERT statement: keeps the bound parameters far below SQLite's and PostgreSQL's limits. */
export const INSERT_CHUNK_ROWS = 1000;
/** Ids per `IN (...)` list, for the same reason. */
export const ID_CHUNK = 500;

export function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

/** zlib at level 1, as ClearML compresses plot strings: fast, and plots compress well anyway. */
export function compressPlot(plot: string): Buffer | null {
  return plot.length >= PLOT_COMPRESSION_THRESHOLD ? deflateSync(Buffer.from(plot, 'utf8'), { level: 1 }) : null;
}

/** The stored row as ClearML's event document, plot strings expanded. */
export function rowToEvent(row: Pick<EventRow, 'type' | 'task' | 'iter' | 'metric' | 'variant' | 'value' | 'timestamp' | 'written' | 'worker' | 'model_event' | 'plot_str' | 'plot_data'> & { doc: unknown }): StoredEvent {
  const doc = fromJson<Record<string, unknown>>(row.doc, {});
  const event: StoredEvent = {
    ...(isPlainObject(doc) ? doc : {}),
    timestamp: Number(row.timestamp),
    type: row.type,
    task: row.task,
    metric: row.metric,
    variant: row.variant,
    worker: row.worker,
    model_event: row.model_event === 1,
    '@timestamp': isoDate(Number(row.written)),
  };
  if (row.iter !== null && row.iter !== undefined) event.iter = Number(row.iter);
  if (row.value !== null && row.value !== undefined) event.value = Number(row.value);
  if (row.plot_data) event.plot_str = inflateSync(row.plot_data).toString('utf8');
  else if (row.plot_str !== null && row.plot_str !== undefined) event.plot_str = row.plot_str;
  return event;
}

/** The columns `rowToEvent` needs. */
export const EVENT_COLUMNS = ['type', 'task', 'iter', 'metric', 'variant', 'value', 'timestamp', 'written', 'worker', 'model_event', 'plot_str', 'plot_data', 'doc'] as const;

export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
