import { users } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import { apiError } from '../../api/errors.js';
import { fromJson } from '../../util/json.js';

export const getCurrentUser = defineHandler(users.get_current_user, async (ctx) => {
  const row = await ctx.db.kysely.selectFrom('users').selectAll().where('id', '=', ctx.user).executeTakeFirst();
  if (!row) throw apiError('invalid_user_id', undefined, { id: ctx.user });
  return {
    user: {
      id: row.id,
      name: row.name,
      given_name: row.given_name,
      family_name: row.family_name,
      avatar: row.avatar,
      created: row.created,
      role: row.role,
      company: { id: ctx.company, name: ctx.identity.company_name },
      preferences: fromJson(row.preferences, {}),
    },
    getting_started: { agentName: 'cairn agent', configure: 'cairn agent --queue default', install: 'npm ci', packageName: '@cairn/sdk' },
    settings: { max_download_items: 1000 },
  };
});
