import type { Identity, TokenClaims } from '@cairn/protocol';
import type { Db } from '../../db/database.js';
import { apiError } from '../../api/errors.js';
import type { AuthSource } from '../../api/context.js';
import type { TokenService } from './tokens.js';
import { verifySecret } from './secrets.js';
import { isoDate, type Clock } from '../../util/time.js';

export interface Authentication {
  identity: Identity;
  source: AuthSource;
  claims?: TokenClaims;
  rawToken?: string;
}

export interface AuthInput {
  authorization?: string;
  cookieToken?: string;
  remoteAddress: string;
  worker?: string;
}

/**
 * Resolves the caller (clearml-api.md §1.6): an explicit Authorization header wins over the cookie;
 * Basic is a key pair (or, for the web app, user name and password); Bearer is a token.
 * Returns undefined when no credentials were sent.
 */
export async function authenticate(input: AuthInput, db: Db, tokens: TokenService, clock: Clock): Promise<Authentication | undefined> {
  const header = input.authorization?.trim();
  if (header) {
    const space = header.indexOf(' ');
    const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
    const value = space < 0 ? '' : header.slice(space + 1).trim();
    if (scheme === 'basic') return basic(value, input, db, clock);
    if (scheme === 'bearer') return bearer(value, 'bearer', db, tokens);
    throw apiError('bad_auth_type');
  }
  if (input.cookieToken) return bearer(input.cookieToken, 'cookie', db, tokens);
  return undefined;
}

async function basic(encoded: string, input: AuthInput, db: Db, clock: Clock): Promise<Authentication> {
  const decoded = /^[A-Za-z0-9+/=_-]+$/.test(encoded) ? Buffer.from(encoded, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw apiError('bad_credentials');
  const key = decoded.slice(0, colon);
  const secret = decoded.slice(colon + 1);

  const credential = await db.kysely.selectFrom('credentials').selectAll().where('access_key', '=', key).executeTakeFirst();
  if (credential) {
    if (!(await verifySecret(secret, credential.secret_hash))) throw apiError('invalid_credentials');
    await db.kysely
      .updateTable('credentials')
      .set({ last_used: isoDate(clock.now()), last_used_from: input.worker ?? input.remoteAddress })
      .where('access_key', '=', key)
      .execute();
    return { identity: await identityOf(db, credential.user), source: 'basic' };
  }
  // The web app's login form: user name and password (ClearML's "fixed users" mode).
  const users = await db.kysely.selectFrom('users').select(['id', 'password_hash']).where('name', '=', key).execute();
  for (const user of users) {
    if (user.password_hash && (await verifySecret(secret, user.password_hash))) {
      return { identity: await identityOf(db, user.id), source: 'basic' };
    }
  }
  throw apiError('invalid_credentials');
}

async function bearer(token: string, source: AuthSource, db: Db, tokens: TokenService): Promise<Authentication> {
  const claims = await tokens.verify(token);
  if (!claims) throw apiError('invalid_token');
  const revoked = await db.kysely.selectFrom('revoked_sessions').select('session_id').where('session_id', '=', claims.session_id).executeTakeFirst();
  if (revoked) throw apiError('invalid_token', 'token revoked');
  return { identity: claims.identity, source, claims, rawToken: token };
}

export async function identityOf(db: Db, userId: string): Promise<Identity> {
  const row = await db.kysely
    .selectFrom('users')
    .innerJoin('companies', 'companies.id', 'users.company')
    .select(['users.id as user', 'users.company as company', 'users.role as role', 'users.name as user_name', 'companies.name as company_name'])
    .where('users.id', '=', userId)
    .executeTakeFirst();
  if (!row) throw apiError('invalid_credentials', 'user no longer exists');
  return row;
}
