import type { Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/** Companies, users, credentials, projects, tasks and models, with the indexes the list queries use. */
export async function up(db: Kysely<unknown>, { json, bigint }: MigrationContext): Promise<void> {
  await db.schema
    .createTable('companies')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('company', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('given_name', 'text')
    .addColumn('family_name', 'text')
    .addColumn('avatar', 'text')
    .addColumn('email', 'text')
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('created', 'text', (c) => c.notNull())
    .addColumn('preferences', json)
    .addColumn('password_hash', 'text')
    .execute();
  await db.schema.createIndex('users_company_name').on('users').columns(['company', 'name']).execute();

  await db.schema
    .createTable('credentials')
    .addColumn('access_key', 'text', (c) => c.primaryKey())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('user', 'text', (c) => c.notNull())
    .addColumn('company', 'text', (c) => c.notNull())
    .addColumn('label', 'text')
    .addColumn('created', 'text', (c) => c.notNull())
    .addColumn('last_used', 'text')
    .addColumn('last_used_from', 'text')
    .execute();
  await db.schema.createIndex('credentials_user').on('credentials').column('user').execute();

  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('revoked_sessions')
    .addColumn('session_id', 'text', (c) => c.primaryKey())
    .addColumn('expires', bigint, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('scrolls')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('company', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('expires', bigint, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('projects')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('company', 'text', (c) => c.notNull())
    .addColumn('user', 'text')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('basename', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('tags', json)
    .addColumn('system_tags', json)
    .addColumn('default_output_destination', 'text')
    .addColumn('parent', 'text')
    .addColumn('path', json)
    .addColumn('featured', 'integer', (c) => c.notNull().defaultTo(9999))
    .addColumn('logo_url', 'text')
    .addColumn('created', 'text', (c) => c.notNull())
    .addColumn('last_update', 'text', (c) => c.notNull())
    .addColumn('company_origin', 'text')
    .execute();
  await db.schema.createIndex('projects_company_name').unique().on('projects').columns(['company', 'name']).execute();
  await db.schema.createIndex('projects_company_parent').on('projects').columns(['company', 'parent']).execute();

  await db.schema
    .createTable('tasks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('company', 'text', (c) => c.notNull())
    .addColumn('user', 'text')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('status_reason', 'text')
    .addColumn('status_message', 'text')
    .addColumn('status_changed', 'text')
    .addColumn('comment', 'text')
    .addColumn('created', 'text', (c) => c.notNull())
    .addColumn('started', 'text')
    .addColumn('completed', 'text')
    .addColumn('published', 'text')
    .addColumn('active_duration', 'real')
    .addColumn('last_update', 'text', (c) => c.notNull())
    .addColumn('last_change', 'text')
    .addColumn('last_changed_by', 'text')
    .addColumn('parent', 'text')
    .addColumn('project', 'text')
    .addColumn('tags', json)
    .addColumn('system_tags', json)
    .addColumn('models', json)
    .addColumn('execution', json)
    .addColumn('configuration', json)
    .addColumn('hyperparams', json)
    .addColumn('output', json)
    .addColumn('script', json)
    .addColumn('container', json)
    .addColumn('runtime', json)
    .addColumn('last_iteration', bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('last_metrics', json)
    .addColumn('metric_stats', json)
    .addColumn('last_worker', 'text')
    .addColumn('last_worker_report', 'text')
    .addColumn('enqueue_status', 'text')
    .addColumn('company_origin', 'text')
    .execute();
  for (const col of ['created', 'last_update', 'project', 'status', 'name', 'parent']) {
    await db.schema.createIndex(`tasks_company_${col}`).on('tasks').columns(['company', col]).execute();
  }

  await db.schema
    .createTable('models')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('company', 'text', (c) => c.notNull())
    .addColumn('user', 'text')
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created', 'text', (c) => c.notNull())
    .addColumn('last_update', 'text', (c) => c.notNull())
    .addColumn('last_change', 'text')
    .addColumn('last_changed_by', 'text')
    .addColumn('task', 'text')
    .addColumn('parent', 'text')
    .addColumn('project', 'text')
    .addColumn('comment', 'text')
    .addColumn('tags', json)
    .addColumn('system_tags', json)
    .addColumn('framework', 'text')
    .addColumn('design', json)
    .addColumn('labels', json)
    .addColumn('uri', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('ready', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('ui_cache', json)
    .addColumn('metadata', json)
    .addColumn('last_iteration', bigint, (c) => c.notNull().defaultTo(0))
    .addColumn('last_metrics', json)
    .addColumn('unique_metrics', json)
    .addColumn('company_origin', 'text')
    .addColumn('weights_sha256', 'text')
    .addColumn('weights_size', bigint)
    .execute();
  for (const col of ['created', 'last_update', 'project', 'name', 'task', 'uri', 'framework']) {
    await db.schema.createIndex(`models_company_${col}`).on('models').columns(['company', col]).execute();
  }
  await db.schema.createIndex('models_parent').on('models').column('parent').execute();
}
