/**
 * Model metadata: every entry is stored as strings `{key, type, value}` (sdk-behaviour.md §3.3). Writing infers
 * the type from the JavaScript value and stringifies it so that ClearML's Python casting reads back the same value
 * (decision 9); reading casts with exactly Python's rules, so both SDKs agree on what a stored entry means.
 */
import { UsageError } from '../errors.js';

export interface MetadataEntry {
  key: string;
  type: string;
  value: string;
}

export interface CastMetadataEntry {
  key: string;
  type: string;
  value: unknown;
}

/** The type names ClearML keeps on write; any other given type is sent as the string "None". */
export const METADATA_TYPES = ['float', 'int', 'bool', 'str', 'basestring', 'list', 'tuple', 'dict'] as const;

/**
 * One entry to send. Without `vType` the type is inferred (integer → int, other number → float, boolean → bool,
 * string → str, array → list, plain object → dict); `null` is stored as an empty value with an empty type, which
 * both SDKs read back as null.
 */
export function toMetadataEntry(key: string, value: unknown, vType?: string | null): MetadataEntry {
  if (value === undefined) throw new UsageError(`metadata value for key "${key}" is undefined`);
  const text = stringifyMetadataValue(key, value);
  let type: string;
  if (vType !== undefined && vType !== null) type = (METADATA_TYPES as readonly string[]).includes(vType) ? vType : 'None';
  else type = value === null ? '' : inferMetadataType(key, value);
  return { key: String(key), value: text, type };
}

export function inferMetadataType(key: string, value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'bigint') return 'int';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'string' || value instanceof Date) return 'str';
  if (Array.isArray(value)) return 'list';
  if (isPlainObject(value)) return 'dict';
  throw new UsageError(`metadata value for key "${key}" cannot be stored: ${Object.prototype.toString.call(value)}`);
}

export function stringifyMetadataValue(key: string, value: unknown): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value) || isPlainObject(value)) return JSON.stringify(value);
  throw new UsageError(`metadata value for key "${key}" cannot be stored: ${Object.prototype.toString.call(value)}`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Called when a structured value cannot be cast and stays a string (Python logs the same warning). */
export type CastWarning = (message: string) => void;

/**
 * Python's `cast_basic_type(value, type)`: no type → "" is null, anything else unchanged; `list`/`tuple`/`dict`
 * (first `/`-segment) → JSON, then the legacy YAML-list fallback, else the string with a warning; `int`, `float`,
 * `bool`, `str` (case-insensitive, trimmed) → converted, or the string unchanged when conversion fails; unknown
 * types → unchanged. One fix: `List`/`Dict` in other cases are cast like `list`/`dict` (Python turns `"List"`
 * into a list of characters).
 */
export function castMetadataValue(value: string, type: string | null | undefined, warn?: CastWarning): unknown {
  if (!type) return value === '' ? null : value;
  const first = type.split('/')[0].trim().toLowerCase();
  if (first === 'list' || first === 'tuple' || first === 'dict') {
    const construct = first === 'dict' ? pythonDict : pythonList;
    try {
      return construct(JSON.parse(value));
    } catch {
      try {
        return construct(parseYamlFlowSequence(`[${value.replace(/^[[(]+/, '').replace(/[\])]+$/, '')}]`));
      } catch {
        warn?.(`Could not cast \`${value}\` to basic type. Returning it as \`str\``);
        return value;
      }
    }
  }
  switch (type.toLowerCase().trim()) {
    case 'int':
      return pythonInt(value) ?? value;
    case 'float':
      return pythonFloat(value) ?? value;
    case 'bool': {
      const s = value.trim().toLowerCase();
      if (s === 'true') return true;
      if (s === 'false' || s === '') return false;
      return value;
    }
    case 'str':
      return value;
    default:
      return value;
  }
}

/** Python's `int(str)`: optional sign, digits with single underscores between them, surrounding white space. */
function pythonInt(value: string): number | undefined {
  const s = value.trim();
  if (!/^[+-]?\d(?:_?\d)*$/.test(s)) return undefined;
  return Number(s.replace(/_/g, ''));
}

/** Python's `float(str)`: decimal and exponent forms, `inf`/`infinity`/`nan` in any case. */
function pythonFloat(value: string): number | undefined {
  const s = value.trim().toLowerCase();
  const unsigned = s.replace(/^[+-]/, '');
  const negative = s.startsWith('-');
  if (unsigned === 'inf' || unsigned === 'infinity') return negative ? -Infinity : Infinity;
  if (unsigned === 'nan') return NaN;
  const digits = '\\d(?:_?\\d)*';
  const re = new RegExp(`^(?:${digits}(?:\\.(?:${digits})?)?|\\.${digits})(?:e[+-]?${digits})?$`);
  if (!re.test(unsigned)) return undefined;
  return Number(s.replace(/_/g, ''));
}

/** Python's `list(x)` / `tuple(x)`: a list is copied, a string becomes characters, a dict its keys. */
function pythonList(x: unknown): unknown[] {
  if (Array.isArray(x)) return [...x];
  if (typeof x === 'string') return Array.from(x);
  if (isPlainObject(x)) return Object.keys(x);
  throw new TypeError('not iterable');
}

/** Python's `dict(x)`: a dict is copied; a list must hold two-element items. */
function pythonDict(x: unknown): Record<string, unknown> {
  if (isPlainObject(x)) return { ...x };
  if (!Array.isArray(x)) throw new TypeError('not a mapping');
  const out: Record<string, unknown> = {};
  for (const item of x) {
    const pair = pythonList(item);
    if (pair.length !== 2) throw new TypeError('dictionary update sequence element has the wrong length');
    out[String(pair[0])] = pair[1];
  }
  return out;
}

// A YAML 1.1 flow-sequence reader for the legacy fallback (`[a, b]`, `[1, 2.5, yes]`, `[x: 1]`), with PyYAML's
// implicit scalar types. It reads only flow collections and plain or quoted scalars, which is all the fallback sees.

export function parseYamlFlowSequence(text: string): unknown[] {
  const reader = new FlowReader(text);
  const value = reader.value();
  reader.end();
  if (!Array.isArray(value)) throw new SyntaxError('not a sequence');
  return value;
}

class FlowReader {
  private pos = 0;
  constructor(private readonly text: string) {}

  end(): void {
    this.ws();
    if (this.pos !== this.text.length) throw new SyntaxError(`unexpected text at ${this.pos}`);
  }

  private ws(): void {
    while (/\s/.test(this.text[this.pos] ?? '')) this.pos++;
  }

  value(): unknown {
    this.ws();
    const c = this.text[this.pos];
    if (c === '[') return this.sequence();
    if (c === '{') return this.mapping();
    if (c === "'" || c === '"') return this.quoted();
    return resolvePlain(this.plain());
  }

  private sequence(): unknown[] {
    this.pos++;
    const out: unknown[] = [];
    for (;;) {
      this.ws();
      if (this.text[this.pos] === ']') {
        this.pos++;
        return out;
      }
      const item = this.value();
      this.ws();
      if (this.text[this.pos] === ':') {
        // `[key: value]` is a one-pair mapping inside the sequence.
        this.pos++;
        out.push({ [String(item)]: this.value() });
        this.ws();
      } else {
        out.push(item);
      }
      const c = this.text[this.pos];
      if (c === ',') this.pos++;
      else if (c !== ']') throw new SyntaxError(`expected , or ] at ${this.pos}`);
    }
  }

  private mapping(): Record<string, unknown> {
    this.pos++;
    const out: Record<string, unknown> = {};
    for (;;) {
      this.ws();
      if (this.text[this.pos] === '}') {
        this.pos++;
        return out;
      }
      const key = this.value();
      this.ws();
      let value: unknown = null;
      if (this.text[this.pos] === ':') {
        this.pos++;
        value = this.value();
        this.ws();
      }
      out[String(key)] = value;
      const c = this.text[this.pos];
      if (c === ',') this.pos++;
      else if (c !== '}') throw new SyntaxError(`expected , or } at ${this.pos}`);
    }
  }

  private quoted(): string {
    const q = this.text[this.pos++];
    let out = '';
    for (;;) {
      const c = this.text[this.pos++];
      if (c === undefined) throw new SyntaxError('unterminated string');
      if (c === q) {
        if (q === "'" && this.text[this.pos] === "'") {
          out += "'";
          this.pos++;
          continue;
        }
        return out;
      }
      if (q === '"' && c === '\\') {
        const e = this.text[this.pos++];
        out += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e;
        continue;
      }
      out += c;
    }
  }

  /** A plain scalar ends at `,`, `]`, `}` or a `:` followed by space. */
  private plain(): string {
    const start = this.pos;
    for (;;) {
      const c = this.text[this.pos];
      if (c === undefined || c === ',' || c === ']' || c === '}' || c === '[' || c === '{') break;
      if (c === ':' && /[\s,\]}]|^$/.test(this.text[this.pos + 1] ?? '')) break;
      this.pos++;
    }
    const raw = this.text.slice(start, this.pos).trim();
    if (raw.startsWith('#')) throw new SyntaxError('comment in flow collection');
    return raw;
  }
}

/** PyYAML's implicit resolvers (YAML 1.1): null, bool, int, float, else string. */
function resolvePlain(s: string): unknown {
  if (s === '' || s === '~' || /^(?:null|Null|NULL)$/.test(s)) return null;
  if (/^(?:yes|Yes|YES|true|True|TRUE|on|On|ON)$/.test(s)) return true;
  if (/^(?:no|No|NO|false|False|FALSE|off|Off|OFF)$/.test(s)) return false;
  if (/^[-+]?0b[01_]+$/.test(s)) return signed(s, (t) => parseInt(t.slice(2).replace(/_/g, ''), 2));
  if (/^[-+]?0x[0-9a-fA-F_]+$/.test(s)) return signed(s, (t) => parseInt(t.slice(2).replace(/_/g, ''), 16));
  if (/^[-+]?0[0-7_]+$/.test(s)) return signed(s, (t) => parseInt(t.slice(1).replace(/_/g, ''), 8));
  if (/^[-+]?(?:0|[1-9][0-9_]*)$/.test(s)) return Number(s.replace(/_/g, ''));
  if (/^[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?$/.test(s) || /^[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?$/.test(s)) return Number(s.replace(/_/g, ''));
  if (/^[-+]?\.(?:inf|Inf|INF)$/.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^\.(?:nan|NaN|NAN)$/.test(s)) return NaN;
  return s;
}

function signed(s: string, parse: (unsigned: string) => number): number {
  const negative = s.startsWith('-');
  const n = parse(s.replace(/^[-+]/, ''));
  return negative ? -n : n;
}
