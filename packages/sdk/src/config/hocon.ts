/**
 * HOCON, the text format of model configurations and of `clearml.conf` (sdk-behaviour.md §2.3, §2.4).
 *
 * `configDictToText` writes exactly the text ClearML's Python SDK writes for the same dict (its vendored pyhocon
 * `HOCONConverter.to_hocon`, reached through `config_dict_to_text`), so Python and TypeScript users see the same
 * model configuration. `textToConfigDict` reads what pyhocon reads: JSON, `=`/`:`/`+=`, nested blocks, dotted
 * paths, `${path}`/`${?path}` substitutions (with environment fallback), `#`/`//` comments, quoted keys,
 * `"""` strings, value concatenation, object merging; failures carry the char/line/col of pyhocon's message.
 *
 * Why a module of our own: the npm HOCON packages either do not emit HOCON at all or emit a different layout than
 * pyhocon, and none reproduces pyhocon's error positions. The web app validates configuration text with this
 * parser in the browser, so it imports no Node module (it is exported as `@cairn/sdk/hocon`).
 *
 * Deliberate differences from pyhocon, each where pyhocon's result is broken: `\uXXXX`, `\b`, `\f`, `\/` escapes are
 * decoded (pyhocon keeps them literally, so JSON text could not round-trip); quoted keys always come back unquoted
 * (pyhocon keeps the quotes on keys holding `$`, `#`, ...); keys that cannot be written bare are quoted on output
 * (pyhocon writes e.g. `a,b = 1`, which no parser reads back); `[""]` keeps its empty string; `include` is not
 * supported (there are no files in the browser); durations such as `10s` stay strings.
 */
import { UsageError } from '../errors.js';

export type HoconValue = string | number | boolean | null | HoconValue[] | { [key: string]: HoconValue };
export type HoconObject = { [key: string]: HoconValue };

/** Characters that make ClearML quote a key (`raise_on_special_key` and pyhocon's `parse_key`). */
const SPECIAL_KEY_CHARS = '$}[]:=+#`^?!@*&.';
/** pyhocon's number pattern, including its lookahead (a number must end the value). */
const NUMBER_RE = /[+-]?(\d*\.\d+|\d+(\.\d+)?)([eE][+-]?\d+)?(?=$|[ \t]*([$}\],#\n\r]|\/\/))/y;
/** Characters a bare (unquoted) key may not contain in this parser. */
const KEY_STOP = new Set([...'"{}[]:=,+#`^?!@*&$\\\n\r\t']);
/** Characters that end an unquoted value (pyhocon's `unquoted_string` class, plus all white space). */
const UNQUOTED_STOP = new Set([...'^`+?!@*&"[{]}#,=$\\']);
/** pyhocon breaks a list of scalars onto a new line once a line passes this many characters. */
const LIST_WRAP_CHARS = 80;
const INDENT = 2;

// ---------------------------------------------------------------------------------------------------------------
// dict → text

/**
 * Serialises a configuration dict to HOCON text exactly as ClearML's Python SDK does. A string is returned as is.
 * `Map`s are accepted too, so non-string keys (`new Map([[1, 'x']])` → `1 = "x"`) behave as Python's do.
 */
export function configDictToText(config: unknown): string {
  if (typeof config === 'string') return config;
  if (!isDict(config)) throw new UsageError('Model configuration only supports dictionary or string objects');
  try {
    return emit(config, 0);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`Could not serialize configuration dictionary:\n${safeJson(config)}`, { cause: err });
  }
}

function isDict(value: unknown): value is Record<string, unknown> | Map<unknown, unknown> {
  if (value instanceof Map) return true;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function entriesOf(dict: Record<string, unknown> | Map<unknown, unknown>): [unknown, unknown][] {
  const entries = dict instanceof Map ? [...dict.entries()] : Object.entries(dict);
  // JSON drops undefined members; so does this emitter.
  return entries.filter(([, v]) => v !== undefined);
}

function emit(value: unknown, level: number): string {
  if (isDict(value)) {
    const entries = entriesOf(value);
    if (!entries.length) return '{}';
    const lines = entries.map(([key, item]) => {
      const head = `${' '.repeat(level * INDENT)}${keyText(key)}${isDict(item) ? '' : ' ='} `;
      const body = emit(item, level + 1);
      return Array.isArray(item) ? autoIndent(head, body) : head + body;
    });
    const text = lines.join('\n');
    return level > 0 ? `{\n${text}\n${' '.repeat((level - 1) * INDENT)}}` : text;
  }
  if (Array.isArray(value)) {
    if (!value.length) return '[]';
    let out = '[';
    let lineStart = out.length;
    let skipComma = false;
    value.forEach((item, i) => {
      if (i > 0 && !skipComma) out += ', ';
      skipComma = false;
      const text = emit(item === undefined ? null : item, level + 1);
      out += text;
      if (text.includes('\n') || out.length - lineStart > LIST_WRAP_CHARS) {
        if (i < value.length - 1) out += `,\n${' '.repeat(level * INDENT)}`;
        lineStart = out.length;
        skipComma = true;
      }
    });
    return out + ']';
  }
  if (typeof value === 'string') {
    return value.includes('\n') && value.length > 1 ? `"""${value}"""` : `"${escapeString(value)}"`;
  }
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (typeof value === 'number') return pythonNumber(value);
  if (typeof value === 'bigint') return value.toString();
  throw new UsageError(`Could not serialize configuration dictionary: unsupported value of type ${typeof value}`);
}

/** pyhocon's `_auto_indent`: a multi-line list whose first line is long is re-aligned under its key. */
function autoIndent(head: string, section: string): string {
  const nl = head.lastIndexOf('\n');
  const indent = nl < 0 ? head.length : head.length - nl;
  const firstBreak = section.indexOf('\n');
  const sectionIndent = firstBreak < 0 ? section.length : firstBreak;
  if (sectionIndent < 3) return head + section;
  return head + section.split('\n').map((s) => s.trim()).join('\n' + ' '.repeat(indent));
}

function keyText(key: unknown): string {
  if (typeof key !== 'string') {
    const text = String(key);
    return bareKeyOk(text) ? text : quoteKey(text);
  }
  if ([...key].some((c) => SPECIAL_KEY_CHARS.includes(c))) return quoteKey(key);
  NUMBER_RE.lastIndex = 0;
  if (NUMBER_RE.test(key)) return quoteKey(key);
  return bareKeyOk(key) ? key : quoteKey(key);
}

function bareKeyOk(key: string): boolean {
  return key.trim() === key && key !== '' && ![...key].some((c) => KEY_STOP.has(c)) && !key.includes('//');
}

function quoteKey(key: string): string {
  return `"${escapeString(key)}"`;
}

function escapeString(s: string): string {
  return s.replace(/[\u0000-\u001f"\\]/g, (c) => {
    switch (c) {
      case '\b': return '\\b';
      case '\t': return '\\t';
      case '\n': return '\\n';
      case '\f': return '\\f';
      case '\r': return '\\r';
      case '"': return '\\"';
      case '\\': return '\\\\';
      default: return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    }
  });
}

/**
 * A number as Python's `str()` prints it. JavaScript cannot tell `2` from `2.0`, so integral values print as
 * integers; other values use Python's float repr (scientific below 1e-4, `inf`, `nan`).
 */
export function pythonNumber(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return String(n);
  const [mantissa, expText] = n.toExponential().split('e');
  const e = Number(expText);
  if (e >= -4 && e < 16) return String(n);
  return `${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value instanceof Map ? Object.fromEntries(value) : value);
  } catch {
    return String(value);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// text → dict

/** A syntax error at a position of the text (0-based `char`, 1-based `line` and `col`, as pyparsing counts). */
export class HoconParseError extends Error {
  readonly line: number;
  readonly col: number;
  constructor(readonly text: string, readonly char: number, readonly reason: string) {
    super(`${reason} (at char ${char}, line:${lineOf(text, char)}, col:${colOf(text, char)})`);
    this.name = 'HoconParseError';
    this.line = lineOf(text, char);
    this.col = colOf(text, char);
  }
}

/** The text parsed but could not be resolved (a missing `${path}`, a cycle, values that cannot be concatenated). */
export class HoconResolveError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HoconResolveError';
  }
}

function lineOf(text: string, loc: number): number {
  let n = 1;
  for (let i = 0; i < loc && i < text.length; i++) if (text[i] === '\n') n++;
  return n;
}

function colOf(text: string, loc: number): number {
  if (loc > 0 && loc < text.length && text[loc - 1] === '\n') return 1;
  return loc - text.lastIndexOf('\n', loc - 1);
}

export interface ParseOptions {
  /** Where unresolved `${NAME}` substitutions fall back to; defaults to `process.env` where there is one. */
  env?: Record<string, string | undefined>;
}

/**
 * Parses configuration text to a plain object as ClearML's `text_to_config_dict` does (a text that is a list gives
 * a list). Errors are `UsageError`s with ClearML's messages:
 * `Could not parse configuration text (at char N, line:L, col:C):\n<text>` or `Could not parse configuration text:\n<text>`.
 */
export function textToConfigDict(text: unknown, options: ParseOptions = {}): HoconValue {
  if (typeof text !== 'string') throw new UsageError('Model configuration parsing only supports string');
  try {
    return parseHocon(text, options);
  } catch (err) {
    if (err instanceof HoconParseError) {
      throw new UsageError(`Could not parse configuration text (at char ${err.char}, line:${err.line}, col:${err.col}):\n${text}`, { cause: err });
    }
    throw new UsageError(`Could not parse configuration text:\n${text}`, { cause: err });
  }
}

/** Parses HOCON; throws `HoconParseError` (with position) or `HoconResolveError`. */
export function parseHocon(text: string, options: ParseOptions = {}): HoconValue {
  const env = options.env ?? (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  const root = new Parser(text).parseRoot();
  return new Resolver(root, env).run();
}

// The parse tree keeps substitutions unresolved; `Pending` is a value with at least one `${...}` in it.
type Node = string | number | boolean | null | NodeList | NodeObject | Pending;
interface NodeList { kind: 'list'; items: Node[] }
interface NodeObject { kind: 'object'; map: Map<string, Node> }
interface Token { kind: 'quoted' | 'unquoted' | 'scalar' | 'subst' | 'object' | 'list'; value: unknown; ws: string }
interface Subst { path: string[]; optional: boolean; raw: string }
class Pending {
  constructor(
    readonly tokens: Token[],
    /** The value this assignment replaced: what a self-reference (`a = ${a} x`) reads. */
    readonly previous: Node | undefined,
    readonly path: string[],
  ) {}
}

const obj = (): NodeObject => ({ kind: 'object', map: new Map() });
const isObj = (n: unknown): n is NodeObject => typeof n === 'object' && n !== null && (n as NodeObject).kind === 'object';
const isList = (n: unknown): n is NodeList => typeof n === 'object' && n !== null && (n as NodeList).kind === 'list';

class Parser {
  private pos = 0;
  constructor(private readonly text: string) {}

  parseRoot(): NodeObject | NodeList {
    this.skipBlank(false);
    let root: NodeObject | NodeList;
    if (this.peek() === '[') {
      root = this.parseList([]);
    } else if (this.peek() === '{') {
      this.pos++;
      root = this.parseObjectBody('}', []);
      this.expect('}');
    } else {
      root = this.parseObjectBody(undefined, []);
    }
    this.skipBlank(true);
    if (this.pos < this.text.length) this.fail('Expected end of text');
    return root;
  }

  private peek(offset = 0): string {
    return this.text[this.pos + offset] ?? '';
  }

  private fail(reason: string, at = this.pos): never {
    throw new HoconParseError(this.text, at, reason);
  }

  private expect(ch: string): void {
    if (this.peek() !== ch) this.fail(`Expected "${ch}"`);
    this.pos++;
  }

  private skipSpaces(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }

  private atComment(): boolean {
    return this.peek() === '#' || (this.peek() === '/' && this.peek(1) === '/');
  }

  private skipComment(): void {
    while (this.pos < this.text.length && this.peek() !== '\n' && this.peek() !== '\r') this.pos++;
  }

  /** Skips white space, new lines and comments, and commas too when `commas`. */
  private skipBlank(commas: boolean): void {
    for (;;) {
      const c = this.peek();
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || (commas && c === ',')) this.pos++;
      else if (this.atComment()) this.skipComment();
      else return;
    }
  }

  private parseObjectBody(close: '}' | undefined, basePath: string[]): NodeObject {
    const target = obj();
    for (;;) {
      this.skipBlank(true);
      if (this.pos >= this.text.length) {
        if (close) this.fail(`Expected "${close}"`);
        return target;
      }
      if (close && this.peek() === close) return target;
      this.parseField(target, basePath);
    }
  }

  private parseField(target: NodeObject, basePath: string[]): void {
    const keyStart = this.pos;
    const path = this.parseKey();
    if (!path.length) this.fail('Expected a key', keyStart);
    this.skipBlank(false);
    let value: Node;
    let append = false;
    if (this.peek() === '{') {
      value = this.parseValue([...basePath, ...path]);
    } else if (this.peek() === '=' || this.peek() === ':' || (this.peek() === '+' && this.peek(1) === '=')) {
      append = this.peek() === '+';
      this.pos += append ? 2 : 1;
      this.skipBlank(false);
      value = this.parseValue([...basePath, ...path]);
    } else {
      this.fail('Expected "=", ":" or "{"');
    }
    assign(target, path, value, append, [...basePath, ...path]);
  }

  /** A key: bare segments split on `.`, quoted segments kept whole; spaces before the `=` are not part of it. */
  private parseKey(): string[] {
    const segments: string[] = [];
    let current = '';
    let any = false;
    for (;;) {
      const c = this.peek();
      if (c === '"') {
        current += this.readQuoted();
        any = true;
      } else if (c === '.') {
        segments.push(current);
        current = '';
        this.pos++;
      } else if (c && !KEY_STOP.has(c) && !(c === '/' && this.peek(1) === '/') && !(c === ' ' && this.keyEndsHere())) {
        current += c;
        any = true;
        this.pos++;
      } else {
        break;
      }
    }
    if (!any) return [];
    segments.push(current);
    return segments;
  }

  /** True when only spaces are left before the `=`, `:`, `+=`, `{` or comment that ends a key. */
  private keyEndsHere(): boolean {
    let i = this.pos;
    while (this.text[i] === ' ' || this.text[i] === '\t') i++;
    const c = this.text[i];
    return c === undefined || c === '=' || c === ':' || c === '{' || c === '\n' || c === '\r' || c === '#' || (c === '+' && this.text[i + 1] === '=') || (c === '/' && this.text[i + 1] === '/');
  }

  /** A value: one or more tokens on the same line, concatenated. */
  private parseValue(path: string[]): Node {
    const tokens: Token[] = [];
    for (;;) {
      this.skipSpaces();
      const c = this.peek();
      if (!c || c === '\n' || c === '\r' || c === ',' || c === '}' || c === ']') break;
      if (this.atComment()) {
        this.skipComment();
        break;
      }
      if (c === '\\' && (this.peek(1) === '\n' || this.peek(1) === '\r')) {
        this.pos += 2;
        continue;
      }
      tokens.push(this.parseToken(path));
    }
    if (!tokens.length) return '';
    return concatenate(tokens, path, undefined);
  }

  private parseToken(path: string[]): Token {
    const c = this.peek();
    const start = this.pos;
    if (c === '$' && this.peek(1) === '{') {
      const end = this.text.indexOf('}', this.pos);
      if (end < 0) this.fail('Unterminated substitution');
      const inner = this.text.slice(this.pos + 2, end);
      this.pos = end + 1;
      const optional = inner.startsWith('?');
      const expr = (optional ? inner.slice(1) : inner).trim();
      if (!expr) this.fail('Empty substitution', start);
      const subst: Subst = { path: splitPath(expr), optional, raw: this.text.slice(start, end + 1) };
      return { kind: 'subst', value: subst, ws: this.readWs() };
    }
    if (c === '{') {
      this.pos++;
      const body = this.parseObjectBody('}', path);
      this.expect('}');
      return { kind: 'object', value: body, ws: this.readWs() };
    }
    if (c === '[') return { kind: 'list', value: this.parseList(path), ws: this.readWs() };
    if (this.text.startsWith('"""', this.pos)) {
      const end = this.text.indexOf('"""', this.pos + 3);
      if (end < 0) this.fail('Unterminated multi-line string');
      // Like pyhocon, extra quotes right before the closing """ belong to the string.
      let close = end;
      while (this.text[close + 3] === '"') close++;
      const value = this.text.slice(this.pos + 3, close);
      this.pos = close + 3;
      return { kind: 'quoted', value, ws: this.readWs() };
    }
    if (c === '"') {
      const value = this.readQuoted();
      return { kind: 'quoted', value, ws: this.readWs() };
    }
    NUMBER_RE.lastIndex = this.pos;
    const num = NUMBER_RE.exec(this.text);
    if (num) {
      this.pos += num[0].length;
      return { kind: 'scalar', value: Number(num[0]), ws: this.readWs() };
    }
    for (const [word, value] of [['true', true], ['false', false], ['null', null]] as const) {
      const next = this.text[this.pos + word.length] ?? '';
      if (this.text.slice(this.pos, this.pos + word.length).toLowerCase() === word && !/[\w$]/.test(next)) {
        this.pos += word.length;
        return { kind: 'scalar', value, ws: this.readWs() };
      }
    }
    let value = '';
    while (this.pos < this.text.length) {
      const ch = this.peek();
      if (ch === '\\' && this.pos + 1 < this.text.length && this.peek(1) !== '\n' && this.peek(1) !== '\r') {
        value += unescapeOne(this.peek(1));
        this.pos += 2;
        continue;
      }
      if (/\s/.test(ch) || UNQUOTED_STOP.has(ch)) break;
      value += ch;
      this.pos++;
    }
    if (this.pos === start) this.fail(`Unexpected "${c}"`);
    return { kind: 'unquoted', value, ws: this.readWs() };
  }

  private readWs(): string {
    const start = this.pos;
    this.skipSpaces();
    return this.text.slice(start, this.pos);
  }

  private readQuoted(): string {
    const start = this.pos;
    this.pos++;
    let out = '';
    for (;;) {
      const c = this.peek();
      if (!c || c === '\n' || c === '\r') this.fail('Unterminated string', start);
      this.pos++;
      if (c === '"') return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.peek();
      if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(this.text.slice(this.pos + 1, this.pos + 5))) {
        out += String.fromCharCode(parseInt(this.text.slice(this.pos + 1, this.pos + 5), 16));
        this.pos += 5;
        continue;
      }
      if (!e) this.fail('Unterminated string', start);
      out += unescapeOne(e);
      this.pos++;
    }
  }

  private parseList(path: string[]): NodeList {
    this.expect('[');
    const items: Node[] = [];
    for (;;) {
      this.skipBlank(true);
      if (this.peek() === ']') {
        this.pos++;
        return { kind: 'list', items };
      }
      if (this.pos >= this.text.length) this.fail('Expected "]"');
      const before = this.pos;
      const value = this.parseValue([...path, String(items.length)]);
      if (this.pos === before) this.fail('Expected a value');
      items.push(value);
      this.skipSpaces();
      const c = this.peek();
      if (c !== ',' && c !== '\n' && c !== '\r' && c !== ']' && !this.atComment()) this.fail('Expected "," or "]"');
    }
  }
}

function unescapeOne(c: string): string {
  switch (c) {
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'b': return '\b';
    case 'f': return '\f';
    default: return c;
  }
}

/** `a.b."c.d"` → ['a', 'b', 'c.d'] (a substitution's path). */
function splitPath(expr: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (c === '"') {
      const end = expr.indexOf('"', i + 1);
      cur += expr.slice(i + 1, end < 0 ? undefined : end);
      i = end < 0 ? expr.length : end;
    } else if (c === '.') {
      out.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

/** Builds a value from its tokens; leaves a `Pending` when a substitution is among them. */
function concatenate(tokens: Token[], path: string[], previous: Node | undefined): Node {
  if (tokens.some((t) => t.kind === 'subst')) return new Pending(tokens, previous, path);
  return combine(tokens.map((t) => ({ ...t })), path);
}

/** Joins resolved tokens: objects merge, lists concatenate, everything else joins as text (pyhocon's `transform`). */
function combine(tokens: Token[], path: string[]): Node {
  const present = tokens.filter((t) => !(t.kind === 'scalar' && t.value === undefined));
  if (!present.length) return null;
  const category = (t: Token) => (t.kind === 'object' ? 'object' : t.kind === 'list' ? 'list' : 'text');
  const first = category(present[0]);
  if (present.some((t) => category(t) !== first)) {
    throw new HoconResolveError(`Cannot concatenate ${present.map(category).join(' and ')} values at ${path.join('.') || '<root>'}`);
  }
  if (first === 'object') {
    const out = obj();
    for (const t of present) mergeInto(out, t.value as NodeObject);
    return out;
  }
  if (first === 'list') return { kind: 'list', items: present.flatMap((t) => (t.value as NodeList).items) };
  if (present.length === 1) {
    const t = present[0];
    return t.kind === 'unquoted' ? String(t.value).replace(/[ \t]+$/, '') : (t.value as Node);
  }
  return present.map((t, i) => textOf(t.value) + (i < present.length - 1 ? t.ws : '')).join('');
}

function textOf(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'number') return pythonNumber(v);
  return String(v);
}

function mergeInto(target: NodeObject, source: NodeObject): void {
  for (const [k, v] of source.map) {
    const existing = target.map.get(k);
    if (isObj(existing) && isObj(v)) mergeInto(existing, v);
    else if (v instanceof Pending && v.previous === undefined) target.map.set(k, new Pending(v.tokens, existing, v.path));
    else target.map.set(k, v);
  }
}

/** Puts a value at a dotted path: objects merge into objects, anything else replaces (last wins). */
function assign(target: NodeObject, path: string[], value: Node, append: boolean, fullPath: string[]): void {
  let node = target;
  for (const seg of path.slice(0, -1)) {
    let next = node.map.get(seg);
    if (!isObj(next)) {
      next = obj();
      node.map.set(seg, next);
    }
    node = next;
  }
  const key = path[path.length - 1];
  const existing = node.map.get(key);
  if (append) {
    // `a += x` is `a = ${?a} [x]` (HOCON); a text `a += x` appends with a space as pyhocon does.
    const self: Token = { kind: 'subst', value: { path: fullPath, optional: true, raw: '' } satisfies Subst, ws: '' };
    const added: Token = typeof value === 'string' ? { kind: 'quoted', value: ' ' + value, ws: '' } : { kind: 'list', value: isList(value) ? value : { kind: 'list', items: [value] }, ws: '' };
    node.map.set(key, new Pending([self, added], existing, fullPath));
    return;
  }
  if (isObj(existing) && isObj(value)) {
    mergeInto(existing, value);
    return;
  }
  if (value instanceof Pending) node.map.set(key, new Pending(value.tokens, existing, fullPath));
  else node.map.set(key, value);
}

class Resolver {
  private readonly resolving = new Set<Pending>();
  constructor(private readonly root: NodeObject | NodeList, private readonly env: Record<string, string | undefined>) {}

  run(): HoconValue {
    return this.plain(this.root);
  }

  private plain(node: Node | undefined): HoconValue {
    if (node instanceof Pending) return this.plain(this.resolvePending(node));
    if (isObj(node)) {
      const out: HoconObject = {};
      for (const [k, v] of node.map) {
        const resolved = v instanceof Pending ? this.resolvePending(v) : v;
        // An optional substitution that resolved to nothing removes the key.
        if (resolved === undefined) continue;
        out[k] = this.plain(resolved);
      }
      return out;
    }
    if (isList(node)) return node.items.map((i) => this.plain(i));
    return node === undefined ? null : node;
  }

  private resolvePending(p: Pending): Node | undefined {
    if (this.resolving.has(p)) throw new HoconResolveError(`Cannot resolve ${p.path.join('.')}: substitution cycle`);
    this.resolving.add(p);
    try {
      const tokens: Token[] = [];
      for (const t of p.tokens) {
        if (t.kind !== 'subst') {
          tokens.push(t);
          continue;
        }
        const s = t.value as Subst;
        const selfRef = startsWith(p.path, s.path);
        let found = selfRef ? this.fromPrevious(p, s.path) : this.lookup(s.path);
        if (found === undefined) found = this.env[s.path.join('.')];
        if (found === undefined) {
          if (s.optional) continue;
          throw new HoconResolveError(`Cannot resolve variable ${s.raw || '${' + s.path.join('.') + '}'}`);
        }
        tokens.push(tokenOf(found, t.ws));
      }
      if (!tokens.length) return undefined;
      return combine(tokens, p.path);
    } finally {
      this.resolving.delete(p);
    }
  }

  /** `a = ${a} x` reads the value `a` had before this assignment. */
  private fromPrevious(p: Pending, path: string[]): Node | undefined {
    let node: Node | undefined = p.previous;
    for (const seg of path.slice(p.path.length)) {
      if (node instanceof Pending) node = this.resolvePending(node);
      if (!isObj(node)) return undefined;
      node = node.map.get(seg);
    }
    return node instanceof Pending ? this.resolvePending(node) : node;
  }

  private lookup(path: string[]): Node | undefined {
    let node: Node | undefined = this.root;
    for (const seg of path) {
      if (node instanceof Pending) node = this.resolvePending(node);
      if (isList(node)) {
        node = /^\d+$/.test(seg) ? node.items[Number(seg)] : undefined;
        continue;
      }
      if (!isObj(node)) return undefined;
      node = node.map.get(seg);
    }
    return node instanceof Pending ? this.resolvePending(node) : node;
  }
}

function startsWith(path: string[], prefix: string[]): boolean {
  return prefix.length <= path.length && prefix.every((s, i) => path[i] === s);
}

function tokenOf(node: Node, ws: string): Token {
  if (isObj(node)) return { kind: 'object', value: node, ws };
  if (isList(node)) return { kind: 'list', value: node, ws };
  if (typeof node === 'string') return { kind: 'quoted', value: node, ws };
  return { kind: 'scalar', value: node, ws };
}
