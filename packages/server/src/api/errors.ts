import { ERRORS, formatErrorMessage, type ErrorName } from '@cairn/protocol';

/** An error the client caused or must see: answered as ClearML's envelope with its code and subcode. */
export class ApiError extends Error {
  readonly code: number;
  readonly subcode: number;
  readonly data: Record<string, unknown>;

  constructor(readonly errorName: ErrorName, options: { extra?: string; data?: Record<string, unknown>; message?: string } = {}) {
    const [code, subcode, base] = ERRORS[errorName];
    super(options.message ?? formatErrorMessage(base, options.extra, options.data));
    this.code = code;
    this.subcode = subcode;
    this.data = options.data ?? {};
  }

  /** The same error with ClearML's exact message where it has no "base (extra)" shape. */
  withMessage(message: string): ApiError {
    return new ApiError(this.errorName, { data: this.data, message });
  }
}

export function apiError(name: ErrorName, extra?: string, data?: Record<string, unknown>): ApiError {
  return new ApiError(name, { extra, data });
}
