import type { Kysely, Migration } from 'kysely';
import * as core from './0001_core.js';
import * as events from './0002_events.js';
import * as modelListIndexes from './0003_model_list_indexes.js';
import * as queuesWorkers from './0004_queues_workers.js';
import * as taskReport from './0005_task_report.js';

export interface MigrationContext {
  dialect: 'sqlite' | 'postgres';
  /** The JSON column type: `jsonb` on PostgreSQL, `text` on SQLite. */
  json: 'jsonb' | 'text';
  bigint: 'bigint' | 'integer';
}

type MigrationModule = { up(db: Kysely<unknown>, ctx: MigrationContext): Promise<void> };

/**
 * Every migration, in order. A migration is never edited once it has landed; a change is a new file.
 * Names sort in the order they run.
 */
const MODULES: Record<string, MigrationModule> = {
  '0001_core': core,
  '0002_events': events,
  '0003_model_list_indexes': modelListIndexes,
  '0004_queues_workers': queuesWorkers,
  '0005_task_report': taskReport,
};

export function migrations(ctx: MigrationContext): Record<string, Migration> {
  return Object.fromEntries(Object.entries(MODULES).map(([name, m]) => [name, { up: (db: Kysely<unknown>) => m.up(db, ctx) }]));
}
