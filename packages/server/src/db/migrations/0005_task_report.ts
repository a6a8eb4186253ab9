import type { Kysely } from 'kysely';
import type { MigrationContext } from './index.js';

/** A task's `report` (ClearML's markdown report of a run): a pattern filter field of tasks.get_all (§4.1). */
export async function up(db: Kysely<unknown>, _ctx: MigrationContext): Promise<void> {
  await db.schema.alterTable('tasks').addColumn('report', 'text').execute();
}
