import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../../db/database.js';

/**
 * SQL for `system_tags` with one tag added or removed, computed by the database in the same
 * UPDATE so that concurrent tag changes are not lost. Tags are sorted again on read.
 */
export function systemTagsWith(db: Db, tag: string): RawBuilder<string> {
  return db.dialect === 'postgres'
    ? sql<string>`(select coalesce(jsonb_agg(t.v order by t.v), '[]'::jsonb) from (select jsonb_array_elements_text(coalesce(tasks.system_tags, '[]'::jsonb)) as v union select ${tag}::text) t)`
    : sql<string>`(select json_group_array(value) from (select value from json_each(coalesce(tasks.system_tags, '[]')) union select ${tag} order by 1))`;
}

export function systemTagsWithout(db: Db, tag: string): RawBuilder<string> {
  return db.dialect === 'postgres'
    ? sql<string>`(coalesce(tasks.system_tags, '[]'::jsonb) - ${tag}::text)`
    : sql<string>`(select json_group_array(value) from json_each(coalesce(tasks.system_tags, '[]')) where value <> ${tag})`;
}
