/**
 * The command line a task recorded (`<script.binary> <script.entry_point>`, words shell-quoted by the SDK), split
 * into the program and its arguments as a POSIX shell would split it. The agent runs it without a shell, so what
 * the task records is run as recorded: no expansion, redirection or chaining.
 */

export class CommandSyntaxError extends Error {}

/** Splits on unquoted white space; single quotes are literal, double quotes and backslashes escape as in sh. */
export function splitCommand(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
      continue;
    }
    if (c === '\\') {
      const next = line[i + 1];
      if (next === undefined) throw new CommandSyntaxError(`the command ends with a lone backslash: ${line}`);
      i++;
      // Inside double quotes a backslash only escapes what would otherwise be special there.
      word = (word ?? '') + (quote === '"' && !'"\\$`'.includes(next) ? `\\${next}` : next);
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = undefined;
      else word += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      word ??= '';
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (quote) throw new CommandSyntaxError(`the command has an unclosed ${quote} quote: ${line}`);
  if (word !== undefined) words.push(word);
  return words;
}
