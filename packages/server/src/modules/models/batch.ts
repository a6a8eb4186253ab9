import { toApiError } from '../../api/transport.js';

export interface BatchFailure {
  id: string;
  error: { codes: [number, number]; msg: string; data: Record<string, unknown> };
}

/**
 * Runs `fn` for each id in turn; failures are reported per id inside the 200 answer (clearml-api.md §1.8),
 * never as the call's error.
 */
export async function runBatch<T extends Record<string, unknown>>(ids: readonly string[], fn: (id: string) => Promise<T>) {
  const succeeded: (T & { id: string })[] = [];
  const failed: BatchFailure[] = [];
  for (const id of ids) {
    try {
      succeeded.push({ ...(await fn(id)), id });
    } catch (err) {
      const e = toApiError(err);
      failed.push({ id, error: { codes: [e.code, e.subcode], msg: e.message, data: e.data } });
    }
  }
  return { succeeded, failed };
}
