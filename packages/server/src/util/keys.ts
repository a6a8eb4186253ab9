/**
 * Map keys in metadata, configuration, hyperparams and model_labels are stored escaped
 * (clearml-api.md §7 item 7) so that a key can never be read as a path or an operator.
 */
export function escapeKey(key: string): string {
  let out = key.replaceAll('%', '%%').replaceAll('.', '%2E').replaceAll('$', '%24').replaceAll('__', '%_%_');
  if (out.startsWith('_')) out = '%_' + out.slice(1);
  return out;
}

const ESCAPES: Record<string, string> = { '%%': '%', '%2E': '.', '%24': '$', '%_': '_' };

/** Reads the escape tokens left to right, so `%%2E` is a literal `%2E`, not `%.`. */
export function unescapeKey(key: string): string {
  return key.replace(/%%|%2E|%24|%_/g, (token) => ESCAPES[token]!);
}

export function escapeKeys<T>(map: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [escapeKey(k), v]));
}

export function unescapeKeys<T>(map: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [unescapeKey(k), v]));
}
