import { auth } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import { apiError } from '../../api/errors.js';
import { newAccessKey, newSecretKey } from '../../util/ids.js';
import { isoDate } from '../../util/time.js';
import { hashSecret } from './secrets.js';

export const createCredentials = defineHandler(auth.create_credentials, async (ctx, req) => {
  const accessKey = newAccessKey();
  const secretKey = newSecretKey();
  await ctx.db.kysely
    .insertInto('credentials')
    .values({
      access_key: accessKey,
      secret_hash: await hashSecret(secretKey),
      user: ctx.user,
      company: ctx.company,
      label: req.label ?? null,
      created: isoDate(ctx.services.clock.now()),
      last_used: null,
      last_used_from: null,
    })
    .execute();
  return { credentials: { access_key: accessKey, secret_key: secretKey, label: req.label ?? null } };
});

export const getCredentials = defineHandler(auth.get_credentials, async (ctx) => {
  const rows = await ctx.db.kysely
    .selectFrom('credentials')
    .select(['access_key', 'label', 'last_used', 'last_used_from'])
    .where('user', '=', ctx.user)
    .orderBy('created')
    .execute();
  return { credentials: rows };
});

export const revokeCredentials = defineHandler(auth.revoke_credentials, async (ctx, req) => {
  const result = await ctx.db.kysely
    .deleteFrom('credentials')
    .where('access_key', '=', req.access_key)
    .where('user', '=', ctx.user)
    .executeTakeFirst();
  if (!result.numDeletedRows) throw apiError('invalid_access_key', undefined, { access_key: req.access_key });
  return { revoked: 1 };
});

export const editCredentials = defineHandler(auth.edit_credentials, async (ctx, req) => {
  const result = await ctx.db.kysely
    .updateTable('credentials')
    .set({ label: req.label ?? null })
    .where('access_key', '=', req.access_key)
    .where('user', '=', ctx.user)
    .executeTakeFirst();
  if (!result.numUpdatedRows) throw apiError('invalid_access_key', undefined, { access_key: req.access_key });
  return { updated: 1 };
});
