/**
 * What a task stores to be re-run elsewhere, and how a remote run reads it back (sdk-behaviour.md §8.3):
 * the script (command line, working directory, dependencies), connected parameters (flattened into a
 * hyperparameter section) and the environment variable an agent sets.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { castMetadataValue, toMetadataEntry } from './model/metadata.js';

/** The environment variable an agent sets to the id of the task it runs (ClearML's, and its legacy name). */
export const TASK_ID_ENV = 'CLEARML_TASK_ID';
const LEGACY_TASK_ID_ENV = 'TRAINS_TASK_ID';
/** Nested keys of a connected object are joined with this into one parameter name (ClearML's). */
export const PARAM_PATH_SEPARATOR = '/';
/** Parameter names that carry the `ignoreRemoteOverrides` flags, not user values. */
export const IGNORE_OVERRIDES_PREFIX = '_ignore_remote_overrides_';

/** The id of the task this process runs for an agent, or undefined for a local run. */
export function remoteTaskId(env: Record<string, string | undefined> = process.env): string | undefined {
  return env[TASK_ID_ENV]?.trim() || env[LEGACY_TASK_ID_ENV]?.trim() || undefined;
}

/** A word as a POSIX shell reads it back: plain when it has nothing special, single-quoted otherwise. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export interface ScriptRecord {
  [key: string]: unknown;
  binary: string;
  entry_point: string;
  working_dir: string;
  requirements: Record<string, unknown>;
}

/**
 * This process's command line as a task's `script`: `binary` is the interpreter with its own options
 * (`node --import tsx`), `entry_point` the script (relative to `working_dir` when inside it) followed by its
 * arguments, shell-quoted, `working_dir` the current directory, and `requirements.npm` the dependencies of the
 * nearest `package.json` above the script. An agent runs `<binary> <entry_point>` in a copy of `working_dir`.
 */
export function currentScript(): ScriptRecord {
  const cwd = process.cwd();
  const script = process.argv[1] ? path.resolve(process.argv[1]) : '';
  const inside = script && !path.relative(cwd, script).startsWith('..') && !path.isAbsolute(path.relative(cwd, script));
  const entry = script ? (inside ? path.relative(cwd, script) : script) : '';
  return {
    binary: [path.basename(process.execPath), ...process.execArgv].map(shellQuote).join(' '),
    entry_point: [entry, ...process.argv.slice(2)].filter(Boolean).map(shellQuote).join(' '),
    working_dir: cwd,
    requirements: packageDependencies(script ? path.dirname(script) : cwd),
  };
}

/** `{npm: {dependencies, devDependencies}}` of the nearest `package.json` at or above `from` (`{}` when none). */
function packageDependencies(from: string): Record<string, unknown> {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
        return { npm: { dependencies: { ...pkg.dependencies }, devDependencies: { ...pkg.devDependencies } } };
      } catch {
        return {};
      }
    }
    if (path.dirname(dir) === dir) return {};
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export interface ParamItem {
  section: string;
  name: string;
  value: string;
  type: string;
}

/**
 * A connected object as hyperparameters of `section`: nested plain objects become `a/b` names, every other value
 * is one parameter, stored as text with its type (as metadata values are, so Python's casting reads them back).
 */
export function toParamItems(section: string, params: Record<string, unknown>): ParamItem[] {
  const out: ParamItem[] = [];
  const walk = (obj: Record<string, unknown>, prefix: string) => {
    for (const [key, value] of Object.entries(obj)) {
      const name = prefix ? `${prefix}${PARAM_PATH_SEPARATOR}${key}` : key;
      if (isPlainObject(value) && Object.keys(value).length) walk(value, name);
      else if (value !== undefined && typeof value !== 'function') {
        const entry = toMetadataEntry(name, value);
        out.push({ section, name, value: entry.value, type: entry.type });
      }
    }
  };
  walk(params, '');
  return out;
}

/** A stored text read back as the type of the value the code connected, falling back to the stored type. */
function castLike(local: unknown, stored: { value: string; type?: string | null }): unknown {
  if (typeof local === 'number') {
    const n = Number(stored.value);
    return stored.value.trim() !== '' && !Number.isNaN(n) ? n : stored.value;
  }
  if (typeof local === 'boolean') {
    const s = stored.value.trim().toLowerCase();
    return s === 'true' || s === '1' ? true : s === 'false' || s === '0' || s === '' ? false : stored.value;
  }
  if (typeof local === 'string') return stored.value;
  if (Array.isArray(local) || isPlainObject(local)) {
    try {
      return JSON.parse(stored.value);
    } catch {
      return stored.value;
    }
  }
  return castMetadataValue(stored.value, stored.type);
}

/**
 * Writes stored parameters (`a/b` names) into the connected object, in place: each value takes the type of the
 * value the code had there; names the code did not have are added with their stored type.
 */
export function applyParamItems(params: Record<string, unknown>, stored: readonly { name?: string | null; value?: string | null; type?: string | null }[]): void {
  for (const item of stored) {
    if (!item.name || item.name.startsWith(IGNORE_OVERRIDES_PREFIX)) continue;
    const keys = item.name.split(PARAM_PATH_SEPARATOR);
    let node: Record<string, unknown> = params;
    for (const key of keys.slice(0, -1)) {
      if (!isPlainObject(node[key])) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    const last = keys[keys.length - 1]!;
    node[last] = castLike(node[last], { value: item.value ?? '', type: item.type });
  }
}

/** Replaces an object's own keys with those of `next`, keeping the object (the code holds a reference to it). */
export function replaceContents(target: Record<string, unknown>, next: Record<string, unknown>): void {
  for (const key of Object.keys(target)) delete target[key];
  Object.assign(target, next);
}
