/**
 * Where weights land inside an upload destination (sdk-behaviour.md §7.3):
 * `<base>/<project>/<task name>.<task id>/models/<file>`, with ClearML's truncation and percent-encoding rules, so
 * both SDKs put a task's models in the same folder.
 */

/** Longest project folder name before it is cut and suffixed with the project id. */
export const PROJECT_FOLDER_MAX = 256;
/** Longest task folder name (it always ends with `.<task id>`). */
export const TASK_FOLDER_MAX = 128;

/** Characters Python's `quote(..., safe="'[]{}()$^,.; -_+=/")` leaves alone, besides letters and digits. */
const SAFE_CHARS = new Set([..."'[]{}()$^,.; -_+=/", '~']);

/** Python's `urllib.parse.quote` with ClearML's safe set: UTF-8 bytes of anything else become `%XX`. */
export function quotePathSegment(text: string): string {
  let out = '';
  for (const ch of text) {
    if (/^[A-Za-z0-9]$/.test(ch) || SAFE_CHARS.has(ch)) {
      out += ch;
      continue;
    }
    for (const byte of new TextEncoder().encode(ch)) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** `name` cut to fit `maxLength` together with `.<id>` (by code points, as Python slices). */
export function limitFolderName(name: string, id: string, maxLength: number, alwaysAddId: boolean): string {
  const chars = Array.from(name);
  if (!alwaysAddId && chars.length < maxLength) return name;
  return `${chars.slice(0, Math.max(2, maxLength - id.length - 1)).join('')}.${id}`;
}

export interface DestinationParts {
  projectName: string;
  projectId: string;
  taskName: string;
  taskId: string;
}

/** `<project>/<task name>.<task id>/models`, each part truncated and quoted. */
export function modelsFolder(parts: DestinationParts): string {
  return [
    limitFolderName(parts.projectName, parts.projectId, PROJECT_FOLDER_MAX, false),
    limitFolderName(parts.taskName, parts.taskId, TASK_FOLDER_MAX, true),
    'models',
  ]
    .filter((x) => x)
    .map(quotePathSegment)
    .join('/');
}

/** The full destination URI of one weights file under `base` (trailing `/` of the base ignored). */
export function weightsDestination(base: string, parts: DestinationParts, filename: string): string {
  return `${base.replace(/\/+$/, '')}/${modelsFolder(parts)}/${filename}`;
}

/** The last path segment of a path or URL. */
export function baseName(pathOrUrl: string): string {
  const trimmed = pathOrUrl.replace(/[/\\]+$/, '');
  const cut = Math.max(trimmed.lastIndexOf('/'), trimmed.lastIndexOf('\\'));
  return trimmed.slice(cut + 1);
}

/** Python's `Path(x).stem`: the last segment without its last extension (`m.tar.gz` → `m.tar`, `.env` → `.env`). */
export function stem(pathOrUrl: string): string {
  const name = baseName(pathOrUrl);
  const dot = name.lastIndexOf('.');
  return dot <= 0 ? name : name.slice(0, dot);
}

/**
 * An exact-match regular expression for a name (`^...$`), escaping only the characters that are special in both
 * Python's and JavaScript's regex syntax, so ClearML's server and Cairn's read it the same way.
 */
export function exactNamePattern(name: string): string {
  return `^${name.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&')}$`;
}
