/**
 * Map keys (metadata, configuration, hyperparams) as the server stores them (clearml-api.md §7 item 7).
 * Field paths in `only_fields`, `order_by` and filters name a key by its escaped form.
 */
export function escapeKey(key: string): string {
  let out = key.replaceAll('%', '%%').replaceAll('.', '%2E').replaceAll('$', '%24').replaceAll('__', '%_%_');
  if (out.startsWith('_')) out = '%_' + out.slice(1);
  return out;
}

/** The `only_fields`/`order_by` path of a metadata key's value. */
export function metadataPath(key: string): string {
  return `metadata.${escapeKey(key)}.value`;
}
