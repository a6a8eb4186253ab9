import { AUTH_COOKIE, auth, login } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import type { CallContext } from '../../api/context.js';

async function revokeCurrentSession(ctx: CallContext): Promise<Record<string, never>> {
  if (ctx.token) {
    const expires = ctx.token.exp ?? Math.floor(ctx.services.clock.now() / 1000) + 365 * 24 * 3600;
    await ctx.db.kysely
      .insertInto('revoked_sessions')
      .values({ session_id: ctx.token.session_id, expires })
      .onConflict((oc) => oc.column('session_id').doNothing())
      .execute();
    if (ctx.rawToken) ctx.services.tokens.forget(ctx.rawToken);
  }
  ctx.setCookie(AUTH_COOKIE, '', { maxAge: 0, httpOnly: true, sameSite: 'Lax' });
  return {};
}

export const authLogout = defineHandler(auth.logout, revokeCurrentSession);
export const loginLogout = defineHandler(login.logout, revokeCurrentSession);
