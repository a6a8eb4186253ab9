import { sql, type SqlBool, type Expression } from 'kysely';
import type { z } from 'zod';
import { apiError } from '../../api/errors.js';
import type { CallContext } from '../../api/context.js';
import type { ReadableEntity } from './entities.js';
import { eventsDb } from './store.js';

export interface MetricFilter {
  metric: string;
  variants?: readonly string[] | null;
}

/** `metrics: [{metric, variants}]` as a condition; undefined when the request names none. */
export function metricsCondition(metrics: readonly MetricFilter[] | null | undefined): Expression<SqlBool> | undefined {
  if (!metrics?.length) return undefined;
  const parts = metrics.map((m) =>
    m.variants?.length ? sql<SqlBool>`(metric = ${m.metric} and variant in (${sql.join(m.variants)}))` : sql<SqlBool>`metric = ${m.metric}`,
  );
  return sql<SqlBool>`(${sql.join(parts, sql` or `)})`;
}

/** The events of one task or model, optionally of one type. */
export function entityEvents(ctx: CallContext, entity: ReadableEntity, modelEvents: boolean, type?: string | null) {
  let query = eventsDb(ctx.db)
    .selectFrom('events')
    .where('company', '=', entity.eventsCompany)
    .where('task', '=', entity.id)
    .where('model_event', '=', modelEvents ? 1 : 0);
  if (type && type !== '*') query = query.where('type', '=', type);
  return query;
}

/** The events of several tasks or models (their events may sit under different companies). */
export function entitiesEvents(ctx: CallContext, entities: readonly ReadableEntity[], modelEvents: boolean, type?: string | null) {
  const byCompany = new Map<string, string[]>();
  for (const e of entities) byCompany.set(e.eventsCompany, [...(byCompany.get(e.eventsCompany) ?? []), e.id]);
  const scope = sql<SqlBool>`(${sql.join(
    [...byCompany].map(([company, ids]) => sql`(company = ${company} and task in (${sql.join(ids)}))`),
    sql` or `,
  )})`;
  let query = eventsDb(ctx.db).selectFrom('events').where(scope).where('model_event', '=', modelEvents ? 1 : 0);
  if (type && type !== '*') query = query.where('type', '=', type);
  return query;
}

/**
 * Scroll ids carry their whole state (base64url JSON behind a kind prefix), so paging needs no
 * server memory and survives restarts. Every read re-checks the entity and its company, so a forged
 * scroll id can only move within data the caller may read anyway.
 */
export function encodeScroll(kind: string, state: unknown): string {
  return `${kind}.${Buffer.from(JSON.stringify(state), 'utf8').toString('base64url')}`;
}

export function decodeScroll<T>(kind: string, scrollId: string, schema: z.ZodType<T>): T {
  const [prefix, body] = scrollId.split('.', 2);
  if (prefix === kind && body) {
    try {
      const parsed = schema.safeParse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
      if (parsed.success) return parsed.data;
    } catch {
      // fall through to the error below
    }
  }
  throw apiError('invalid_scroll_id', undefined, { scroll_id: scrollId });
}
