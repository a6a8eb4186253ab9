import { z } from 'zod';

/** 32 lower-case hex characters: a uuid4 without dashes, as ClearML ids are. */
export const Id = z.string().min(1);
/** ISO-8601 with a UTC offset, e.g. `2025-01-01T10:00:00.123000+00:00`. */
export const DateTime = z.string();
export const StringList = z.array(z.string());
export const StringMap = z.record(z.string(), z.string());
export const AnyObject = z.record(z.string(), z.unknown());

/** `{updated: 0|1, fields: {changed field → new value}}` */
export const UpdateResponse = z.object({
  updated: z.number().int(),
  fields: AnyObject.optional(),
});
export type UpdateResponse = z.infer<typeof UpdateResponse>;

export const BatchRequest = z.object({ ids: z.array(Id).min(1) });

export const BatchFailure = z.object({
  id: z.string(),
  error: z.object({ codes: z.tuple([z.number(), z.number()]), msg: z.string(), data: AnyObject.optional() }),
});
export function batchResponse<T extends z.ZodRawShape>(succeeded: T) {
  return z.object({
    succeeded: z.array(z.object({ id: z.string(), ...succeeded })),
    failed: z.array(BatchFailure),
  });
}

/**
 * The get_all family (clearml-api.md §4). Field filters are arbitrary keys of the body
 * (`metadata.acc.value`, `last_metrics.<h>.<h>.value`, ...), so these requests keep unknown keys.
 */
export const ListQuery = z.looseObject({
  id: z.union([z.string(), z.array(z.string())]).nullish(),
  only_fields: z.array(z.string()).nullish(),
  projection: z.array(z.string()).nullish(),
  order_by: z.union([z.string(), z.array(z.string())]).nullish(),
  page: z.number().int().nullish(),
  page_size: z.number().int().nullish(),
  scroll_id: z.string().nullish(),
  refresh_scroll: z.boolean().nullish(),
  size: z.number().int().nullish(),
  search_text: z.string().nullish(),
  _any_: z.object({ pattern: z.string().nullish(), datetime: z.string().nullish(), fields: z.array(z.string()) }).nullish(),
  _all_: z.object({ pattern: z.string().nullish(), datetime: z.string().nullish(), fields: z.array(z.string()) }).nullish(),
  filters: z.record(z.string(), z.unknown()).nullish(),
});
export type ListQuery = z.infer<typeof ListQuery>;

/** The scroll id returned by list calls in scroll mode. */
export const ScrollResult = { scroll_id: z.string().optional() };
