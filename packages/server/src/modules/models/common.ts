import { sql } from 'kysely';
import type { Selectable } from 'kysely';
import type { CallContext } from '../../api/context.js';
import { apiError } from '../../api/errors.js';
import type { Db } from '../../db/database.js';
import type { ModelsTable } from '../../db/schema.js';
import { escapeKey, unescapeKeys } from '../../util/keys.js';
import { isPlainObject } from '../../util/json.js';
import type { Doc } from '../../query/index.js';

export type ModelRow = Selectable<ModelsTable>;

/** ClearML's document validation: names shorter than this are refused (400/800). */
export const MIN_NAME_LENGTH = 3;
/** Prefix ClearML writes in place of a deleted model's id in task model lists. */
export const DELETED_PREFIX = '__DELETED__';
/** Tags starting with this are operators in list filters, so they can never be stored. */
const OPERATOR_PREFIX = '__$';
/** The system tag that marks an archived model. */
export const ARCHIVED_TAG = 'archived';

/**
 * A model of the caller's company for writing: unknown (or another company's) id → 400/201, a public
 * model → 403/21.
 */
export async function loadWritableModel(ctx: CallContext, id: string, db: Db = ctx.db): Promise<ModelRow> {
  const row = await db.kysely.selectFrom('models').selectAll().where('id', '=', id).where('company', 'in', [ctx.company, '']).executeTakeFirst();
  if (!row) throw apiError('invalid_model_id', undefined, { company: ctx.company, id });
  if (row.company !== ctx.company) throw apiError('no_write_permission', `cannot modify public model(s), ids=(${id},)`);
  return row;
}

/** Stripped name of at least three characters. */
export function validateName(name: string): string {
  const stripped = name.trim();
  if (stripped.length < MIN_NAME_LENGTH) {
    throw apiError('data_validation_error', `name is shorter than ${MIN_NAME_LENGTH} characters`, { field: 'name', value: name });
  }
  return stripped;
}

/** Sorted, without duplicates; `__$` values are refused (400/16). */
export function conformTags(field: string, tags: readonly string[]): string[] {
  const bad = tags.find((t) => t.startsWith(OPERATOR_PREFIX));
  if (bad !== undefined) throw apiError('fields_value_error', `tags may not start with ${OPERATOR_PREFIX}`, { field, value: bad });
  return [...new Set(tags)].sort();
}

/** `labels` ids must be unique where set (400/800). */
export function validateLabels(labels: Record<string, number | null>): Record<string, number | null> {
  const seen = new Map<number, string>();
  for (const [name, id] of Object.entries(labels)) {
    if (id === null) continue;
    const other = seen.get(id);
    if (other !== undefined) throw apiError('data_validation_error', 'label ids must be unique', { labels: [other, name], id });
    seen.set(id, name);
  }
  return labels;
}

export interface MetadataItem {
  key: string;
  type: string;
  value: string;
}

type MetadataInput = Record<string, { key?: string | null; type?: string | null; value?: string | null }> | { key: string; type?: string | null; value?: string | null }[];

/** Metadata as stored: escaped key → `{key, type, value}` (clearml-api.md §7 items 6 and 7). Empty keys → 400/12. */
export function storedMetadata(input: MetadataInput): Record<string, MetadataItem> {
  const entries = Array.isArray(input) ? input.map((item) => [item.key, item] as const) : Object.entries(input);
  const out: Record<string, MetadataItem> = {};
  for (const [key, item] of entries) {
    if (!key) throw apiError('validation_error', 'metadata keys may not be empty');
    out[escapeKey(key)] = { key, type: item.type ?? '', value: item.value ?? '' };
  }
  return out;
}

/**
 * The wire form of a projected model: metadata keys unescaped, and `metadata: []` for callers of API 2.16
 * and below (they knew no metadata).
 */
export function presentModel(ctx: Pick<CallContext, 'versionAtLeast'>): (doc: Doc) => Doc {
  return (doc) => {
    if ('metadata' in doc) doc.metadata = ctx.versionAtLeast('2.17') ? (isPlainObject(doc.metadata) ? unescapeKeys(doc.metadata) : {}) : [];
    return doc;
  };
}

/** Raises `last_iteration` of a task to at least `iteration`. */
export async function raiseTaskIteration(db: Db, taskId: string, company: string, iteration: number): Promise<void> {
  await db.kysely
    .updateTable('tasks')
    .set({ last_iteration: db.dialect === 'postgres' ? sql`greatest(last_iteration, ${iteration})` : sql`max(last_iteration, ${iteration})` })
    .where('id', '=', taskId)
    .where('company', '=', company)
    .execute();
}

/** Project ids that exist for the caller (own or public); anything else is 400/12 "Invalid project ids". */
export async function validateProject(ctx: CallContext, project: string, db: Db = ctx.db): Promise<void> {
  const row = await db.kysely.selectFrom('projects').select('id').where('id', '=', project).where('company', 'in', [ctx.company, '']).executeTakeFirst();
  if (!row) throw apiError('validation_error', 'Invalid project ids', { ids: [project] });
}
