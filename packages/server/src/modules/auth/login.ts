import { AUTH_COOKIE, DEFAULT_TOKEN_EXPIRATION_SEC, auth } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import { apiError } from '../../api/errors.js';

/** Cookie lifetime as ClearML sets it; the token inside expires on its own. */
export const AUTH_COOKIE_MAX_AGE = 99_999_999_999;

export const login = defineHandler(auth.login, async (ctx, req) => {
  if (!ctx.authenticated) throw apiError('no_credentials');
  const { token } = await ctx.services.tokens.issue(ctx.identity, req.expiration_sec ?? DEFAULT_TOKEN_EXPIRATION_SEC);
  ctx.setCookie(AUTH_COOKIE, token, { maxAge: AUTH_COOKIE_MAX_AGE, httpOnly: true, sameSite: 'Lax' });
  return { token };
});
