import type { z } from 'zod';

export type AuthMode = 'none' | 'optional' | 'required';

/** One API endpoint: its name, the first version it exists in, and its request and response types. */
export interface Operation<Req extends z.ZodType = z.ZodType, Res extends z.ZodType = z.ZodType> {
  readonly endpoint: string;
  readonly minVersion: string;
  readonly summary: string;
  readonly auth: AuthMode;
  /** The body is `application/json-lines`: one request object per line. */
  readonly batch: boolean;
  readonly request: Req;
  readonly response: Res;
}

export function op<Req extends z.ZodType, Res extends z.ZodType>(def: {
  endpoint: string;
  summary: string;
  request: Req;
  response: Res;
  minVersion?: string;
  auth?: AuthMode;
  batch?: boolean;
}): Operation<Req, Res> {
  return { minVersion: '1.0', auth: 'required', batch: false, ...def };
}

export type RequestOf<O extends Operation> = z.input<O['request']>;
export type ParsedRequestOf<O extends Operation> = z.output<O['request']>;
export type ResponseOf<O extends Operation> = z.output<O['response']>;
