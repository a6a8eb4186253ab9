import type { Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/**
 * Events of tasks and models: scalars, vectors, plots, debug images and log lines.
 *
 * One row per event. `id` is ClearML's document id (md5 of entity, iter, metric, variant[, key];
 * random for log lines) and is unique per company and type, so re-sending an event overwrites it.
 * `seq` orders rows for paging. Plot strings of 100,000 characters and more are kept zlib-compressed
 * in `plot_data` instead of `plot_str`. Fields without a column of their own stay in `doc`.
 */
export async function up(db: Kysely<unknown>, { dialect, json, bigint }: MigrationContext): Promise<void> {
  let table = db.schema.createTable('events');
  table =
    dialect === 'postgres'
      ? table.addColumn('seq', 'bigserial', (c) => c.primaryKey())
      : table.addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement());
  await table
    .addColumn('company', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('task', 'text', (c) => c.notNull())
    .addColumn('model_event', 'integer', (c) => c.notNull())
    .addColumn('iter', bigint)
    .addColumn('metric', 'text', (c) => c.notNull())
    .addColumn('variant', 'text', (c) => c.notNull())
    .addColumn('value', dialect === 'postgres' ? 'double precision' : 'real')
    .addColumn('timestamp', bigint, (c) => c.notNull())
    .addColumn('written', bigint, (c) => c.notNull())
    .addColumn('worker', 'text')
    .addColumn('plot_str', 'text')
    .addColumn('plot_data', dialect === 'postgres' ? 'bytea' : 'blob')
    .addColumn('doc', json)
    .execute();

  // The overwrite rule: one event per (company, type, document id).
  await db.schema.createIndex('events_company_type_id').unique().on('events').columns(['company', 'type', 'id']).execute();
  // Every read is per entity and type, grouped by metric/variant and ordered by iteration; `value`
  // last makes the scalar histograms an index-only scan on SQLite.
  await db.schema
    .createIndex('events_entity_metric_iter')
    .on('events')
    .columns(['company', 'task', 'model_event', 'type', 'metric', 'variant', 'iter', 'value'])
    .execute();
  // Log lines and time-keyed reads are ordered by timestamp.
  await db.schema.createIndex('events_entity_time').on('events').columns(['company', 'task', 'model_event', 'type', 'timestamp']).execute();
}
