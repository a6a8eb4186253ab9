import { users } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import { fromJson, isPlainObject, toJson } from '../../util/json.js';

export const getPreferences = defineHandler(users.get_preferences, async (ctx) => {
  const row = await ctx.db.kysely.selectFrom('users').select('preferences').where('id', '=', ctx.user).executeTakeFirst();
  return { preferences: fromJson<Record<string, unknown>>(row?.preferences, {}) };
});

/** Deep merge: a nested object is merged key by key; any other value replaces. */
function merge(target: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const out = { ...target };
  for (const [k, v] of Object.entries(patch)) out[k] = isPlainObject(v) && isPlainObject(out[k]) ? merge(out[k] as Record<string, unknown>, v) : v;
  return out;
}

export const setPreferences = defineHandler(users.set_preferences, async (ctx, req) =>
  ctx.db.transaction(async (db) => {
    const row = await db.kysely.selectFrom('users').select('preferences').where('id', '=', ctx.user).executeTakeFirst();
    const merged = merge(fromJson<Record<string, unknown>>(row?.preferences, {}), req.preferences);
    await db.kysely.updateTable('users').set({ preferences: toJson(merged) }).where('id', '=', ctx.user).execute();
    return { updated: 1, fields: { preferences: merged } };
  }),
);
