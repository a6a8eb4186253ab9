/**
 * ClearML's pattern filters are Python regular expressions. JavaScript's syntax covers what clients
 * send (`^name$`, `re.escape` output, character classes); Python-only spellings are translated here.
 */
const cache = new Map<string, RegExp>();
/** Compiled patterns kept per process; the web app and SDK reuse a handful of patterns. */
const REGEX_CACHE_SIZE = 500;

export class InvalidRegexError extends Error {}

export function compileRegex(pattern: string, caseInsensitive: boolean): RegExp {
  const cacheKey = (caseInsensitive ? 'i:' : 's:') + pattern;
  const hit = cache.get(cacheKey);
  if (hit) return hit;
  let source = pattern;
  let flags = caseInsensitive ? 'iu' : 'u';
  const inline = /^\(\?([aiLmsux]+)\)/.exec(source);
  if (inline) {
    source = source.slice(inline[0].length);
    if (inline[1]!.includes('i') && !flags.includes('i')) flags += 'i';
    if (inline[1]!.includes('m')) flags += 'm';
    if (inline[1]!.includes('s')) flags += 's';
  }
  source = source.replace(/\\Z/g, '$').replace(/\\A/g, '^').replace(/\(\?P</g, '(?<').replace(/\(\?P=(\w+)\)/g, '\\k<$1>');
  let re: RegExp;
  try {
    re = new RegExp(source, flags);
  } catch {
    try {
      // Python accepts escapes of any character (`\ `, `\-`) that unicode mode refuses.
      re = new RegExp(source, flags.replace('u', ''));
    } catch (err) {
      throw new InvalidRegexError(`${pattern}: ${(err as Error).message}`);
    }
  }
  if (cache.size >= REGEX_CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(cacheKey, re);
  return re;
}
