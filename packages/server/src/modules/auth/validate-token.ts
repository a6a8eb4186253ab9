import { auth } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';

export const validateToken = defineHandler(auth.validate_token, async (ctx, req) => {
  const claims = await ctx.services.tokens.verify(req.token);
  if (!claims) return { valid: false, msg: 'Invalid token' };
  const revoked = await ctx.db.kysely.selectFrom('revoked_sessions').select('session_id').where('session_id', '=', claims.session_id).executeTakeFirst();
  if (revoked) return { valid: false, msg: 'Token revoked' };
  return { valid: true, user: claims.identity.user, company: claims.identity.company };
});
