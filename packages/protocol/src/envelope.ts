import { z } from 'zod';

export const Meta = z.object({
  id: z.string(),
  trx: z.string(),
  endpoint: z.object({
    name: z.string(),
    requested_version: z.union([z.string(), z.number()]),
    actual_version: z.union([z.string(), z.number()]),
  }),
  result_code: z.number().int(),
  result_subcode: z.number().int(),
  result_msg: z.string(),
  error_stack: z.string().nullable(),
  error_data: z.record(z.string(), z.unknown()),
});
export type Meta = z.infer<typeof Meta>;

/** Every API answer: `{meta, data}`, with HTTP status = `meta.result_code`. */
export const Envelope = z.object({ meta: Meta, data: z.unknown() });
export type Envelope<T = unknown> = { meta: Meta; data: T };

/** The highest API version Cairn serves; the SDK reads it from the login token. */
export const MAX_API_VERSION = '2.31';
/** The clearml-server release whose API Cairn speaks; the Python SDK reads it from the token. */
export const COMPATIBLE_SERVER_VERSION = '1.17.0';
/** Cookie that doubles as the Bearer token (clearml-api.md §1.6). */
export const AUTH_COOKIE = 'clearml_token_basic';
