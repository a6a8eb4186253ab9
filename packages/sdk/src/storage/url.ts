/**
 * URI helpers shared by the manager and the drivers. URIs are handled as text, the way ClearML's Python
 * SDK handles them: a destination path is taken literally (never decoded) and quoted once when it becomes
 * an http(s) URL.
 */
import path from 'node:path';
import { StorageError } from '../errors.js';

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//;

/** The lower-cased scheme of a URI, or `file` for a plain local path. */
export function schemeOf(uri: string): string {
  const m = SCHEME.exec(uri);
  return m ? m[1].toLowerCase() : 'file';
}

/** Local paths become `file:///abs/path` (resolved against the working directory; `~` is not expanded); URLs are unchanged. */
export function conformUrl(uri: string): string {
  if (!uri || SCHEME.test(uri)) return uri;
  return `file://${path.resolve(uri)}`;
}

/** The local path a `file://` URI (or plain path) names. The text after `file://` is the path, taken literally. */
export function localPathOf(uri: string): string {
  if (!SCHEME.test(uri)) return path.resolve(uri);
  if (schemeOf(uri) !== 'file') throw new StorageError(uri, 'not a file:// URI');
  const rest = uri.slice('file://'.length);
  // `file://localhost/x` and `file:///x` both name /x; anything else after `file://` is a path relative to nothing.
  if (rest.startsWith('localhost/')) return rest.slice('localhost'.length);
  if (!rest.startsWith('/')) throw new StorageError(uri, 'a file:// URI needs an absolute path (file:///path)');
  return rest;
}

/** `file:///abs/path` for a local path (the inverse of `localPathOf`). */
export function fileUriOf(localPath: string): string {
  return `file://${path.resolve(localPath)}`;
}

/** Splits an http(s) URI into its origin and its path (literal, `/` when empty). */
export function splitHttpUri(uri: string): { origin: string; path: string } {
  const m = /^(https?:\/\/[^/?#]*)(.*)$/i.exec(uri);
  if (!m) throw new StorageError(uri, 'not an http(s) URL');
  return { origin: m[1], path: m[2] || '/' };
}

/**
 * Percent-encodes a URL path like Python's `urllib.parse.quote(path)` (safe: `/` and the unreserved
 * characters), which is what ClearML records for file-server URLs: spaces become `%20`.
 */
export function quotePath(p: string): string {
  return encodeURIComponent(p)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%2F/g, '/');
}

/** The last path segment of a URI, percent-decoded when that is valid (`.../my%20model.zip` → `my model.zip`). */
export function baseNameOf(uri: string): string {
  const withoutQuery = SCHEME.test(uri) && /^https?:/i.test(uri) ? uri.replace(/[?#].*$/, '') : uri;
  const last = withoutQuery.replace(/\/+$/, '').split('/').pop() ?? '';
  try {
    return decodeURIComponent(last);
  } catch {
    return last;
  }
}

/** Expands a leading `~` and `$VAR` / `${VAR}` references, as ClearML does for configured folders. */
export function expandPath(p: string, env: NodeJS.ProcessEnv = process.env, home = process.env.HOME ?? ''): string {
  const expanded = p.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, a: string | undefined, b: string | undefined) => env[(a ?? b) as string] ?? whole);
  if (expanded === '~') return home;
  if (expanded.startsWith('~/')) return path.join(home, expanded.slice(2));
  return expanded;
}

/** One `sdk.storage.path_substitution` rule. */
export interface PathSubstitution {
  registeredPrefix: string;
  localPrefix: string;
  replaceWindowsSep: boolean;
  replaceLinuxSep: boolean;
}

/** Reads `sdk.storage.path_substitution` entries; malformed entries are skipped. */
export function pathSubstitutions(sdk: Record<string, unknown>): PathSubstitution[] {
  const storage = sdk.storage as Record<string, unknown> | undefined;
  const rules = storage?.path_substitution;
  if (!Array.isArray(rules)) return [];
  const out: PathSubstitution[] = [];
  for (const rule of rules as Record<string, unknown>[]) {
    if (!rule || typeof rule.registered_prefix !== 'string' || typeof rule.local_prefix !== 'string') continue;
    out.push({
      registeredPrefix: rule.registered_prefix,
      localPrefix: rule.local_prefix,
      replaceWindowsSep: rule.replace_windows_sep === true,
      replaceLinuxSep: rule.replace_linux_sep === true,
    });
  }
  return out;
}

/** Rewrites the first matching registered prefix into its local prefix (ClearML's path substitution). */
export function substitutePath(uri: string, rules: PathSubstitution[]): string {
  for (const rule of rules) {
    if (!uri.startsWith(rule.registeredPrefix)) continue;
    let rest = uri.slice(rule.registeredPrefix.length);
    if (rule.replaceWindowsSep) rest = rest.replace(/\\/g, '/');
    if (rule.replaceLinuxSep) rest = rest.replace(/\//g, '\\');
    return rule.localPrefix + rest;
  }
  return uri;
}

