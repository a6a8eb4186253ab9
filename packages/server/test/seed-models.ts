/**
 * Writes many models straight into the database, for tests and benchmarks of listing at scale (the API would
 * take minutes for 100,000). Columns not given get what `models.create` would store.
 */
import type { Db } from '../src/db/database.js';

/** Rows per INSERT: far below both databases' bound-parameter limits. */
const INSERT_BATCH = 250;

export interface ModelSeed {
  id: string;
  name: string;
  created: string;
  lastUpdate: string;
  tags: string[];
  archived: boolean;
  user?: string | null;
  project?: string | null;
  comment?: string | null;
  framework?: string | null;
  uri?: string;
}

/** Inserts `models` for `company` in one transaction. */
export async function insertModels(db: Db, company: string, models: readonly ModelSeed[]): Promise<void> {
  await db.transaction(async (trx) => {
    for (let i = 0; i < models.length; i += INSERT_BATCH) {
      await trx.kysely
        .insertInto('models')
        .values(
          models.slice(i, i + INSERT_BATCH).map((m) => ({
            id: m.id,
            company,
            user: m.user ?? null,
            name: m.name,
            created: m.created,
            last_update: m.lastUpdate,
            last_change: m.lastUpdate,
            last_changed_by: m.user ?? null,
            task: null,
            parent: null,
            project: m.project ?? null,
            comment: m.comment ?? null,
            tags: JSON.stringify(m.tags),
            system_tags: JSON.stringify(m.archived ? ['archived'] : []),
            framework: m.framework ?? null,
            design: '{}',
            labels: '{}',
            uri: m.uri ?? '',
            ready: 0,
            ui_cache: null,
            metadata: '{}',
            last_iteration: 0,
            last_metrics: null,
            unique_metrics: null,
            company_origin: null,
            weights_sha256: null,
            weights_size: null,
          })),
        )
        .execute();
    }
  });
}
