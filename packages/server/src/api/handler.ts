import type { Operation, ParsedRequestOf } from '@cairn/protocol';
import type { z } from 'zod';
import type { CallContext } from './context.js';

/** One endpoint's implementation, bound to its wire definition. */
export interface Handler<O extends Operation = Operation> {
  readonly operation: O;
  /** The handler serves requests at this version and above (defaults to the operation's). */
  readonly minVersion: string;
  handle(ctx: CallContext, request: ParsedRequestOf<O>): Promise<z.input<O['response']>>;
}

export function defineHandler<O extends Operation>(
  operation: O,
  handle: (ctx: CallContext, request: ParsedRequestOf<O>) => Promise<z.input<O['response']>>,
  options: { minVersion?: string } = {},
): Handler<O> {
  return { operation, minVersion: options.minVersion ?? operation.minVersion, handle };
}
