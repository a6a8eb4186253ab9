import type { CallContext } from '../api/context.js';
import { apiError } from '../api/errors.js';
import { newId } from '../util/ids.js';

/** ClearML's `max_page_size`: a get_all without paging returns at most this many items. */
export const MAX_PAGE_SIZE = 500;
/** Largest scroll step: bounds one response's memory (the web app's select-all asks for 1,000). */
export const MAX_SCROLL_SIZE = 10_000;
/** How long a scroll position is kept after its last use (ClearML: 600 s). */
export const SCROLL_TTL_MS = 600_000;

/** Which rows a list call returns, and the scroll state to advance afterwards. */
export interface Window {
  offset: number;
  limit: number;
  scroll?: { id: string; isNew: boolean };
}

/**
 * Paging (`page`, `page_size`) or scroll mode (the key `scroll_id` is present, even null; then `size` is
 * required). Scroll positions live in the `scrolls` table so every server process sees them.
 */
export async function resolveWindow(ctx: CallContext, body: Record<string, unknown>): Promise<Window> {
  if ('scroll_id' in body) {
    const size = body.size;
    if (typeof size !== 'number' || !Number.isInteger(size) || size < 1) {
      throw apiError('validation_error', 'Integer size parameter greater than 1 should be provided when working with scroll');
    }
    const limit = Math.min(size, MAX_SCROLL_SIZE);
    const now = ctx.services.clock.now();
    const given = typeof body.scroll_id === 'string' && body.scroll_id ? body.scroll_id : undefined;
    const row = given
      ? await ctx.db.kysely.selectFrom('scrolls').select(['id', 'position']).where('id', '=', given).where('company', '=', ctx.company).where('expires', '>', now).executeTakeFirst()
      : undefined;
    // An unknown or expired id starts over under a new id; the web app notices the change and reloads.
    const scroll = row ? { id: row.id, isNew: false } : { id: newId(), isNew: true };
    const position = row?.position ?? 0;
    if (body.refresh_scroll) return { offset: 0, limit: Math.min(Math.max(position, limit), MAX_SCROLL_SIZE), scroll };
    return { offset: position, limit, scroll };
  }
  const page = body.page ?? 0;
  const pageSize = body.page_size ?? MAX_PAGE_SIZE;
  if (typeof page !== 'number' || !Number.isInteger(page) || page < 0) throw apiError('validation_error', 'page must be >=0', { field: 'page' });
  if (typeof pageSize !== 'number' || !Number.isInteger(pageSize) || pageSize < 1) throw apiError('validation_error', 'page_size must be >0', { field: 'page_size' });
  const limit = Math.min(pageSize, MAX_PAGE_SIZE);
  return { offset: page * limit, limit };
}

/** Stores the scroll position after a call returned `returned` rows from `window.offset`. */
export async function saveScroll(ctx: CallContext, window: Window, returned: number): Promise<string | undefined> {
  if (!window.scroll) return undefined;
  const now = ctx.services.clock.now();
  const position = window.offset + returned;
  const expires = now + SCROLL_TTL_MS;
  if (window.scroll.isNew) {
    // New states are rare (one per list opened); sweeping expired ones here keeps the table small.
    await ctx.db.kysely.deleteFrom('scrolls').where('expires', '<=', now).execute();
  }
  await ctx.db.kysely
    .insertInto('scrolls')
    .values({ id: window.scroll.id, company: ctx.company, position, expires })
    .onConflict((oc) => oc.column('id').doUpdateSet({ position, expires }))
    .execute();
  return window.scroll.id;
}
