import { MAX_API_VERSION } from '@cairn/protocol';
import type { Handler } from './handler.js';
import { compareVersions } from './context.js';
import { apiError } from './errors.js';

/** Finds the handler for an endpoint and version: the one with the greatest minVersion <= requested. */
export class Router {
  private readonly byEndpoint = new Map<string, Handler[]>();

  constructor(handlers: readonly Handler[]) {
    for (const h of handlers) {
      const list = this.byEndpoint.get(h.operation.endpoint) ?? [];
      list.push(h);
      list.sort((a, b) => compareVersions(b.minVersion, a.minVersion));
      this.byEndpoint.set(h.operation.endpoint, list);
    }
  }

  resolve(endpoint: string, requestedVersion: string): Handler {
    // Versions above the maximum are served as the maximum (the web app calls /v999.0/).
    const effective = compareVersions(requestedVersion, MAX_API_VERSION) > 0 ? MAX_API_VERSION : requestedVersion;
    const handler = this.byEndpoint.get(endpoint)?.find((h) => compareVersions(h.minVersion, effective) <= 0);
    if (!handler) throw apiError('endpoint_not_found', undefined, undefined).withMessage(`Unable to find endpoint for name ${endpoint} and version ${requestedVersion}`);
    return handler;
  }

  endpoints(): string[] {
    return [...this.byEndpoint.keys()].sort();
  }
}
