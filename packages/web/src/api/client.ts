import type { Meta, Operation, RequestOf, ResponseOf } from '@cairn/protocol';

/** The web app always asks for the newest API, as ClearML's web app does. */
const API_PREFIX = '/api/v999.0';

/** A refused API call: the envelope's result code, subcode and message. */
export class ApiError extends Error {
  constructor(
    readonly endpoint: string,
    readonly code: number,
    readonly subcode: number,
    message: string,
    readonly data: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();

/** Called when the server answers 401: the session is gone (logged out or expired). */
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

/**
 * One API call: POST with a JSON body to `/api/v999.0/<service>.<action>`. The session cookie is
 * sent by the browser; the JSON content type is what lets the server accept a cookie session.
 */
export async function call<O extends Operation>(
  op: O,
  body: RequestOf<O>,
  options: { signal?: AbortSignal; headers?: Record<string, string>; quiet401?: boolean } = {},
): Promise<ResponseOf<O>> {
  const data = await callEndpoint(op.endpoint, body, options);
  return data as ResponseOf<O>;
}

export async function callEndpoint(
  endpoint: string,
  body: unknown,
  options: { signal?: AbortSignal; headers?: Record<string, string>; quiet401?: boolean } = {},
): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(`${API_PREFIX}/${endpoint}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...options.headers },
      body: JSON.stringify(body ?? {}),
      credentials: 'same-origin',
      signal: options.signal,
    });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(endpoint, 0, 0, `The server could not be reached (${(err as Error).message})`);
  }
  let envelope: { meta?: Meta; data?: unknown };
  try {
    envelope = (await res.json()) as { meta?: Meta; data?: unknown };
  } catch {
    throw new ApiError(endpoint, res.status, 0, `Unexpected answer from the server (HTTP ${res.status})`);
  }
  const meta = envelope.meta;
  if (!res.ok || !meta || meta.result_code !== 200) {
    const code = meta?.result_code ?? res.status;
    if (code === 401 && !options.quiet401) for (const listener of unauthorizedListeners) listener();
    throw new ApiError(endpoint, code, meta?.result_subcode ?? 0, meta?.result_msg ?? `HTTP ${res.status}`, meta?.error_data ?? {});
  }
  return envelope.data;
}

/** Human text for any error thrown by a call. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.code ? `${err.message} (${err.code}/${err.subcode})` : err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

/** A per-item failure of a `*_many` call. */
export interface BatchFailure {
  id: string;
  error: { codes: [number, number]; msg: string };
}

/** Text for the failed items of a `*_many` call, or undefined when all succeeded. */
export function batchFailureText(failed: BatchFailure[] | undefined, verb: string): string | undefined {
  if (!failed?.length) return undefined;
  const first = failed[0]!;
  const more = failed.length > 1 ? ` (and ${failed.length - 1} more)` : '';
  return `Could not ${verb} ${first.id}: ${first.error.msg}${more}`;
}
