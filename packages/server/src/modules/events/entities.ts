import type { CallContext } from '../../api/context.js';
import { apiError } from '../../api/errors.js';
import { ID_CHUNK, chunks } from './store.js';

/** A task or model whose events are read. */
export interface ReadableEntity {
  id: string;
  name: string;
  /** The company its events are stored under: a public entity keeps its origin's. */
  eventsCompany: string;
  status: string | undefined;
}

/**
 * Finds the tasks (or models, with `modelEvents`) a read names: the caller's own and public ones.
 * Unknown ids are 400/101 for tasks and 400/201 for models, as in ClearML.
 */
export async function readableEntities(ctx: CallContext, ids: readonly string[], modelEvents: boolean): Promise<ReadableEntity[]> {
  const unique = [...new Set(ids)];
  const found = new Map<string, ReadableEntity>();
  for (const part of chunks(unique, ID_CHUNK)) {
    const rows: { id: string; name: string; company: string; company_origin: string | null; status?: string }[] = modelEvents
      ? await ctx.db.kysely
          .selectFrom('models')
          .select(['id', 'name', 'company', 'company_origin'])
          .where('id', 'in', part)
          .where('company', 'in', [ctx.company, ''])
          .execute()
      : await ctx.db.kysely
          .selectFrom('tasks')
          .select(['id', 'name', 'company', 'company_origin', 'status'])
          .where('id', 'in', part)
          .where('company', 'in', [ctx.company, ''])
          .execute();
    for (const row of rows) {
      // The caller's own entity wins over a public one with the same id.
      if (found.has(row.id) && row.company === '') continue;
      found.set(row.id, {
        id: row.id,
        name: row.name,
        eventsCompany: row.company || row.company_origin || '',
        status: row.status,
      });
    }
  }
  const missing = unique.filter((id) => !found.has(id));
  if (missing.length) {
    const data = missing.length === 1 ? { company: ctx.company, id: missing[0] } : { company: ctx.company, ids: missing };
    throw apiError(modelEvents ? 'invalid_model_id' : 'invalid_task_id', undefined, data);
  }
  return unique.map((id) => found.get(id)!);
}

export async function readableEntity(ctx: CallContext, id: string, modelEvents: boolean): Promise<ReadableEntity> {
  return (await readableEntities(ctx, [id], modelEvents))[0]!;
}
