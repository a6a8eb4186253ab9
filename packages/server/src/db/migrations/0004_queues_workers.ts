import type { Kysely } from 'kysely';
import { DEFAULT_QUEUE_TAG } from '@cairn/protocol';
import type { MigrationContext } from './index.js';
import { DEFAULT_COMPANY_ID } from '../../modules/auth/bootstrap.js';
import { newId } from '../../util/ids.js';
import { isoDate } from '../../util/time.js';

/**
 * Queues, their entries and workers (clearml-api.md §2.6), and the default company's `default` queue.
 *
 * - `queue_entries` holds one row per waiting task; `seq` gives the FIFO order. Popping deletes the first row
 *   in one statement (with `for update skip locked` on PostgreSQL), so agents polling together never get the
 *   same entry.
 * - `workers` is keyed by company, user and worker name, as ClearML keys them; `expires` (epoch ms) is when
 *   the registration lapses without a new report.
 */
/** The name of the queue every company starts with (ClearML's). */
const DEFAULT_QUEUE_NAME = 'default';

export async function up(db: Kysely<unknown>, { dialect, json, bigint }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('queues')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('company', 'text', (c) => c.notNull())
    .addColumn('user', 'text')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text')
    .addColumn('created', 'text', (c) => c.notNull())
    .addColumn('last_update', 'text', (c) => c.notNull())
    .addColumn('tags', json)
    .addColumn('system_tags', json)
    .addColumn('metadata', json)
    .execute();
  await db.schema.createIndex('queues_company_name').unique().on('queues').columns(['company', 'name']).execute();

  let entries = db.schema.createTable('queue_entries');
  entries =
    dialect === 'postgres'
      ? entries.addColumn('seq', 'bigserial', (c) => c.primaryKey())
      : entries.addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement());
  await entries
    .addColumn('company', 'text', (c) => c.notNull())
    .addColumn('queue', 'text', (c) => c.notNull())
    .addColumn('task', 'text', (c) => c.notNull())
    .addColumn('added', 'text', (c) => c.notNull())
    .execute();
  // A task waits at most once per queue; the pop reads the first row of a queue in `seq` order.
  await db.schema.createIndex('queue_entries_queue_task').unique().on('queue_entries').columns(['queue', 'task']).execute();
  await db.schema.createIndex('queue_entries_queue_seq').on('queue_entries').columns(['queue', 'seq']).execute();
  await db.schema.createIndex('queue_entries_task').on('queue_entries').columns(['company', 'task']).execute();

  await db.schema
    .createTable('workers')
    .addColumn('company', 'text', (c) => c.notNull())
    .addColumn('user', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('ip', 'text')
    .addColumn('queues', json)
    .addColumn('queue', 'text')
    .addColumn('task', 'text')
    .addColumn('project', 'text')
    .addColumn('tags', json)
    .addColumn('system_tags', json)
    .addColumn('register_time', 'text', (c) => c.notNull())
    .addColumn('register_timeout', 'integer', (c) => c.notNull())
    .addColumn('last_activity_time', 'text', (c) => c.notNull())
    .addColumn('last_report_time', 'text')
    .addColumn('expires', bigint, (c) => c.notNull())
    .addPrimaryKeyConstraint('workers_pk', ['company', 'user', 'id'])
    .execute();
  await db.schema.createIndex('workers_company_expires').on('workers').columns(['company', 'expires']).execute();

  const now = isoDate(Date.now());
  await (db as Kysely<{ queues: Record<string, unknown> }>)
    .insertInto('queues')
    .values({
      id: newId(),
      company: DEFAULT_COMPANY_ID,
      user: null,
      name: DEFAULT_QUEUE_NAME,
      display_name: null,
      created: now,
      last_update: now,
      tags: JSON.stringify([]),
      system_tags: JSON.stringify([DEFAULT_QUEUE_TAG]),
      metadata: JSON.stringify({}),
    })
    .execute();
}
