import type { Identity, TokenClaims } from '@cairn/protocol';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/database.js';
import type { Services } from '../services.js';

export type AuthSource = 'basic' | 'bearer' | 'cookie' | 'none';

export interface CookieOptions {
  maxAge: number;
  httpOnly?: boolean;
  sameSite?: 'Lax' | 'Strict';
}

/** What a handler sees of its call: who calls, with which version, and the server's services. */
export interface CallContext {
  readonly endpoint: string;
  /** The version in the URL (e.g. "2.23"), or the server maximum when the URL has none. */
  readonly requestedVersion: string;
  readonly identity: Identity;
  readonly authenticated: boolean;
  readonly authSource: AuthSource;
  readonly token: TokenClaims | undefined;
  /** The raw token the call authenticated with (Bearer or cookie). */
  readonly rawToken: string | undefined;
  readonly company: string;
  readonly user: string;
  readonly worker: string | undefined;
  readonly remoteAddress: string;
  /** The `Host` header of the call: this server as the caller reaches it. */
  readonly requestHost?: string;
  readonly db: Db;
  readonly services: Services;
  readonly log: FastifyBaseLogger;
  /** True when the requested version is at least `version` ("2.13" style). */
  versionAtLeast(version: string): boolean;
  setCookie(name: string, value: string, options: CookieOptions): void;
}

/** Compares "2.13" style versions numerically per part. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
