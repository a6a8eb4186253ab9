/**
 * Deleting a model's weights when they live in an object store (`models.delete` with
 * `delete_external_artifacts`), with the server's own credentials from the environment (see
 * object-store.ts). What those credentials may delete bounds what this can delete.
 */
import type { Services } from '../services.js';
import type { ObjectBackend } from './object-store.js';

/** URIs object-store.ts serves; checked here so that its cloud SDKs load only once such a URI shows up. */
function isObjectStoreUri(uri: string): boolean {
  return /^(s3|gs|azure):\/\//.test(uri);
}

/** One client per bucket (or container) per server, reused across deletes. */
const backends = new WeakMap<Services, Map<string, ObjectBackend>>();

/**
 * Deletes the object at `uri` when it is an `s3://`, `gs://` or `azure://` URI. Resolves to true when an
 * object was deleted, false when there was none or the URI names no object-store object.
 */
export async function deleteExternalObject(uri: string, services: Services): Promise<boolean> {
  if (!isObjectStoreUri(uri)) return false;
  let cache = backends.get(services);
  if (!cache) {
    cache = new Map();
    backends.set(services, cache);
  }
  const { locateObject } = await import('./object-store.js');
  const { backend, key } = locateObject(uri, process.env, cache);
  if (!key || !(await backend.head(key))) return false;
  await backend.remove([key]);
  return true;
}
