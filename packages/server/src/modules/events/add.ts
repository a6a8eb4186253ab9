import { randomUUID } from 'node:crypto';
import { EVENT_TYPES, EventInput, events } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import type { CallContext } from '../../api/context.js';
import { apiError } from '../../api/errors.js';
import type { Db } from '../../db/database.js';
import { fromJson, toJson } from '../../util/json.js';
import { isoDate } from '../../util/time.js';
import { EntitySummary, mergeLastMetrics, mergeMetricStats } from './summary.js';
import { ID_CHUNK, INSERT_CHUNK_ROWS, chunks, compressPlot, eventsDb, md5, type EventRow } from './store.js';

const KNOWN_TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);
/** Task statuses whose events are locked (clearml-api.md §7 item 14). */
const LOCKED_TASK_STATUSES = ['published', 'publishing'];
/** Iterations are exact only up to 2^53 in JSON numbers as JavaScript reads them. */
const MAX_ITERATION = Number.MAX_SAFE_INTEGER;
/**
 * Longest metric or variant name, in UTF-8 bytes. Both sit in one index entry, which PostgreSQL
 * limits to about 2.7 kB.
 */
const MAX_NAME_BYTES = 1000;
/** Image URLs inside plots (ClearML's `source_urls`), so deleting an entity can find them. */
const IMAGE_SOURCE_RE = /['"]source['"]:\s?['"]([a-z][a-z0-9+\-.]*:\/\/.*?)['"]/gi;
/** Fields that have a column of their own or are not stored. */
const NOT_IN_DOC = new Set(['type', 'task', 'model', 'iter', 'metric', 'variant', 'timestamp', 'ts', 'worker', 'model_event', 'allow_locked', 'x_axis_label', 'skip_validation', 'plot_str', 'values', 'value']);

interface EntityRow {
  id: string;
  last_iteration: number;
  last_metrics: unknown;
  /** Tasks: metric_stats; models: unique_metrics (unused on read; rebuilt from last_metrics). */
  extra: unknown;
}

export interface AddResult {
  added: number;
  errors: number;
  errors_info: Record<string, number>;
}

/**
 * Stores events for tasks and models (clearml-api.md §2.5.2): checks each item and counts the bad
 * ones, writes the good ones and their summaries in one transaction, and refuses the call with
 * 400/131 when nothing could be added.
 */
export async function addEvents(ctx: CallContext, items: Record<string, unknown>[]): Promise<AddResult> {
  // Which ids are models and which are tasks, and whether each may write to a locked entity.
  const modelIds = new Map<string, boolean>();
  const taskIds = new Map<string, boolean>();
  for (const item of items) {
    const modelEvent = Boolean(item.model_event);
    if (modelEvent && item.model !== undefined && item.model !== null) {
      item.task = item.model;
      delete item.model;
    }
    if (typeof item.task !== 'string' || !item.task) continue;
    const ids = modelEvent ? modelIds : taskIds;
    const allowLocked = Boolean(item.allow_locked);
    const previous = ids.get(item.task);
    if (previous === undefined) ids.set(item.task, allowLocked);
    else if (previous !== allowLocked) throw apiError('validation_error', `Inconsistent allow_locked setting in the passed events for ${item.task}`);
  }
  const inBoth = [...taskIds.keys()].filter((id) => modelIds.has(id));
  if (inBoth.length) throw apiError('validation_error', 'Inconsistent model_event setting in the passed events', { tasks: inBoth });

  const now = ctx.services.clock.now();
  return ctx.db.transaction(async (db) => {
    const models = await writableEntities(db, ctx.company, modelIds, true);
    const tasks = await writableEntities(db, ctx.company, taskIds, false);

    const errors = new Map<string, number>();
    const fail = (message: string) => errors.set(message, (errors.get(message) ?? 0) + 1);
    const rows = new Map<string, EventRow>();
    const summaries = new Map<string, EntitySummary>();
    let added = 0;

    for (const item of items) {
      const xAxisLabel = typeof item.x_axis_label === 'string' ? item.x_axis_label : undefined;
      if (item.type === undefined || item.type === null) {
        fail("Event must have a 'type' field");
        continue;
      }
      const type = typeof item.type === 'string' ? item.type.replaceAll(' ', '_') : String(item.type);
      if (!KNOWN_TYPES.has(type)) {
        fail(`Invalid event type ${type}`);
        continue;
      }
      const modelEvent = Boolean(item.model_event);
      if (modelEvent && type === 'log') {
        fail('Task log events are not supported for models');
        continue;
      }
      if (item.task === undefined || item.task === null) {
        fail("Event must have a 'task' field");
        continue;
      }
      const entityId = String(item.task);
      if (!(modelEvent ? models : tasks).has(entityId)) {
        fail(`Invalid ${modelEvent ? 'model' : 'task'} id ${entityId}`);
        continue;
      }
      if ('ts' in item && !('timestamp' in item)) item.timestamp = item.ts;
      if ('values' in item) item.value = item.values;
      // Numeric names are kept as text (Python stringifies them in the document id too).
      for (const field of ['metric', 'variant'] as const) {
        if (typeof item[field] === 'number' || typeof item[field] === 'boolean') item[field] = String(item[field]);
      }
      const checked = EventInput.safeParse({ ...item, type });
      if (!checked.success) {
        const issue = checked.error.issues[0]!;
        fail(`Invalid event field ${issue.path.join('.') || 'event'}: ${issue.message.toLowerCase()}`);
        continue;
      }
      const event = checked.data;
      let iter: number | null = null;
      const hasIter = 'iter' in item;
      if (event.iter !== undefined && event.iter !== null) {
        iter = Math.trunc(event.iter);
        if (Math.abs(iter) > MAX_ITERATION) {
          fail(`Iteration number should not exceed ${MAX_ITERATION}`);
          continue;
        }
      }
      const metric = event.metric ?? '';
      const variant = event.variant ?? '';
      if (Buffer.byteLength(metric) > MAX_NAME_BYTES || Buffer.byteLength(variant) > MAX_NAME_BYTES) {
        fail(`Metric and variant names must not exceed ${MAX_NAME_BYTES} bytes`);
        continue;
      }
      if (type === 'training_stats_scalar' && Array.isArray(event.value)) {
        fail('Invalid event field value: a scalar event needs one number');
        continue;
      }
      const timestamp = event.timestamp !== undefined ? Math.floor(event.timestamp) : now;

      // ClearML's document id: the same entity, iter, metric, variant (and key) overwrite; logs never do.
      const idParts = [entityId];
      if (hasIter) idParts.push(iter === null ? 'None' : String(iter));
      idParts.push(metric, variant);
      if (event.key !== undefined) idParts.push(event.key);
      const id = type === 'log' ? randomUUID().replaceAll('-', '') : md5(idParts.join('-'));

      const doc: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(event)) if (!NOT_IN_DOC.has(k) && v !== undefined) doc[k] = v;
      if (Array.isArray(event.value)) doc.value = event.value;
      let plotStr: string | null = null;
      let plotData: Buffer | null = null;
      if (type === 'plot') {
        const plot = event.plot_str ?? '';
        doc.plot_len = plot.length;
        const urls = new Set([...plot.matchAll(IMAGE_SOURCE_RE)].map((m) => m[1]!));
        if (urls.size) doc.source_urls = [...urls];
        plotData = compressPlot(plot);
        plotStr = plotData ? null : plot;
      }

      rows.set(`${type}\u0000${id}`, {
        company: ctx.company,
        id,
        type,
        task: entityId,
        model_event: modelEvent ? 1 : 0,
        iter,
        metric,
        variant,
        value: typeof event.value === 'number' ? event.value : null,
        timestamp,
        written: now,
        worker: event.worker ?? ctx.worker ?? null,
        plot_str: plotStr,
        plot_data: plotData,
        doc: Object.keys(doc).length ? JSON.stringify(doc) : null,
      });
      added += 1;

      const summaryKey = `${modelEvent ? 'm' : 't'}:${entityId}`;
      let summary = summaries.get(summaryKey);
      if (!summary) summaries.set(summaryKey, (summary = new EntitySummary()));
      if (iter !== null) summary.addIteration(iter);
      if (!modelEvent) summary.addMetricEvent(metric, type, timestamp);
      if (type === 'training_stats_scalar' && typeof event.value === 'number') {
        summary.addScalar(metric, variant, event.value, iter ?? 0, timestamp, xAxisLabel);
      }
    }

    const errorsInfo = Object.fromEntries(errors);
    if (!added) throw apiError('events_not_added', undefined, errorsInfo);

    const edb = eventsDb(db);
    for (const part of chunks([...rows.values()], INSERT_CHUNK_ROWS)) {
      await edb
        .insertInto('events')
        .values(part)
        .onConflict((oc) =>
          oc.columns(['company', 'type', 'id']).doUpdateSet((eb) => ({
            task: eb.ref('excluded.task'),
            model_event: eb.ref('excluded.model_event'),
            iter: eb.ref('excluded.iter'),
            metric: eb.ref('excluded.metric'),
            variant: eb.ref('excluded.variant'),
            value: eb.ref('excluded.value'),
            timestamp: eb.ref('excluded.timestamp'),
            written: eb.ref('excluded.written'),
            worker: eb.ref('excluded.worker'),
            plot_str: eb.ref('excluded.plot_str'),
            plot_data: eb.ref('excluded.plot_data'),
            doc: eb.ref('excluded.doc'),
          })),
        )
        .execute();
    }

    const lastUpdate = isoDate(now);
    for (const [key, summary] of summaries) {
      const isModel = key.startsWith('m:');
      const id = key.slice(2);
      const entity = (isModel ? models : tasks).get(id)!;
      const { lastMetrics, unique } = mergeLastMetrics(fromJson(entity.last_metrics, {}), summary);
      const lastIteration = summary.iterMax === undefined ? entity.last_iteration : Math.max(entity.last_iteration, summary.iterMax);
      if (isModel) {
        await db.kysely
          .updateTable('models')
          .set({ last_update: lastUpdate, last_iteration: lastIteration, last_metrics: toJson(lastMetrics), unique_metrics: toJson(unique) })
          .where('id', '=', id)
          .where('company', '=', ctx.company)
          .execute();
      } else {
        await db.kysely
          .updateTable('tasks')
          .set({
            last_update: lastUpdate,
            last_iteration: lastIteration,
            last_metrics: toJson(lastMetrics),
            metric_stats: toJson(mergeMetricStats(fromJson(entity.extra, {}), summary)),
          })
          .where('id', '=', id)
          .where('company', '=', ctx.company)
          .execute();
      }
    }
    return { added, errors: [...errors.values()].reduce((a, b) => a + b, 0), errors_info: errorsInfo };
  });
}

/**
 * The entities events may be written to: the caller's own (public ones are read-only), and not
 * locked (published tasks, ready models) unless the events say `allow_locked`. On PostgreSQL the
 * rows are locked, in id order, until the transaction ends, so concurrent writers merge summaries
 * one after the other.
 */
async function writableEntities(db: Db, company: string, ids: Map<string, boolean>, models: boolean): Promise<Map<string, EntityRow>> {
  const out = new Map<string, EntityRow>();
  for (const part of chunks([...ids.keys()].sort(), ID_CHUNK)) {
    if (models) {
      let query = db.kysely
        .selectFrom('models')
        .select(['id', 'ready', 'last_iteration', 'last_metrics', 'unique_metrics'])
        .where('company', '=', company)
        .where('id', 'in', part)
        .orderBy('id');
      if (db.dialect === 'postgres') query = query.forUpdate();
      for (const row of await query.execute()) {
        if (row.ready && !ids.get(row.id)) continue;
        out.set(row.id, { id: row.id, last_iteration: Number(row.last_iteration), last_metrics: row.last_metrics, extra: row.unique_metrics });
      }
    } else {
      let query = db.kysely
        .selectFrom('tasks')
        .select(['id', 'status', 'last_iteration', 'last_metrics', 'metric_stats'])
        .where('company', '=', company)
        .where('id', 'in', part)
        .orderBy('id');
      if (db.dialect === 'postgres') query = query.forUpdate();
      for (const row of await query.execute()) {
        if (LOCKED_TASK_STATUSES.includes(row.status) && !ids.get(row.id)) continue;
        out.set(row.id, { id: row.id, last_iteration: Number(row.last_iteration), last_metrics: row.last_metrics, extra: row.metric_stats });
      }
    }
  }
  return out;
}

export const add = defineHandler(events.add, async (ctx, request) => addEvents(ctx, [{ ...request }]));

export const addBatch = defineHandler(events.add_batch, async (ctx, request) => {
  if (!request.length) throw apiError('batch_contains_no_items');
  return addEvents(ctx, request.map((item) => ({ ...item })));
});
