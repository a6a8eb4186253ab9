import { users, type ParsedRequestOf } from '@cairn/protocol';
import { defineHandler } from '../../api/handler.js';
import type { CallContext } from '../../api/context.js';
import { compileRegex, InvalidRegexError } from '../../db/regex.js';
import { apiError } from '../../api/errors.js';

/** Users per company are few (a team), so the list is filtered after one indexed read. */
async function listUsers(ctx: CallContext, req: ParsedRequestOf<typeof users.get_all>) {
  let rows = await ctx.db.kysely
    .selectFrom('users')
    .select(['id', 'name', 'given_name', 'family_name', 'avatar', 'created', 'role'])
    .where('company', '=', ctx.company)
    .orderBy('name')
    .execute();
  const ids = req.id === undefined || req.id === null ? undefined : Array.isArray(req.id) ? req.id : [req.id];
  if (ids && ids.length) rows = rows.filter((r) => ids.includes(r.id));
  if (req.name) {
    let re: RegExp;
    try {
      re = compileRegex(req.name, false);
    } catch (err) {
      if (err instanceof InvalidRegexError) throw apiError('invalid_regex_error', err.message);
      throw err;
    }
    rows = rows.filter((r) => re.test(r.name));
  }
  return { users: rows.map((r) => ({ ...r, company: ctx.company })) };
}

export const getAllUsers = defineHandler(users.get_all, listUsers);
export const getAllUsersEx = defineHandler(users.get_all_ex, listUsers);
