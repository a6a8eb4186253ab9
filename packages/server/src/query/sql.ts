import { sql, type RawBuilder } from 'kysely';
import type { DialectName } from '../db/database.js';
import { compileRegex } from '../db/regex.js';

/** A piece of SQL with its parameters. Every query of the engine aliases its table as `t`. */
export type Sql = RawBuilder<unknown>;

export const TRUE: Sql = sql`1 = 1`;
export const FALSE: Sql = sql`1 = 0`;

export function and(parts: readonly Sql[]): Sql {
  if (!parts.length) return TRUE;
  if (parts.length === 1) return parts[0]!;
  return sql`(${sql.join(parts, sql` and `)})`;
}

export function or(parts: readonly Sql[]): Sql {
  if (!parts.length) return FALSE;
  if (parts.length === 1) return parts[0]!;
  return sql`(${sql.join(parts, sql` or `)})`;
}

export function not(part: Sql): Sql {
  return sql`not (${part})`;
}

export function column(name: string, alias = 't'): Sql {
  return sql.ref(`${alias}.${name}`);
}

function list(values: readonly unknown[]): Sql {
  return sql`(${sql.join(values.map((v) => sql`${v}`))})`;
}

/**
 * Something a filter can test:
 * - `scalar`: one value per row (a column or a JSON path), null when missing;
 * - `array`: a JSON array of strings in a column (tags);
 * - `objectArray`: `key` of each object in the JSON array at `path` of a column (`models.input[].model`).
 */
export type Operand =
  | { kind: 'scalar'; expr: Sql; text: boolean }
  | { kind: 'array'; column: string }
  | { kind: 'objectArray'; column: string; path: readonly string[]; key: string };

/** SQL that differs between SQLite and PostgreSQL, for the engine's filters, ordering and projections. */
export class Dialect {
  constructor(readonly name: DialectName) {}

  get pg(): boolean {
    return this.name === 'postgres';
  }

  /** The text at a JSON path (`null` when missing). */
  jsonText(col: string, path: readonly string[]): Sql {
    if (this.pg) return sql`(${column(col)} #>> ${[...path]}::text[])`;
    return sql`json_extract(${column(col)}, ${sqlitePath(path)})`;
  }

  /** The number at a JSON path (`null` when missing or not a number). */
  jsonNumber(col: string, path: readonly string[]): Sql {
    if (this.pg) {
      const at = sql`(${column(col)} #> ${[...path]}::text[])`;
      return sql`(case when jsonb_typeof(${at}) = 'number' then (${at})::numeric end)`;
    }
    const at = sql`json_extract(${column(col)}, ${sqlitePath(path)})`;
    return sql`(case when typeof(${at}) in ('integer', 'real') then ${at} end)`;
  }

  /** True when the JSON value at the path equals `value`. */
  jsonEquals(col: string, path: readonly string[], value: unknown): Sql {
    if (this.pg) return sql`(${column(col)} #> ${[...path]}::text[]) = ${JSON.stringify(value)}::jsonb`;
    const at = sql`json_extract(${column(col)}, ${sqlitePath(path)})`;
    if (typeof value === 'boolean') return sql`(${at} = ${value ? 1 : 0} and json_type(${column(col)}, ${sqlitePath(path)}) = ${value ? 'true' : 'false'})`;
    return sql`${at} = ${value}`;
  }

  /** Rows of `v` holding the elements of an array operand. */
  elements(op: Exclude<Operand, { kind: 'scalar' }>): Sql {
    if (op.kind === 'array') {
      if (this.pg) return sql`select e.v from jsonb_array_elements_text(case when jsonb_typeof(${column(op.column)}) = 'array' then ${column(op.column)} else '[]'::jsonb end) as e(v)`;
      return sql`select e.value as v from json_each(${column(op.column)}) as e`;
    }
    if (this.pg) {
      const arr = sql`(${column(op.column)} #> ${[...op.path]}::text[])`;
      return sql`select e.o ->> ${op.key} as v from jsonb_array_elements(case when jsonb_typeof(${arr}) = 'array' then ${arr} else '[]'::jsonb end) as e(o)`;
    }
    return sql`select json_extract(e.value, ${sqlitePath([op.key])}) as v from json_each(${column(op.column)}, ${sqlitePath(op.path)}) as e`;
  }

  /** The operand holds any of `values`. */
  anyOf(op: Operand, values: readonly unknown[]): Sql {
    if (!values.length) return FALSE;
    if (op.kind === 'scalar') return values.length === 1 ? sql`${op.expr} = ${values[0]}` : sql`${op.expr} in ${list(values)}`;
    // `?|` is answered from a GIN index on the column.
    if (op.kind === 'array' && this.pg) return sql`${column(op.column)} ?| ${values.map(String)}::text[]`;
    const exact = sql`exists (select 1 from (${this.elements(op)}) as x where x.v in ${list(values)})`;
    const quick = op.kind === 'array' ? this.jsonTextMayHold(op.column, values) : undefined;
    return quick ? sql`(${quick} and ${exact})` : exact;
  }

  /**
   * SQLite: a cheap test on the stored JSON text that rules out most rows before the exact test parses the
   * array: a plain string value can only be an element if its JSON form `"value"` occurs in the text.
   * Undefined when some value is not plain (its JSON form would not be unique).
   */
  private jsonTextMayHold(col: string, values: readonly unknown[]): Sql | undefined {
    if (this.pg || !values.every((v) => typeof v === 'string' && /^[\x20-\x7e]*$/.test(v) && !/["\\]/.test(v))) return undefined;
    return or(values.map((v) => sql`instr(${column(col)}, ${JSON.stringify(v)}) > 0`));
  }

  /** The operand holds none of `values` (a missing value holds none). */
  noneOf(op: Operand, values: readonly unknown[]): Sql {
    if (!values.length) return TRUE;
    if (op.kind === 'scalar') return sql`(${op.expr} is null or ${op.expr} not in ${list(values)})`;
    return not(sql`coalesce(${this.anyOf(op, values)}, false)`);
  }

  /** The operand holds every one of `values`. */
  allOf(op: Operand, values: readonly unknown[]): Sql {
    const distinct = [...new Set(values)];
    if (!distinct.length) return TRUE;
    if (op.kind === 'scalar') return and(distinct.map((v) => sql`${op.expr} = ${v}`));
    if (op.kind === 'array' && this.pg) return sql`coalesce(${column(op.column)} ?& ${distinct.map(String)}::text[], false)`;
    const exact = sql`(select count(distinct x.v) from (${this.elements(op)}) as x where x.v in ${list(distinct)}) = ${distinct.length}`;
    const quick = op.kind === 'array' ? distinct.map((v) => this.jsonTextMayHold(op.column, [v])) : [];
    return quick.length && quick.every(Boolean) ? and([...(quick as Sql[]), exact]) : exact;
  }

  /** The operand is missing, null, empty text or an empty array. */
  empty(op: Operand): Sql {
    if (op.kind === 'scalar') return op.text ? sql`(${op.expr} is null or ${op.expr} = '')` : sql`${op.expr} is null`;
    if (op.kind === 'array') {
      if (this.pg) return sql`(${column(op.column)} is null or ${column(op.column)} = '[]'::jsonb)`;
      return sql`(${column(op.column)} is null or json_array_length(${column(op.column)}) = 0)`;
    }
    return sql`not exists (${this.elements(op)})`;
  }

  /**
   * A (Python-style) regular expression match; validated first so a bad pattern is the client's error.
   * Null (not false) for a missing value: callers that negate a match must coalesce it.
   */
  regex(op: Operand, pattern: string, caseInsensitive: boolean): Sql {
    compileRegex(pattern, caseInsensitive);
    if (op.kind === 'scalar') {
      // Left bare (no coalesce) so the planner can use a name index; a missing value matches nothing anyway.
      const literal = literalMatch(this, op.expr, pattern, caseInsensitive);
      if (literal) return literal;
    }
    const match = (expr: Sql) => {
      // PostgreSQL has no regex operator for numbers; every value is matched as its text.
      if (this.pg) return caseInsensitive ? sql`(${expr})::text ~* ${pattern}` : sql`(${expr})::text ~ ${pattern}`;
      return caseInsensitive ? sql`regexp_i(${pattern}, ${expr})` : sql`regexp(${pattern}, ${expr})`;
    };
    if (op.kind === 'scalar') return match(op.expr);
    return sql`exists (select 1 from (${this.elements(op)}) as x where ${match(sql`x.v`)})`;
  }

  /** Case-insensitive substring (search_text). */
  contains(expr: Sql, text: string): Sql {
    if (this.pg) return sql`strpos(lower(${expr}), ${text.toLowerCase()}) > 0`;
    return sql`instr(lower(${expr}), ${text.toLowerCase()}) > 0`;
  }

  /** A text operand that sorts numerically when it holds a number: ordering keys, most significant first. */
  numericAwareKeys(expr: Sql): Sql[] {
    if (this.pg) {
      const isNumber = sql`(${expr} ~ '^\\s*-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?\\s*$')`;
      return [sql`(case when ${isNumber} then 0 else 1 end)`, sql`(case when ${isNumber} then (${expr})::float8 end)`, expr];
    }
    const isNumber = sql`(typeof(${expr}) in ('integer', 'real') or (ltrim(${expr}, '-') glob '[0-9]*' and not ltrim(${expr}, '-') glob '*[^0-9.]*'))`;
    return [sql`(case when ${isNumber} then 0 else 1 end)`, sql`(case when ${isNumber} then cast(${expr} as real) end)`, expr];
  }
}

const REGEX_SPECIALS = new Set([...'.^$*+?{}[]|()']);

/**
 * The literal text a pattern matches, when it is one: `^name$` (what the SDK sends for exact names, with
 * Python's `re.escape`), `^prefix`, `text$` or plain `text`. Undefined for anything using regex syntax.
 */
export function regexLiteral(pattern: string): { text: string; start: boolean; end: boolean } | undefined {
  let body = pattern;
  const start = body.startsWith('^');
  if (start) body = body.slice(1);
  let end = false;
  if (body.endsWith('$')) {
    let slashes = 0;
    for (let i = body.length - 2; i >= 0 && body[i] === '\\'; i--) slashes++;
    if (slashes % 2 === 0) {
      end = true;
      body = body.slice(0, -1);
    }
  }
  let text = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\') {
      const next = body[i + 1];
      // `\d`, `\w`, `\1`, ... are classes and references, not escaped characters.
      if (next === undefined || /[0-9A-Za-z]/.test(next)) return undefined;
      text += next;
      i++;
    } else if (REGEX_SPECIALS.has(c)) {
      return undefined;
    } else {
      text += c;
    }
  }
  return { text, start, end };
}

/**
 * Literal patterns as plain SQL instead of a regex per row: equality for `^name$` (served by the name
 * indexes), a prefix test for `^prefix` (GLOB on SQLite, which the planner turns into an index range;
 * LIKE on PostgreSQL), and substring search for the rest. On SQLite the regex is a JavaScript callback, on
 * PostgreSQL a general matcher: both are several times slower than these. Case-insensitive forms are used
 * only for ASCII text, where SQL's `lower` agrees with the regex's case folding.
 */
function literalMatch(d: Dialect, expr: Sql, pattern: string, caseInsensitive: boolean): Sql | undefined {
  const literal = regexLiteral(pattern);
  if (!literal) return undefined;
  const { text, start, end } = literal;
  const value = d.pg ? sql`(${expr})::text` : expr;
  if (!text && !(start && end)) return sql`${value} is not null`;
  // eslint-disable-next-line no-control-regex
  if (caseInsensitive && !/^[\x00-\x7f]*$/.test(text)) return undefined;
  const subject = caseInsensitive ? sql`lower(${value})` : value;
  const needle = caseInsensitive ? text.toLowerCase() : text;
  const chars = [...needle].length;
  if (start && end) return sql`${subject} = ${needle}`;
  if (start) {
    if (caseInsensitive) return sql`substr(${subject}, 1, ${chars}) = ${needle}`;
    if (d.pg) return sql`${subject} like ${needle.replace(/[\\%_]/g, (c) => `\\${c}`) + '%'}`;
    return sql`${subject} glob ${needle.replace(/[*?[]/g, (c) => `[${c}]`) + '*'}`;
  }
  if (end) return d.pg ? sql`right(${subject}, ${chars}) = ${needle}` : sql`substr(${subject}, ${-chars}) = ${needle}`;
  return d.pg ? sql`strpos(${subject}, ${needle}) > 0` : sql`instr(${subject}, ${needle}) > 0`;
}

/** `$."a"."b"` with each label quoted, so keys holding dots, quotes or backslashes stay one label. */
export function sqlitePath(path: readonly string[]): string {
  return '$' + path.map((p) => '."' + p.replaceAll('\\', '\\\\').replaceAll('"', '\\"') + '"').join('');
}
