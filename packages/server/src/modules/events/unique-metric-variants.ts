import { sql } from 'kysely';
import { projectMetrics } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';

/**
 * `projects.get_unique_metric_variants`: the distinct metric/variant pairs in the `last_metrics` of
 * a project's tasks (or models, with `model_metrics`), with their md5 hashes (the keys the web app
 * uses for metric columns). Sub-projects count unless `include_subprojects` is false; `ids`
 * restricts to those entities. The JSON maps are unrolled in SQL.
 */
export const getUniqueMetricVariants = defineHandler(projectMetrics.get_unique_metric_variants, async (ctx, req) => {
  const table = sql.table(req.model_metrics ? 'models' : 'tasks');
  const companies = sql`t.company in (${ctx.company}, '')`;
  const conditions = [companies];
  if (req.project) {
    conditions.push(
      req.include_subprojects ?? true
        ? sql`t.project in (
            with recursive scope(id) as (
              select id from projects where id = ${req.project} and company in (${ctx.company}, '')
              union all
              select p.id from projects p join scope s on p.parent = s.id
            ) select id from scope)`
        : sql`t.project = ${req.project}`,
    );
  }
  if (req.ids?.length) conditions.push(sql`t.id in (${sql.join(req.ids)})`);
  const where = sql.join(conditions, sql` and `);
  const pairs =
    ctx.db.dialect === 'postgres'
      ? sql`select m.key as metric_hash, v.key as variant_hash, v.value->>'metric' as metric, v.value->>'variant' as variant
            from ${table} t, jsonb_each(t.last_metrics) m, jsonb_each(m.value) v where ${where}`
      : sql`select m.key as metric_hash, v.key as variant_hash, json_extract(v.value, '$.metric') as metric, json_extract(v.value, '$.variant') as variant
            from ${table} t, json_each(t.last_metrics) m, json_each(m.value) v where ${where}`;
  const result = await sql<{ metric: string; variant: string; metric_hash: string; variant_hash: string }>`
    select metric, variant, min(metric_hash) as metric_hash, min(variant_hash) as variant_hash
    from (${pairs}) x
    where metric is not null and variant is not null
    group by metric, variant
    order by metric, variant`.execute(ctx.db.kysely);
  return { metrics: result.rows.map((r) => ({ metric: r.metric, metric_hash: r.metric_hash, variant: r.variant, variant_hash: r.variant_hash })) };
});
